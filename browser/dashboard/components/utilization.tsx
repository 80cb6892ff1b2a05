/** Running tasks against the cores the application had, over time: are the executors busy? */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { AppTimeline } from '../../../host/ui/types.js';
import { duration } from '../format.js';
import { useWidth } from './size.js';

/** Step series sampled onto one time axis. */
function merge(a: Array<[number, number]>, b: Array<[number, number]>, end: number): uPlot.AlignedData {
  const times = [...new Set([...a.map((p) => p[0]), ...b.map((p) => p[0]), end])].sort((x, y) => x - y);
  const at = (s: Array<[number, number]>) => {
    let i = 0;
    let v = 0;
    return times.map((t) => {
      while (i < s.length && s[i]![0] <= t) v = s[i++]![1];
      return v;
    });
  };
  return [times.map((t) => t / 1000), at(a), at(b)];
}

export function Utilization(props: { data: AppTimeline; now: number }) {
  const [wrap, width] = useWidth<HTMLDivElement>();
  const plot = useRef<uPlot | null>(null);
  const end = props.data.end ?? props.now;
  const start = props.data.start;
  const aligned = merge(props.data.running, props.data.totalCores, end);
  useEffect(() => {
    if (!wrap.current || width === 0) return;
    if (!plot.current) {
      const stepped = uPlot.paths.stepped!({ align: 1 });
      plot.current = new uPlot(
        {
          width,
          height: 150,
          legend: { show: true },
          cursor: { drag: { x: false, y: false } },
          scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
          axes: [
            // Time since the application started, as the event timeline above counts it.
            { stroke: '#64748b', grid: { stroke: '#eef2f7' }, values: (_u, splits) => splits.map((s) => `+${duration(s * 1000 - start)}`) },
            { stroke: '#64748b', grid: { stroke: '#eef2f7' }, size: 40 },
          ],
          series: [
            {},
            { label: 'running tasks', stroke: '#2563eb', fill: 'rgba(37,99,235,0.15)', paths: stepped, width: 1.5, points: { show: false } },
            { label: 'cores', stroke: '#94a3b8', dash: [4, 4], paths: stepped, width: 1.5, points: { show: false } },
          ],
        },
        aligned,
        wrap.current,
      );
    } else {
      plot.current.setSize({ width, height: 150 });
      plot.current.setData(aligned);
    }
  });
  useEffect(() => () => plot.current?.destroy(), []);
  return <div ref={wrap} class="utilization" />;
}
