/**
 * Faults with real processes: a worker SIGKILLed in a map stage and in a reduce stage, a worker
 * stopped with SIGSTOP, a worker decommissioned with SIGTERM (during a job, and between two jobs: its
 * shuffle outputs handed on), executors that keep crashing. In every
 * case the result equals a fault-free run and, from the scheduler's events, only the lost
 * partitions were recomputed.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Flint, type FlintEvent } from 'flint';
import { killAll, startCluster, type Proc, type TestCluster } from './harness.js';

afterAll(() => killAll());

type TaskEnd = Extract<FlintEvent, { type: 'taskEnd' }>;

let cluster: TestCluster | null = null;
let fl: Flint | null = null;
afterEach(async () => {
  await fl?.stop();
  fl = null;
  await cluster?.stop();
  cluster = null;
});

function record(flint: Flint): FlintEvent[] {
  const events: FlintEvent[] = [];
  flint.events.on('*', (e) => events.push(e));
  return events;
}

/** The worker process that runs `executorId`. */
async function workerOf(c: TestCluster, executorId: string): Promise<Proc> {
  const slot = (await c.executors()).find((e) => e.id === executorId);
  if (!slot) throw new Error(`no executor ${executorId}`);
  const proc = c.workers.find((w) => w.output().includes(`as ${slot.workerId} `) || w.output().includes(`as ${slot.workerId}\n`) || w.output().includes(`${slot.workerId} serving`));
  if (!proc) throw new Error(`no worker process for ${slot.workerId}`);
  return proc;
}

// Names the slow map receives through env.
declare const keys: number;
declare const ms: number;
const slowPair = (x: number) => {
  const until = Date.now() + ms;
  while (Date.now() < until);
  return [x % keys, x] as [number, number];
};

function expected(data: number[], keys: number): Array<[number, number]> {
  const sums = new Map<number, number>();
  for (const x of data) sums.set(x % keys, (sums.get(x % keys) ?? 0) + x);
  return [...sums].sort((a, b) => a[0] - b[0]);
}

const data = Array.from({ length: 600 }, (_, i) => i);

