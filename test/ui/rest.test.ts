// The REST API of a local application against counts computed from the job's known input, and the
// same views rebuilt from its event log (what `flint history` serves) against the live ones.
import { Flint } from 'flint';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayLog } from '../../host/node/ui/history.js';
import { routeApi } from '../../host/ui/rest.js';
import { applicationInfo } from '../../host/ui/rest-views.js';
import type { ExecutorSummary, JobData, RDDStorageInfo, StageData, TaskData, TaskMetricDistributions } from '../../host/ui/types.js';
import { expected, knownLines, LINES, REDUCERS, runKnownJob, SLICES } from '../helpers/known-job.js';

const logDir = mkdtempSync(join(tmpdir(), 'flint-rest-'));
let fl: Flint;
const lines = knownLines();
const want = expected(lines);
let result: Awaited<ReturnType<typeof runKnownJob>>;
let get: <T>(path: string) => Promise<T>;

beforeAll(async () => {
  // The pages and the REST API are checked against a known job's exact counts: no task copies
  // (speculation, and the stealing that comes with it, may run a task twice on a loaded machine).
  fl = await Flint.start({ master: 'local[2]', ui: 0, eventLog: logDir, appName: 'rest test', speculation: false });
  result = await runKnownJob(fl, lines);
  const url = new URL(fl.uiUrl!);
  const token = url.searchParams.get('token')!;
  get = async <T>(path: string) => {
    const res = await fetch(`${url.origin}/api/v1/applications/${fl.applicationId}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };
  await fl.events.delivered();
});

afterAll(async () => {
  await fl?.stop();
  rmSync(logDir, { recursive: true, force: true });
  // Held to here: the cleaner drops the cache of an RDD nobody can reach.
  expect(result.rdd.isCached).toBe(true);
});

describe('REST API of a local application', () => {
  it('the job computed what the input says', () => {
    expect(result.counts).toEqual(want.counts);
    expect(result.total).toBe(want.distinct);
  });

  it('refuses requests without the token, with a message that says so', async () => {
    const res = await fetch(`${new URL(fl.uiUrl!).origin}/api/v1/applications`);
    expect(res.status).toBe(401);
    expect(await res.text()).toMatch(/token/);
  });

  it('jobs: two, the second skipping the map stage, with task counts from the partitioning', async () => {
    const jobs = await get<JobData[]>('/jobs');
    expect(jobs.map((j) => [j.jobId, j.status])).toEqual([
      [1, 'SUCCEEDED'],
      [0, 'SUCCEEDED'],
    ]);
    const [second, first] = jobs;
    expect(first!.numTasks).toBe(SLICES + REDUCERS);
    expect(first!.numCompletedTasks).toBe(SLICES + REDUCERS);
    expect(first!.numSkippedStages).toBe(0);
    expect(second!.numSkippedStages).toBe(1);
    expect(second!.numSkippedTasks).toBe(SLICES);
    expect(second!.numCompletedTasks).toBe(REDUCERS);
  });

  it('stages: records and shuffle bytes agree with the input and with each other', async () => {
    const stages = await get<StageData[]>('/stages');
    const byId = new Map(stages.map((s) => [s.stageId, s]));
    const map = byId.get(0)!;
    const reduce = byId.get(1)!;
    expect(map.status).toBe('COMPLETE');
    expect(map.numTasks).toBe(SLICES);
    expect(map.inputRecords).toBe(LINES);
    expect(map.shuffleWriteRecords).toBe(want.combinedRecords);
    // Flint counts a reduce task's shuffle records as they come out of the merge of its blocks.
    expect(reduce.shuffleReadRecords).toBe(want.distinct);
    expect(reduce.shuffleReadBytes).toBe(map.shuffleWriteBytes);
    expect(map.shuffleWriteBytes).toBeGreaterThan(0);
    expect(reduce.outputRecords).toBe(want.distinct);
    expect(byId.get(2)!.status).toBe('SKIPPED');
    expect(byId.get(3)!.numCompleteTasks).toBe(REDUCERS);
  });

  it('taskSummary: Spark quantiles of the task list, over every succeeded task', async () => {
    const summary = await get<TaskMetricDistributions>('/stages/0/0/taskSummary?quantiles=0,0.25,0.5,0.75,1');
    const tasks = await get<TaskData[]>('/stages/0/0/taskList?length=1000');
    expect(tasks).toHaveLength(SLICES);
    expect(summary.count).toBe(SLICES);
    const q = (values: number[]) => {
      const sorted = values.slice().sort((a, b) => a - b);
      return [0, 0.25, 0.5, 0.75, 1].map((p) => sorted[Math.min(Math.floor(p * sorted.length), sorted.length - 1)]);
    };
    expect(summary.duration).toEqual(q(tasks.map((t) => t.duration!)));
    expect(summary.shuffleWriteMetrics.writeRecords).toEqual(q(tasks.map((t) => t.taskMetrics!.shuffleWriteMetrics.recordsWritten)));
    expect(summary.inputMetrics.recordsRead).toEqual(q(tasks.map((t) => t.taskMetrics!.inputMetrics.recordsRead)));
    expect(tasks.reduce((n, t) => n + t.taskMetrics!.inputMetrics.recordsRead, 0)).toBe(LINES);
    // Slowest first, as the dashboard asks.
    const slowest = await get<TaskData[]>('/stages/0/0/taskList?sortBy=-duration&length=2');
    expect(slowest[0]!.duration).toBe(Math.max(...tasks.map((t) => t.duration!)));
  });

  it('phases of every task fit inside its duration', async () => {
    const tasks = await get<TaskData[]>('/stages/1/0/taskList?length=100');
    for (const t of tasks) {
      const m = t.taskMetrics!;
      expect(m.executorRunTime + t.schedulerDelay).toBeCloseTo(t.duration!, 0);
      expect(m.shuffleReadMetrics.fetchWaitTime).toBeLessThanOrEqual(m.executorRunTime + 0.01);
    }
  });

  it('executors and storage: every task counted once, the cached RDD whole and where it is', async () => {
    const executors = await get<ExecutorSummary[]>('/executors');
    expect(executors.map((e) => e.kind)).toEqual(['thread', 'thread']);
    expect(executors.reduce((n, e) => n + e.completedTasks, 0)).toBe(SLICES + REDUCERS + REDUCERS);
    const rdds = await get<RDDStorageInfo[]>('/storage/rdd');
    expect(rdds.map((r) => [r.id, r.name, r.numPartitions, r.numCachedPartitions])).toEqual([[result.cachedRddId, 'word counts', REDUCERS, REDUCERS]]);
    const details = await get<RDDStorageInfo>(`/storage/rdd/${result.cachedRddId}`);
    expect(details.partitions!.map((p) => p.blockName)).toEqual(Array.from({ length: REDUCERS }, (_, p) => `rdd_${result.cachedRddId}_${p}`));
    expect(details.dataDistribution!.reduce((n, d) => n + d.memoryUsed, 0)).toBe(details.memoryUsed);
    expect(executors.reduce((n, e) => n + e.memoryUsed, 0)).toBe(details.memoryUsed);
  });

  it('the event log rebuilds the same views (what flint history serves)', async () => {
    const live = {
      jobs: await get<JobData[]>('/jobs'),
      stages: await get<StageData[]>('/stages'),
      summary: await get<TaskMetricDistributions>('/stages/1/0/taskSummary'),
      tasks: await get<TaskData[]>('/stages/0/0/taskList?length=100'),
      storage: await get<RDDStorageInfo[]>('/storage/rdd'),
    };
    await fl.stop();
    const files = readdirSync(logDir);
    expect(files).toEqual([fl.applicationId]);
    const text = readFileSync(join(logDir, files[0]!), 'utf8');
    const names = new Set(text.trim().split('\n').map((l) => (JSON.parse(l) as { Event: string }).Event));
    for (const name of [
      'SparkListenerApplicationStart',
      'SparkListenerExecutorAdded',
      'SparkListenerJobStart',
      'SparkListenerStageSubmitted',
      'SparkListenerTaskStart',
      'SparkListenerTaskEnd',
      'SparkListenerStageCompleted',
      'SparkListenerJobEnd',
      'SparkListenerBlockUpdated',
      'SparkListenerApplicationEnd',
    ]) {
      expect(names, name).toContain(name);
    }
    const store = replayLog(join(logDir, files[0]!));
    const source = { info: () => ({ mode: 'history' as const, title: '' }), applications: () => [applicationInfo(store)], store: () => store };
    const replayed = (path: string) => {
      const url = new URL(`http://x/api/v1/applications/${fl.applicationId}${path}`);
      return routeApi(source, url.pathname, url.searchParams).body;
    };
    expect(replayed('/jobs')).toEqual(live.jobs);
    expect(replayed('/stages')).toEqual(live.stages);
    expect(replayed('/stages/1/0/taskSummary')).toEqual(live.summary);
    expect(replayed('/stages/0/0/taskList?length=100')).toEqual(live.tasks);
    expect(applicationInfo(store).attempts[0]!.completed).toBe(true);
    expect(replayed('/storage/rdd')).toEqual(live.storage);
    expect(live.storage).toHaveLength(1);
  });
});
