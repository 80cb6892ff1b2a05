/**
 * The two pictures of an application that are not tables: a job's stage DAG (stages with the RDDs
 * each one pipelines, from the lineage recorded when the job started) and the application's event
 * timeline (jobs as bars, executors arriving and leaving, tasks running against cores available).
 */
import { stageStatusOf } from './rest-views.js';
import type { AppStatusStore, JobRec, Series } from './status-store.js';
import type { AppTimeline, JobGraph } from './types.js';

export function jobGraph(store: AppStatusStore, job: JobRec): JobGraph {
  const stages = job.stageIds
    .slice()
    .sort((a, b) => a - b)
    .map((stageId) => {
      const info = store.stageInfos.get(stageId);
      const attempts = info?.attempts ?? [];
      const status = job.skipped.has(stageId) ? 'SKIPPED' : stageStatusOf(store, stageId);
      return {
        stageId,
        name: info?.name ?? `stage ${stageId}`,
        status,
        attemptId: attempts.length > 0 ? attempts[attempts.length - 1]! : 0,
        kind: info?.kind ?? ('result' as const),
        numTasks: info?.numTasks ?? 0,
        parentIds: info?.parentIds ?? [],
        rdds: (info?.rdds ?? []).map((r) => {
          const level = r['Storage Level'];
          const cached = !!level && (level['Use Memory'] || level['Use Disk']);
          return {
            id: r['RDD ID'],
            name: r.Name,
            callSite: r.Callsite,
            parentIds: r['Parent IDs'],
            numPartitions: r['Number of Partitions'],
            cached,
            numCachedPartitions: cached ? (store.rdds.get(r['RDD ID'])?.blocks.size ?? 0) : 0,
          };
        }),
      };
    });
  return { jobId: job.jobId, stages };
}

/** At most this many points per series: a chart is a few hundred pixels wide. */
const MAX_POINTS = 600;

/** Downsamples keeping each bucket's maximum, so that short bursts stay visible. */
function sample(series: Series, end: number): Array<[number, number]> {
  const n = series.length;
  const out: Array<[number, number]> = [];
  if (n === 0) return out;
  const step = Math.max(1, Math.ceil(n / MAX_POINTS));
  for (let i = 0; i < n; i += step) {
    let best = series.values[i]!;
    for (let j = i + 1; j < Math.min(n, i + step); j++) best = Math.max(best, series.values[j]!);
    out.push([series.times[i]!, best]);
  }
  out.push([Math.max(end, series.times[n - 1]!), series.values[n - 1]!]);
  return out;
}

export function appTimeline(store: AppStatusStore): AppTimeline {
  const end = store.app.endTime;
  const now = store.now();
  return {
    start: store.app.startTime,
    end,
    jobs: [...store.jobs.values()].map((j) => ({ jobId: j.jobId, name: j.name, start: j.submissionTime, end: j.completionTime, status: j.status })),
    executors: [...store.executors.values()].map((e) => {
      const out: AppTimeline['executors'][number] = { executorId: e.id, kind: e.kind, added: e.addTime, removed: e.removeTime };
      if (e.removeReason !== null) out.reason = e.removeReason;
      return out;
    }),
    running: sample(store.running, now),
    totalCores: sample(store.cores, now),
  };
}