describe('a worker killed with SIGKILL', () => {
  it('in a map stage: its map outputs, and only those, are recomputed; it is declared lost within 5 s', async () => {
    cluster = await startCluster({ workers: 3, cores: 1 });
    fl = await Flint.start({ master: cluster.url, token: cluster.token, speculation: false });
    const events = record(fl);
    let killedAt = 0;
    let victim: string | null = null;
    fl.events.on('taskEnd', (e) => {
      if (victim || e.status !== 'success' || e.stageAttempt !== 0) return;
      const submitted = events.find((s) => s.type === 'stageSubmitted' && s.stageId === e.stageId);
      if ((submitted as { kind?: string })?.kind !== 'shuffleMap') return;
      victim = e.executorId;
      void workerOf(cluster!, victim).then((w) => {
        killedAt = Date.now();
        w.child.kill('SIGKILL');
      });
    });
    const result = await fl.parallelize(data, 12).map(slowPair, { env: { keys: 7, ms: 3 } }).reduceByKey((a, b) => a + b, { numPartitions: 3 }).collect();
    expect(result.sort((a, b) => a[0] - b[0])).toEqual(expected(data, 7));
    await fl.events.delivered();
    const removed = events.find((e): e is Extract<FlintEvent, { type: 'executorRemoved' }> => e.type === 'executorRemoved' && e.executorId === victim);
    expect(removed).toBeDefined();
    expect(removed!.causedByApp).toBe(false);
    expect(removed!.time - killedAt).toBeLessThan(5000);
    const mapStage = (events.find((e) => e.type === 'stageSubmitted' && e.kind === 'shuffleMap') as { stageId: number }).stageId;
    const ends = events.filter((e): e is TaskEnd => e.type === 'taskEnd' && e.stageId === mapStage);
    const lostPartitions = new Set(ends.filter((e) => e.executorId === victim).map((e) => e.partition));
    const ranTwice = [...new Set(ends.filter((e) => e.status === 'success').map((e) => e.partition))].filter(
      (p) => ends.filter((e) => e.partition === p && e.status === 'success').length > 1,
    );
    // Recomputed: exactly partitions whose output was on the dead worker (or running there).
    for (const p of ranTwice) expect(lostPartitions.has(p)).toBe(true);
    expect(ends.filter((e) => e.status === 'failed')).toEqual([]);
  });

  it('in a reduce stage: the map outputs it held are recomputed, finished reduce partitions are not', async () => {
    cluster = await startCluster({ workers: 3, cores: 1 });
    fl = await Flint.start({ master: cluster.url, token: cluster.token, speculation: false });
    const events = record(fl);
    const mapped = fl.parallelize(data, 6).map((x) => [x % 5, x] as [number, number]);
    const reduced = mapped.reduceByKey((a, b) => a + b, { numPartitions: 6 }).mapValues((v) => {
      const until = Date.now() + 200;
      while (Date.now() < until);
      return v;
    });
    let victim: string | null = null;
    let killedAt = Infinity;
    let resultStage = -1;
    fl.events.on('stageSubmitted', (s) => {
      if (s.kind === 'result') resultStage = s.stageId;
    });
    fl.events.on('taskEnd', (e) => {
      if (victim || e.stageId !== resultStage || e.status !== 'success') return;
      // Kill a worker that holds map output and is not the one that just finished.
      const holders = events.filter((t): t is TaskEnd => t.type === 'taskEnd' && t.stageId !== resultStage && t.status === 'success').map((t) => t.executorId);
      victim = holders.find((h) => h !== e.executorId) ?? holders[0]!;
      void workerOf(cluster!, victim).then((w) => {
        killedAt = Date.now();
        w.child.kill('SIGKILL');
      });
    });
    const result = await reduced.collect();
    expect(result.sort((a, b) => a[0] - b[0])).toEqual(expected(data, 5));
    await fl.events.delivered();
    const ends = events.filter((e): e is TaskEnd => e.type === 'taskEnd');
    const reduceSuccesses = ends.filter((e) => e.stageId === resultStage && e.status === 'success');
    expect([...new Set(reduceSuccesses.map((e) => e.partition))].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    // A reduce partition that had finished when the worker died was not run again (one running then
    // may finish twice: its first copy, on a live worker, raced the stage's resubmission).
    const finishedBefore = new Set(reduceSuccesses.filter((e) => e.time < killedAt).map((e) => e.partition));
    expect(finishedBefore.size).toBeGreaterThan(0);
    for (const p of finishedBefore) expect(reduceSuccesses.filter((e) => e.partition === p)).toHaveLength(1);
    const mapStage = (events.find((e) => e.type === 'stageSubmitted' && e.kind === 'shuffleMap') as { stageId: number }).stageId;
    const firstMapRun = ends.filter((e) => e.stageId === mapStage && e.stageAttempt === 0 && e.status === 'success');
    const heldByVictim = new Set(firstMapRun.filter((e) => e.executorId === victim).map((e) => e.partition));
    const rerun = ends.filter((e) => e.stageId === mapStage && e.stageAttempt > 0 && e.status === 'success').map((e) => e.partition);
    expect(new Set(rerun)).toEqual(heldByVictim);
  });
});

describe('a worker stopped with SIGSTOP', () => {
  it('is declared lost after three missed heartbeats, and the job finishes with the right answer', async () => {
    cluster = await startCluster({ workers: 2, cores: 1 });
    fl = await Flint.start({ master: cluster.url, token: cluster.token, speculation: false });
    const events = record(fl);
    let stoppedAt = 0;
    let victim: Proc | null = null;
    let victimId: string | null = null;
    fl.events.on('taskStart', (e) => {
      if (victimId) return;
      victimId = e.executorId;
      void workerOf(cluster!, e.executorId).then((w) => {
        victim = w;
        stoppedAt = Date.now();
        w.child.kill('SIGSTOP');
      });
    });
    const result = await fl.parallelize(data, 6).map(slowPair, { env: { keys: 3, ms: 4 } }).reduceByKey((a, b) => a + b).collect();
    expect(result.sort((a, b) => a[0] - b[0])).toEqual(expected(data, 3));
    await fl.events.delivered();
    const removed = events.find((e): e is Extract<FlintEvent, { type: 'executorRemoved' }> => e.type === 'executorRemoved' && e.executorId === victimId);
    expect(removed).toBeDefined();
    expect(removed!.reason).toMatch(/no heartbeat/);
    const after = removed!.time - stoppedAt;
    expect(after).toBeGreaterThanOrEqual(2500);
    expect(after).toBeLessThan(5000);
    (victim as Proc | null)?.child.kill('SIGCONT');
  });
});

describe('a worker decommissioned with SIGTERM', () => {
  it('stops taking tasks, its outputs are handed on or recomputed, it leaves with status 0, and the job is right', async () => {
    cluster = await startCluster({ workers: 2, cores: 1 });
    fl = await Flint.start({ master: cluster.url, token: cluster.token, speculation: false });
    const events = record(fl);
    let victim: Proc | null = null;
    let victimId: string | null = null;
    fl.events.on('taskEnd', (e) => {
      if (victimId || e.status !== 'success') return;
      victimId = e.executorId;
      void workerOf(cluster!, e.executorId).then((w) => {
        victim = w;
        w.child.kill('SIGTERM');
      });
    });
    const result = await fl.parallelize(data, 8).map(slowPair, { env: { keys: 4, ms: 2 } }).reduceByKey((a, b) => a + b, { numPartitions: 2 }).collect();
    expect(result.sort((a, b) => a[0] - b[0])).toEqual(expected(data, 4));
    expect(await (victim as unknown as Proc).exited).toBe(0);
    await fl.events.delivered();
    const draining = events.find((e) => e.type === 'executorDraining' && e.executorId === victimId);
    expect(draining).toBeDefined();
    const removed = events.find((e) => e.type === 'executorRemoved' && e.executorId === victimId) as { time: number } | undefined;
    expect(removed).toBeDefined();
    // Nothing was sent there after it began to drain.
    const lateStarts = events.filter((e) => e.type === 'taskStart' && e.executorId === victimId && e.time > (draining as { time: number }).time);
    expect(lateStarts).toEqual([]);
    expect(events.filter((e) => e.type === 'taskEnd' && e.status === 'failed')).toEqual([]);
  });
});

describe('a worker decommissioned between two jobs', () => {
  it('hands its shuffle outputs to the other worker: the next job over the same shuffle runs no map task', async () => {
    cluster = await startCluster({ workers: 2, cores: 1 });
    fl = await Flint.start({ master: cluster.url, token: cluster.token, speculation: false });
    const deadline = Date.now() + 10_000;
    while (fl.executorIds().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const events = record(fl);
    const sums = fl.parallelize(data, 8).map((x) => [x % 5, x] as [number, number]).reduceByKey((a, b) => a + b, { numPartitions: 3 });
    expect((await sums.collect()).sort((a, b) => a[0] - b[0])).toEqual(expected(data, 5));
    await fl.events.delivered();
    const ran = events.filter((e): e is TaskEnd => e.type === 'taskEnd' && e.status === 'success');
    const victimId = ran[0]!.executorId;
    const heirId = fl.executorIds().find((id) => id !== victimId)!;
    const victim = await workerOf(cluster, victimId);
    victim.child.kill('SIGTERM');
    expect(await victim.exited).toBe(0);
    await fl.events.delivered();
    const handed = events.find((e): e is Extract<FlintEvent, { type: 'shuffleOutputsHandedOn' }> => e.type === 'shuffleOutputsHandedOn');
    expect(handed).toMatchObject({ executorId: victimId, toExecutorId: heirId, lost: 0 });
    expect(handed!.outputs).toBeGreaterThan(0);
    expect(handed!.bytes).toBeGreaterThan(0);
    const before = events.length;
    expect((await sums.collect()).sort((a, b) => a[0] - b[0])).toEqual(expected(data, 5));
    await fl.events.delivered();
    const second = events.slice(before).filter((e): e is Extract<FlintEvent, { type: 'taskStart' }> => e.type === 'taskStart');
    // Only the 3 reduce tasks ran, all on the worker that stayed, reading what it adopted.
    expect(second.map((e) => e.executorId)).toEqual([heirId, heirId, heirId]);
    expect(events.slice(before).filter((e) => e.type === 'stageSkipped')).toHaveLength(1);
  });
});

describe('executors that keep crashing', () => {
  it('are not task failures: a job finishes although one worker loses an executor in every task', async () => {
    cluster = await startCluster({ workers: 1, cores: 1 });
    await cluster.addWorker({ args: ['--chaos', 'crash=1'] });
    await cluster.waitForSlots(2);
    fl = await Flint.start({ master: cluster.url, token: cluster.token, speculation: false, maxTaskFailures: 2 });
    const deadline = Date.now() + 10_000;
    while (fl.executorIds().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const events = record(fl);
    const result = await fl.parallelize(data, 40).map((x) => [x % 2, x] as [number, number]).reduceByKey((a, b) => a + b).collect();
    expect(result.sort((a, b) => a[0] - b[0])).toEqual(expected(data, 2));
    await fl.events.delivered();
    const lost = events.filter((e) => e.type === 'taskEnd' && e.status === 'lost');
    expect(lost.length).toBeGreaterThanOrEqual(1);
    expect(events.filter((e) => e.type === 'taskEnd' && e.status === 'failed')).toEqual([]);
  });
});
