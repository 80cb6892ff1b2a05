/**
 * A stage's task timeline on a canvas: a lane per executor, a row per task slot, each task a bar
 * split into its phases. The server sends tasks when the window holds few and per-pixel phase
 * shares when it holds many, so 100,000 tasks draw as fast as 100. Drag across it to zoom in.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { PHASES, type Phase, type TaskTimeline as Timeline, type TimelineTask } from '../../../host/ui/types.js';
import { api, getJson } from '../api.js';
import { duration, time } from '../format.js';
import { useWidth } from './size.js';

export const PHASE_COLORS: Record<Phase, string> = {
  schedulerDelay: '#94a3b8',
  fetchWait: '#f59e0b',
  compute: '#3b82f6',
  shuffleWrite: '#8b5cf6',
  resultSend: '#10b981',
};

export const PHASE_LABELS: Record<Phase, string> = {
  schedulerDelay: 'scheduler delay (sent ahead, queued, transport)',
  fetchWait: 'waiting for shuffle fetches',
  compute: 'computing',
  shuffleWrite: 'writing shuffle output',
  resultSend: 'sending the result',
};

const LABEL_W = 132;
const ROW_H = 14;
const LANE_GAP = 8;
const AXIS_H = 22;

function decode(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

interface Geometry {
  laneTop: number[];
  height: number;
}

function geometry(t: Timeline): Geometry {
  const laneTop: number[] = [];
  let y = 4;
  for (const lane of t.lanes) {
    laneTop.push(y);
    y += lane.rows * ROW_H + LANE_GAP;
  }
  return { laneTop, height: y + AXIS_H };
}

export function TaskTimeline(props: { appId: string; stageId: number; attempt: number; version: number; running: boolean }) {
  const [wrap, width] = useWidth<HTMLDivElement>();
  const canvas = useRef<HTMLCanvasElement>(null);
  const [zoom, setZoom] = useState<{ from: number; to: number } | null>(null);
  const [data, setData] = useState<Timeline | null>(null);
  const [hover, setHover] = useState<{ x: number; y: number; task: TimelineTask } | null>(null);
  const drag = useRef<{ x0: number; x1: number } | null>(null);
  const [dragBox, setDragBox] = useState<{ a: number; b: number } | null>(null);
  const plotW = Math.max(50, width - LABEL_W - 8);

  useEffect(() => {
    if (width === 0) return;
    let cancelled = false;
    const q = new URLSearchParams({ bins: String(Math.round(plotW)) });
    if (zoom) {
      q.set('from', String(zoom.from));
      q.set('to', String(zoom.to));
    }
    getJson<Timeline>(api(props.appId, `/stages/${props.stageId}/${props.attempt}/taskTimeline?${q}`)).then(
      (d) => !cancelled && setData(d),
      () => undefined,
    );
    return () => {
      cancelled = true;
    };
  }, [props.appId, props.stageId, props.attempt, props.version, zoom?.from, zoom?.to, width]);

  const g = data ? geometry(data) : null;
  const xOf = (t: number) => (data ? LABEL_W + ((t - data.from) / (data.to - data.from)) * plotW : 0);
  const tOf = (x: number) => (data ? data.from + ((x - LABEL_W) / plotW) * (data.to - data.from) : 0);

  useEffect(() => {
    const c = canvas.current;
    if (!c || !data || !g) return;
    const dpr = globalThis.devicePixelRatio || 1;
    c.width = Math.round(width * dpr);
    c.height = Math.round(g.height * dpr);
    c.style.width = `${width}px`;
    c.style.height = `${g.height}px`;
    const ctx = c.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, g.height);
    ctx.font = '11px system-ui, sans-serif';
    data.lanes.forEach((lane, i) => {
      const top = g.laneTop[i]!;
      const h = lane.rows * ROW_H;
      ctx.fillStyle = i % 2 === 0 ? '#f8fafc' : '#ffffff';
      ctx.fillRect(0, top - 2, width, h + 4);
      ctx.fillStyle = '#334155';
      ctx.fillText(lane.executorId.length > 16 ? `${lane.executorId.slice(0, 15)}…` : lane.executorId, 6, top + 11);
      ctx.fillStyle = '#94a3b8';
      if (h >= 2 * ROW_H) ctx.fillText(`${lane.kind} · ${lane.host}`.slice(0, 20), 6, top + 11 + ROW_H);
    });
    if (data.mode === 'tasks') {
      for (const t of data.tasks ?? []) {
        const top = g.laneTop[t.lane]! + t.row * ROW_H + 1;
        let at = t.start;
        for (let p = 0; p < PHASES.length; p++) {
          const d = t.phases[p]!;
          if (d <= 0) continue;
          const x0 = xOf(at);
          const x1 = xOf(at + d);
          at += d;
          ctx.fillStyle = PHASE_COLORS[PHASES[p]!];
          ctx.fillRect(x0, top, Math.max(0.5, x1 - x0), ROW_H - 3);
        }
        if (t.status === 'RUNNING') {
          ctx.strokeStyle = '#1d4ed8';
          ctx.setLineDash([3, 2]);
          ctx.strokeRect(xOf(t.start) + 0.5, top + 0.5, Math.max(1, xOf(at) - xOf(t.start) - 1), ROW_H - 4);
          ctx.setLineDash([]);
        } else if (t.status === 'FAILED' || t.status === 'KILLED') {
          ctx.strokeStyle = t.status === 'FAILED' ? '#dc2626' : '#475569';
          ctx.lineWidth = 1.5;
          ctx.strokeRect(xOf(t.start) + 0.5, top + 0.5, Math.max(1, xOf(at) - xOf(t.start) - 1), ROW_H - 4);
          ctx.lineWidth = 1;
        }
      }
    } else if (data.bins && data.binCount) {
      const P = PHASES.length;
      const bw = plotW / data.binCount;
      data.bins.forEach((rows, lane) =>
        rows.forEach((b64, row) => {
          const cells = decode(b64);
          const base = g.laneTop[lane]! + row * ROW_H + ROW_H - 2;
          for (let bin = 0; bin < data.binCount!; bin++) {
            let y = base;
            for (let p = 0; p < P; p++) {
              const v = cells[bin * P + p]!;
              if (v === 0) continue;
              const h = ((ROW_H - 3) * v) / 255;
              ctx.fillStyle = PHASE_COLORS[PHASES[p]!];
              ctx.fillRect(LABEL_W + bin * bw, y - h, Math.max(0.6, bw), h);
              y -= h;
            }
          }
        }),
      );
    }
    // Time axis.
    const axisY = g.height - AXIS_H + 4;
    ctx.strokeStyle = '#cbd5e1';
    ctx.beginPath();
    ctx.moveTo(LABEL_W, axisY);
    ctx.lineTo(LABEL_W + plotW, axisY);
    ctx.stroke();
    ctx.fillStyle = '#64748b';
    const ticks = Math.max(2, Math.min(8, Math.floor(plotW / 110)));
    for (let i = 0; i <= ticks; i++) {
      const t = data.from + ((data.to - data.from) * i) / ticks;
      const x = xOf(t);
      ctx.fillRect(x, axisY, 1, 4);
      const label = i === 0 ? time(t) : `+${duration(t - data.from)}`;
      ctx.textAlign = i === 0 ? 'left' : i === ticks ? 'right' : 'center';
      ctx.fillText(label, x, axisY + 15);
    }
    ctx.textAlign = 'left';
  });

  const taskAt = (x: number, y: number): TimelineTask | null => {
    if (!data || !g || data.mode !== 'tasks') return null;
    const lane = g.laneTop.findIndex((top, i) => y >= top && y < top + data.lanes[i]!.rows * ROW_H);
    if (lane < 0) return null;
    const row = Math.floor((y - g.laneTop[lane]!) / ROW_H);
    const t = tOf(x);
    const slack = ((data.to - data.from) / plotW) * 2;
    return (data.tasks ?? []).find((k) => k.lane === lane && k.row === row && k.start - slack <= t && (k.end ?? data.to) + slack >= t) ?? null;
  };

  const local = (e: MouseEvent) => {
    const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };

  return (
    <div class="task-timeline">
      <div class="timeline-bar">
        <div class="legend">
          {PHASES.map((p) => (
            <span key={p} class="lg">
              <i style={{ background: PHASE_COLORS[p] }} />
              {PHASE_LABELS[p]}
            </span>
          ))}
        </div>
        <div class="timeline-info">
          {data && (
            <span class="muted" data-field="timeline-count">
              {data.taskCount.toLocaleString('en-US')} task{data.taskCount === 1 ? '' : 's'} shown{data.mode === 'bins' ? ' (aggregated per pixel; drag to zoom)' : ''}
            </span>
          )}
          {zoom && (
            <button class="btn" onClick={() => setZoom(null)}>
              Reset zoom
            </button>
          )}
        </div>
      </div>
      <div
        ref={wrap}
        class="timeline-canvas-wrap"
        onMouseDown={(e) => {
          const p = local(e);
          if (p.x < LABEL_W) return;
          drag.current = { x0: p.x, x1: p.x };
        }}
        onMouseMove={(e) => {
          const p = local(e);
          if (drag.current) {
            drag.current.x1 = p.x;
            setDragBox({ a: Math.min(drag.current.x0, p.x), b: Math.max(drag.current.x0, p.x) });
            return;
          }
          const task = taskAt(p.x, p.y);
          setHover(task ? { x: p.x, y: p.y, task } : null);
        }}
        onMouseUp={() => {
          const d = drag.current;
          drag.current = null;
          setDragBox(null);
          if (d && Math.abs(d.x1 - d.x0) > 4) setZoom({ from: tOf(Math.min(d.x0, d.x1)), to: tOf(Math.max(d.x0, d.x1)) });
        }}
        onMouseLeave={() => {
          drag.current = null;
          setDragBox(null);
          setHover(null);
        }}
      >
        <canvas ref={canvas} />
        {dragBox && <div class="drag-box" style={{ left: `${dragBox.a}px`, width: `${dragBox.b - dragBox.a}px` }} />}
        {hover && (
          <div class="tooltip" style={{ left: `${Math.min(hover.x + 12, width - 260)}px`, top: `${hover.y + 14}px` }}>
            <b>
              Task {hover.task.taskId} · partition {hover.task.partition}
              {hover.task.attempt > 0 ? ` · attempt ${hover.task.attempt}` : ''}
            </b>
            <div>
              {hover.task.status.toLowerCase()}
              {hover.task.speculative ? ' · speculative copy' : ''} · {duration((hover.task.end ?? data!.to) - hover.task.start)}
            </div>
            {PHASES.map((p, i) => (hover.task.phases[i]! > 0 ? <div key={p}><i style={{ background: PHASE_COLORS[p] }} /> {PHASE_LABELS[p]}: {duration(hover.task.phases[i]!)}</div> : null))}
          </div>
        )}
        {data && data.lanes.length === 0 && <div class="empty">No task has started yet.</div>}
      </div>
    </div>
  );
}
