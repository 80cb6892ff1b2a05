/**
 * The application's event timeline: executors arriving and leaving on top, jobs as bars below
 * (stacked when they overlap), coloured by outcome; a job's bar links to its page.
 */
import type { AppTimeline } from '../../../host/ui/types.js';
import { navigate } from '../api.js';
import { duration, time } from '../format.js';
import { useWidth } from './size.js';

const ROW = 22;
const PAD = 8;

export function EventTimeline(props: { data: AppTimeline; appId: string; now: number }) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const { data } = props;
  const start = data.start;
  const end = Math.max(start + 1, data.end ?? props.now);
  const w = Math.max(100, width - 2 * PAD);
  const x = (t: number) => PAD + ((Math.min(Math.max(t, start), end) - start) / (end - start)) * w;
  // Jobs stacked into rows by greedy interval packing.
  const rowEnds: number[] = [];
  const jobs = data.jobs
    .slice()
    .sort((a, b) => a.start - b.start)
    .map((j) => {
      const jEnd = j.end ?? props.now;
      let row = rowEnds.findIndex((e) => e < j.start);
      if (row < 0) row = rowEnds.push(0) - 1;
      rowEnds[row] = jEnd;
      return { ...j, row, jEnd };
    });
  const exY = 18;
  const jobsTop = 44;
  const height = jobsTop + Math.max(1, rowEnds.length) * ROW + 26;
  const ticks = 6;
  return (
    <div ref={ref} class="event-timeline">
      {width > 0 && (
        <svg width={width} height={height} role="img" aria-label="Event timeline">
          <text x={PAD} y={10} class="axis-label">
            executors
          </text>
          <line x1={PAD} x2={PAD + w} y1={exY + 6} y2={exY + 6} class="lane-line" />
          {data.executors.map((e) => (
            <g key={e.executorId}>
              <line x1={x(e.added)} x2={x(e.removed ?? end)} y1={exY + 6} y2={exY + 6} class={`ex-span kind-stroke-${e.kind}`} />
              <circle cx={x(e.added)} cy={exY + 6} r={4} class="ex-added">
                <title>{`executor ${e.executorId} (${e.kind}) added at ${time(e.added)}`}</title>
              </circle>
              {e.removed !== null && (
                <circle cx={x(e.removed)} cy={exY + 6} r={4} class="ex-removed">
                  <title>{`executor ${e.executorId} removed at ${time(e.removed)}${e.reason ? `: ${e.reason}` : ''}`}</title>
                </circle>
              )}
            </g>
          ))}
          <text x={PAD} y={jobsTop - 6} class="axis-label">
            jobs
          </text>
          {jobs.map((j) => {
            const x0 = x(j.start);
            const x1 = Math.max(x0 + 3, x(j.jEnd));
            return (
              <g key={j.jobId} class="job-bar-g" onClick={() => navigate(`/app/${encodeURIComponent(props.appId)}/jobs/${j.jobId}`)}>
                <rect x={x0} y={jobsTop + j.row * ROW} width={x1 - x0} height={ROW - 6} rx={3} class={`job-bar job-${j.status.toLowerCase()}`}>
                  <title>{`job ${j.jobId}: ${j.name}\n${j.status.toLowerCase()}, ${duration(j.jEnd - j.start)}`}</title>
                </rect>
                {x1 - x0 > 60 && (
                  <text x={x0 + 5} y={jobsTop + j.row * ROW + 12} class="job-bar-text">
                    {`${j.jobId}: ${j.name}`.slice(0, Math.floor((x1 - x0 - 8) / 6.5))}
                  </text>
                )}
              </g>
            );
          })}
          {Array.from({ length: ticks + 1 }, (_, i) => {
            const t = start + ((end - start) * i) / ticks;
            return (
              <text key={i} x={x(t)} y={height - 6} class="axis-tick" text-anchor={i === 0 ? 'start' : i === ticks ? 'end' : 'middle'}>
                {i === 0 ? time(t) : `+${duration(t - start)}`}
              </text>
            );
          })}
        </svg>
      )}
    </div>
  );
}
