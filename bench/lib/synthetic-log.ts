/**
 * A large application's event log made without running it, for the history benchmark and the
 * dashboard's 100,000-task tests: task durations log-normal-ish with rare 200× stragglers, map-side
 * shuffle writes, reduce-side fetch waits.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FlintEvent, TaskMetrics } from '../../host/events/events.js';
import { openEventLogDir } from '../../host/node/ui/event-log.js';
import { SparkEventConverter } from '../../host/ui/spark-events.js';

export const SYNTHETIC_APP = 'app-bench-history';
const APP = SYNTHETIC_APP;
const EXECUTORS = 4;

/** A deterministic pseudo-random stream, so every run writes the same log. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Writes the event log of an application whose job has a `tasks`-task map stage and a
 * `reduceTasks`-task result stage on 4 executors, through the converter and writer live
 * applications use. Deterministic: the same options give the same log. Returns the file's path.
 */
export async function writeSyntheticLog(dir: string, options: { tasks: number; reduceTasks: number }): Promise<string> {
  const { tasks: TASKS, reduceTasks: REDUCE_TASKS } = options;
  const log = openEventLogDir(dir);
  const conv = new SparkEventConverter();
  const emit = (e: FlintEvent) => {
    const s = conv.convert(e);
    if (s) log.write(s);
  };
  const t0 = 1_800_000_000_000;
  const rand = rng(42);
  emit({ type: 'applicationStart', time: t0, appId: APP, appName: 'history bench', master: 'local[4]', user: 'bench' });
  for (let i = 0; i < EXECUTORS; i++) emit({ type: 'executorAdded', time: t0 + 5, executorId: `thread-${i}`, cores: 1, host: 'localhost', kind: 'thread', capabilities: ['node', 'fs', 'wasm', 'trusted'] });
  const rdds = (id: number, site: string, parents: number[]) => ({ rddId: id, name: 'MapPartitionsRDD', callSite: site, parentIds: parents, numPartitions: TASKS, storageLevel: null });
  emit({
    type: 'jobStart',
    time: t0 + 10,
    jobId: 0,
    description: 'collect at bench.ts:12',
    stageIds: [1, 0],
    stages: [
      { stageId: 1, name: 'collect at bench.ts:12', kind: 'result', numTasks: REDUCE_TASKS, parentStageIds: [0], rdds: [{ ...rdds(3, 'reduceByKey at bench.ts:11', [2]), name: 'ShuffledRDD', numPartitions: REDUCE_TASKS }] },
      { stageId: 0, name: 'reduceByKey at bench.ts:11', kind: 'shuffleMap', numTasks: TASKS, parentStageIds: [], rdds: [rdds(2, 'map at bench.ts:10', [1]), rdds(1, 'flatMap at bench.ts:9', [0]), { ...rdds(0, 'textFile at bench.ts:8', []), name: 'TextFileRDD' }] },
    ],
  });
  let taskId = 0;
  const stage = (stageId: number, kind: 'shuffleMap' | 'result', n: number, start: number): number => {
    emit({ type: 'stageSubmitted', time: start, stageId, attempt: 0, name: kind === 'result' ? 'collect at bench.ts:12' : 'reduceByKey at bench.ts:11', kind, numTasks: n, partitions: [], rddId: 0, parentStageIds: kind === 'result' ? [0] : [] });
    // Each executor runs its tasks back to back; ends are emitted in time order across executors.
    const free = Array.from({ length: EXECUTORS }, () => start);
    const running: Array<{ end: number; e: FlintEvent }> = [];
    const flushUntil = (t: number) => {
      running.sort((a, b) => a.end - b.end);
      while (running.length > 0 && running[0]!.end <= t) emit(running.shift()!.e);
    };
    for (let p = 0; p < n; p++) {
      const ex = free.indexOf(Math.min(...free));
      const launch = free[ex]!;
      flushUntil(launch);
      const id = taskId++;
      emit({ type: 'taskStart', time: launch, taskId: id, stageId, stageAttempt: 0, partition: p, attempt: 0, executorId: `thread-${ex}`, speculative: false });
      const straggler = rand() < 0.0005;
      const run = (straggler ? 200 : 1) * (2 + Math.exp(rand() * 2.5));
      const fetch = kind === 'result' ? run * 0.3 * rand() : 0;
      const write = kind === 'shuffleMap' ? run * 0.25 * rand() : 0;
      const end = launch + run + 0.5 + rand();
      const records = Math.round(500 + rand() * 1000);
      const metrics: TaskMetrics = {
        durationMs: Math.round(run * 100) / 100,
        recordsRead: records,
        recordsWritten: kind === 'shuffleMap' ? Math.round(records / 10) : 100,
        shuffleReadBytes: kind === 'result' ? 40_000 + Math.round(rand() * 10_000) : 0,
        shuffleWriteBytes: kind === 'shuffleMap' ? 2_000 + Math.round(rand() * 500) : 0,
        resultBytes: kind === 'result' ? 3_000 : 0,
        operators: ['wasm:hashAgg'],
        queuedMs: Math.round(rand() * 50) / 100,
        fetchWaitMs: Math.round(fetch * 100) / 100,
        shuffleWriteMs: Math.round(write * 100) / 100,
        resultSerializeMs: kind === 'result' ? 0.2 : 0,
        shuffleRemoteBytesRead: kind === 'result' ? 30_000 : 0,
      };
      running.push({ end, e: { type: 'taskEnd', time: end, taskId: id, stageId, stageAttempt: 0, partition: p, attempt: 0, executorId: `thread-${ex}`, status: 'success', metrics } });
      free[ex] = end;
    }
    flushUntil(Number.POSITIVE_INFINITY);
    const last = Math.max(...free);
    emit({ type: 'stageCompleted', time: last, stageId, attempt: 0, succeeded: true });
    return last;
  };
  const mapEnd = stage(0, 'shuffleMap', TASKS, t0 + 20);
  const end = stage(1, 'result', REDUCE_TASKS, mapEnd + 1);
  emit({ type: 'jobEnd', time: end + 1, jobId: 0, succeeded: true });
  emit({ type: 'applicationEnd', time: end + 2 });
  await log.close();
  const file = readdirSync(dir)[0]!;
  return join(dir, file);
}

