/**
 * The scheduler's decisions, against scripted executors and a manual clock: speculation and the
 * killing of its losers, exclusion, locality waits, FIFO and FAIR, stage resubmission after a fetch
 * failure, heartbeat loss, capability placement, and which losses count as task failures.
 */
import { describe, expect, it, vi } from 'vitest';
import type { FlintEvent } from '../../host/events/events.js';
import { FlintError } from '../../host/errors.js';
import { UNVERIFIABLE_WARN_MS } from '../../host/schedule/task-scheduler.js';
import { TaskSet } from '../../host/schedule/task-set.js';
import { encodeRecords } from '../../host/codec/records.js';
import type { DriverToExecutor } from '../../host/exec/protocol.js';
import { FakeShuffled, FakeSource, executor, fakeCluster, runJob, type FakeCluster, type FakeExecutor } from './fake-cluster.js';

type TaskEnd = Extract<FlintEvent, { type: 'taskEnd' }>;
const taskEnds = (c: FakeCluster) => c.events.filter((e): e is TaskEnd => e.type === 'taskEnd');
const taskStarts = (c: FakeCluster) => c.events.filter((e): e is Extract<FlintEvent, { type: 'taskStart' }> => e.type === 'taskStart');

describe('speculation', () => {
  it('copies a straggler once 90% of the stage is done and it runs 3x the median, then kills the loser', async () => {
    const c = fakeCluster([executor('a'), executor('b'), executor('c')], { speculation: true });
    const job = runJob(c, new FakeSource(10));
    await c.settle();
    const a = c.get('a');
    const b = c.get('b');
    const cc = c.get('c');
    // Finish nine tasks at 100 ms each; leave partition 0's task running on a.
    const straggler = a.take((t) => t.task.partition === 0);
    c.clock.advance(100);
    await c.settle();
    for (let done = 0; done < 9; ) {
      for (const e of [a, b, cc]) {
        const t = e.pending.find((p) => p.task.partition !== 0);
        if (!t || done >= 9) continue;
        e.take((p) => p === t);
        e.succeed(t, 100);
        done++;
      }
      await c.settle();
    }
    expect(taskStarts(c).filter((s) => s.speculative)).toHaveLength(0);
    // 3 x median (100 ms) has not passed since the straggler started: no copy yet.
    c.clock.advance(150);
    await c.settle();
    expect(taskStarts(c).filter((s) => s.speculative)).toHaveLength(0);
    c.clock.advance(200);
    await c.settle();
    const copies = taskStarts(c).filter((s) => s.speculative);
    expect(copies).toHaveLength(1);
    expect(copies[0]!.partition).toBe(0);
    expect(copies[0]!.executorId).not.toBe('a');
    const copyHolder = c.get(copies[0]!.executorId);
    copyHolder.succeed(copyHolder.take((t) => t.task.partition === 0));
    await job.done;
    // The original attempt on a was told to stop; its slot is taken until a confirms.
    expect(a.messages.some((m) => m.t === 'killTask' && m.taskId === straggler.task.taskId)).toBe(true);
    expect(c.driver.registry.get('a')!.running.size).toBe(1);
    a.reply({ taskId: straggler.task.taskId, ok: false, killed: true, error: { name: 'TaskKilled', message: 'killed' }, fetchFailed: null, metrics: { durationMs: 1, recordsRead: 0, recordsWritten: 0, shuffleReadBytes: 0, shuffleWriteBytes: 0, resultBytes: 0, operators: [] } });
    await c.settle();
    expect(taskEnds(c).find((e) => e.taskId === straggler.task.taskId)?.status).toBe('killed');
    expect(c.driver.registry.get('a')!.running.size).toBe(0);
  });

  it('is off when the application turns it off', async () => {
    const c = fakeCluster([executor('a'), executor('b')], { speculation: false });
    runJob(c, new FakeSource(4));
    await c.settle();
    const slow = c.get('a').take();
    for (const e of [c.get('a'), c.get('b')]) while (e.pending.length) e.succeed(e.take());
    await c.settle();
    for (const e of [c.get('a'), c.get('b')]) while (e.pending.length) e.succeed(e.take());
    c.clock.advance(60_000);
    await c.settle();
    expect(taskStarts(c).some((s) => s.speculative)).toBe(false);
    expect(slow.task.partition).toBeGreaterThanOrEqual(0);
  });

  it('copies a straggler of a stage of fewer than ten tasks: 3 of 4 done is enough (Spark rounds the quantile down)', async () => {
    // 4 tabs, one of them 10x slower: rounded up, 90% of 4 tasks was all 4, and the slow tab's task
    // was never copied.
    const c = fakeCluster([executor('a'), executor('b'), executor('c'), executor('d')], { speculation: true });
    const job = runJob(c, new FakeSource(4));
    await c.settle();
    const slow = c.get('d').take();
    c.clock.advance(100);
    for (const id of ['a', 'b', 'c']) c.get(id).succeed(c.get(id).take(), 100);
    await c.settle();
    c.clock.advance(150);
    await c.settle();
    expect(taskStarts(c).filter((s) => s.speculative)).toHaveLength(0);
    // Past 3 x the median (100 ms) since it started, at the next look (every 100 ms), it is copied
    // to an idle executor.
    c.clock.advance(150);
    await c.settle();
    const copies = taskStarts(c).filter((s) => s.speculative);
    expect(copies.map((s) => s.partition)).toEqual([slow.task.partition]);
    const holder = c.get(copies[0]!.executorId);
    holder.succeed(holder.take(), 100);
    await job.done;
    expect(c.get('d').messages.some((m) => m.t === 'killTask' && m.taskId === slow.task.taskId)).toBe(true);
  });

  it.each([
    { kind: 'browser' as const, copied: true },
    { kind: 'node' as const, copied: false },
  ])('copies the straggler of a tab sooner than a machine’s (Spark’s classic 0.75 and 1.5 for volunteers): $kind', async ({ kind, copied }) => {
    // 8 tasks of 500 ms on 4 executors of 1 core, each sent one ahead; the fourth is 10x slower.
    const c = fakeCluster(['a', 'b', 'c', 'd'].map((id) => executor(id, { kind })), { speculation: true, prefetchPerCore: 1, verify: 'none' });
    const job = runJob(c, new FakeSource(8));
    await c.settle();
    const d = c.get('d');
    const fast = ['a', 'b', 'c'].map((id) => c.get(id));
    const slow = d.take();
    for (let wave = 0; wave < 2; wave++) {
      c.clock.advance(500);
      for (const e of fast) e.succeed(e.take(), 500);
      await c.settle();
    }
    // t = 1000: six of eight done, the slow executor's running task 1000 ms old. On a tab that is
    // past 1.5x the median with 75% done: copied at the next look. On a machine it takes 3x the
    // median and 90% done: not yet.
    c.clock.advance(100);
    await c.settle();
    const copies = taskStarts(c).filter((s) => s.speculative);
    expect(copies.map((s) => s.partition)).toEqual(copied ? [slow.task.partition] : []);
    for (let round = 0; round < 4; round++) {
      c.clock.advance(500);
      for (const e of c.executors.values()) while (e !== d && e.pending.length > 0) e.succeed(e.take(), 500);
      await c.settle();
    }
    expect(await job.done).toHaveLength(8);
  });

  it('times a task sent ahead from when its executor could start it, not from its sending', async () => {
    // Tabs of 1 core, each sent one task ahead. b's first task runs 1000 ms, so its second starts at
    // 1000: timed from its sending, it would look slow long before it is. (Nine tasks, so that a and
    // c always have their own to run rather than take b's over.)
    const c = fakeCluster(['a', 'b', 'c'].map((id) => executor(id, { kind: 'browser' })), { speculation: true, prefetchPerCore: 1, verify: 'none' });
    const job = runJob(c, new FakeSource(9));
    await c.settle();
    const [a, b, cc] = ['a', 'b', 'c'].map((id) => c.get(id)) as [FakeExecutor, FakeExecutor, FakeExecutor];
    const bFirst = b.take();
    const step = async (ms: number, also: () => void = () => undefined) => {
      c.clock.advance(ms);
      for (const e of [a, cc]) e.succeed(e.take(), 500);
      also();
      await c.settle();
    };
    await step(500);
    await step(500, () => b.succeed(bFirst, 1000));
    const second = b.take();
    await step(500);
    // t = 1600: b's second task has run 600 ms (1600 since it was sent); 1.5x the median is 750.
    c.clock.advance(100);
    await c.settle();
    expect(taskStarts(c).filter((s) => s.speculative)).toHaveLength(0);
    // Past 750 ms of its own run, it is copied.
    c.clock.advance(200);
    await c.settle();
    expect(taskStarts(c).filter((s) => s.speculative).map((s) => s.partition)).toEqual([second.task.partition]);
    b.succeed(second, 800);
    await c.settle();
    for (let round = 0; round < 3; round++) {
      for (const e of [a, cc]) while (e.pending.length > 0) e.succeed(e.take(), 500);
      await c.settle();
    }
    expect(await job.done).toHaveLength(9);
  });

  it('looks for stragglers once per dispatch, not once per executor: hundreds of executors at a large stage’s end stay cheap', () => {
    // A dispatch asks every executor in turn; each ask used to sort every duration of the stage.
    const partitions = Array.from({ length: 5000 }, (_, i) => i);
    const set = new TaskSet(0, 0, 0, partitions, () => [], { maxTaskFailures: 4, speculation: true, speculationQuantile: 0.9, speculationMultiplier: 3, speculationMinMs: 100 });
    for (let p = 0; p < 4800; p++) {
      set.markSucceeded(p);
      set.finishedRun(p, 10 + (p % 7), true);
    }
    for (let p = 4800; p < 5000; p++) set.running.set(p, { taskId: p, partition: p, attempt: 0, executorId: `e${p % 100}`, startedAt: 0, runningSince: 0, speculative: false, reads: [] });
    const t0 = performance.now();
    const copies = new Set<number>();
    for (let round = 0; round < 40; round++) {
      for (let e = 0; e < 500; e++) {
        const p = set.speculatable(10_000, `x${e}`);
        if (p !== null) copies.add(p);
      }
    }
    // Each straggler is copied once, and 20,000 asks take milliseconds (seconds when each sorted 4,800 durations).
    expect(copies.size).toBe(200);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('failures and exclusion', () => {
  it('retries a failing task on another executor and aborts after maxTaskFailures with the cause', async () => {
    const c = fakeCluster([executor('a'), executor('b')]);
    const job = runJob(c, new FakeSource(1));
    await c.settle();
    const placed: string[] = [];
    for (let i = 0; i < 4; i++) {
      const e = [...c.executors.values()].find((x) => x.pending.length > 0)!;
      placed.push(e.id);
      e.fail(e.take(), `attempt ${i} failed`);
      await c.settle();
    }
    expect(placed[0]).not.toBe(placed[1]);
    const err = await job.done.catch((e: unknown) => e as FlintError);
    expect(err).toBeInstanceOf(FlintError);
    expect((err as FlintError).code).toBe('JOB_ABORTED');
    expect(((err as FlintError).cause as Error).message).toBe('attempt 3 failed');
  });

  it('excludes an executor after 4 failures in a row while another is usable, and takes it back later', async () => {
    const c = fakeCluster([executor('a'), executor('b')], { maxTaskFailures: 10 });
    runJob(c, new FakeSource(8));
    await c.settle();
    const a = c.get('a');
    for (let i = 0; i < 4; i++) {
      a.fail(a.take());
      await c.settle();
    }
    expect(c.events.some((e) => e.type === 'executorExcluded' && e.executorId === 'a')).toBe(true);
    expect(a.pending).toHaveLength(0);
    // b runs everything it gets while a is excluded.
    const b = c.get('b');
    b.succeed(b.take());
    await c.settle();
    expect(a.pending).toHaveLength(0);
    c.clock.advance(10_001);
    await c.settle();
    expect(a.pending.length).toBeGreaterThan(0);
  });

  it('never excludes the last usable executor: a task failing everywhere aborts without waiting', async () => {
    const c = fakeCluster([executor('a'), executor('b')]);
    const job = runJob(c, new FakeSource(3));
    await c.settle();
    for (let round = 0; round < 20 && !job.state.settled; round++) {
      for (const e of c.executors.values()) while (e.pending.length) e.fail(e.take());
      await c.settle();
    }
    expect(job.state.settled).toBe(true);
    expect((job.state.error as FlintError).code).toBe('JOB_ABORTED');
    const excluded = c.events.filter((e) => e.type === 'executorExcluded');
    expect(excluded.length).toBeLessThanOrEqual(1);
  });

  it('does not count executors lost for reasons of their own: ten losses in a row still finish the job', async () => {
    const c = fakeCluster([executor('e0')]);
    const job = runJob(c, new FakeSource(1));
    await c.settle();
    for (let i = 0; i < 10; i++) {
      c.driver.executorLost(`e${i}`, { reason: 'tab closed', causedByApp: false });
      c.add(executor(`e${i + 1}`));
      await c.settle();
    }
    const last = c.get('e10');
    last.succeed(last.take());
    await job.done;
    expect(taskEnds(c).filter((e) => e.status === 'lost')).toHaveLength(10);
  });

  it('counts a loss the task caused: four executors killed by the task abort the job', async () => {
    const c = fakeCluster([executor('e0')]);
    const job = runJob(c, new FakeSource(1));
    await c.settle();
    for (let i = 0; i < 4; i++) {
      c.add(executor(`e${i + 1}`));
      c.driver.executorLost(`e${i}`, { reason: 'worker thread exited with code 3', causedByApp: true });
      await c.settle();
    }
    const err = await job.done.catch((e: unknown) => e as FlintError);
    expect((err as FlintError).code).toBe('JOB_ABORTED');
    expect((err as FlintError).message).toContain('exited with code 3');
  });
});

describe('locality', () => {
  it('waits up to the locality wait for the executor holding a cached partition, then runs elsewhere', async () => {
    const c = fakeCluster([executor('a'), executor('b')], { localityWaitMs: 300 });
    const source = new FakeSource(2, [], true);
    c.driver.registry.addBlock(`rdd_${source.id}_0`, 'a');
    c.driver.registry.addBlock(`rdd_${source.id}_1`, 'a');
    runJob(c, source);
    await c.settle();
    // a takes one of its partitions; the other prefers a too, so b waits instead of taking it.
    expect(c.get('a').pending).toHaveLength(1);
    expect(c.get('b').pending).toHaveLength(0);
    c.clock.advance(299);
    await c.settle();
    expect(c.get('b').pending).toHaveLength(0);
    c.clock.advance(100);
    await c.settle();
    expect(c.get('b').pending).toHaveLength(1);
  });
});

describe('FIFO and FAIR', () => {
  async function twoJobs(mode: 'FIFO' | 'FAIR'): Promise<string[]> {
    const c = fakeCluster([executor('a', { cores: 2 })], { schedulingMode: mode });
    const first = new FakeSource(4);
    const second = new FakeSource(4);
    runJob(c, first);
    runJob(c, second);
    await c.settle();
    const order: string[] = [];
    const a = c.get('a');
    for (let i = 0; i < 8; i++) {
      const t = a.take();
      order.push(t.stage.plan.rddId === first.id ? 'first' : 'second');
      a.succeed(t);
      await c.settle();
    }
    return order;
  }

  it('FIFO runs the first job before the second', async () => {
    expect(await twoJobs('FIFO')).toEqual(['first', 'first', 'first', 'first', 'second', 'second', 'second', 'second']);
  });

  it('FAIR gives a freed slot to the job with fewer running tasks', async () => {
    // The first job took both slots before the second arrived; from then on they alternate.
    expect(await twoJobs('FAIR')).toEqual(['first', 'first', 'second', 'first', 'second', 'first', 'second', 'second']);
  });
});

describe('shuffle failures', () => {
  it('a fetch failure loses every output of that executor and resubmits the map stage once, for those partitions only', async () => {
    const c = fakeCluster([executor('a'), executor('b')]);
    const source = new FakeSource(4);
    const job = runJob(c, new FakeShuffled(source, 2));
    await c.settle();
    const mapDoneOn = new Map<number, string>();
    for (let round = 0; round < 4; round++) {
      for (const e of c.executors.values()) {
        while (e.pending.length) {
          const t = e.take();
          mapDoneOn.set(t.task.partition, e.id);
          e.succeed(t);
        }
      }
      await c.settle();
      if (mapDoneOn.size === 4 && [...c.executors.values()].some((e) => e.pending.some((p) => p.task.output.kind === 'result'))) break;
    }
    const onA = [...mapDoneOn].filter(([, e]) => e === 'a').map(([p]) => p).sort();
    expect(onA.length).toBeGreaterThan(0);
    // Every reducer fails to fetch from a.
    const shuffleId = [...c.executors.values()].flatMap((e) => e.pending)[0]!.task.blocks[0]!.shuffleId;
    for (const e of c.executors.values()) {
      while (e.pending.length) e.fail(e.take(), 'connection refused', { shuffleId, mapId: onA[0]!, executorId: 'a' });
    }
    c.clock.advance(100);
    await c.settle();
    const resubmitted = c.events.filter((e) => e.type === 'stageSubmitted' && e.kind === 'shuffleMap');
    expect(resubmitted).toHaveLength(2);
    expect((resubmitted[1] as { partitions: number[] }).partitions.sort()).toEqual(onA);
    // Re-run the lost map tasks on b, then the reducers.
    for (let round = 0; round < 6 && !job.state.settled; round++) {
      for (const e of c.executors.values()) while (e.pending.length) e.succeed(e.take());
      await c.settle();
      c.clock.advance(100);
      await c.settle();
    }
    await job.done;
    expect(c.events.filter((e) => e.type === 'stageSubmitted' && e.kind === 'result')).toHaveLength(2);
  });
});

describe('heartbeats', () => {
  it('declares a silent executor lost after the timeout; its running task runs elsewhere without counting', async () => {
    const c = fakeCluster([executor('a'), executor('b')], { heartbeatTimeoutMs: 3000 });
    const job = runJob(c, new FakeSource(2));
    await c.settle();
    const a = c.get('a');
    const b = c.get('b');
    b.succeed(b.take());
    for (let t = 0; t < 2500; t += 1000) {
      c.clock.advance(1000);
      await c.settle();
      b.heartbeat();
    }
    expect(c.driver.registry.get('a')).toBeDefined();
    c.clock.advance(1000);
    await c.settle();
    b.heartbeat();
    expect(c.driver.registry.get('a')).toBeUndefined();
    expect(a.closed).toBe(true);
    await c.settle();
    b.succeed(b.take());
    await job.done;
    expect(taskEnds(c).filter((e) => e.executorId === 'a').map((e) => e.status)).toEqual(['lost']);
  });
});

describe('capabilities', () => {
  it('places tasks that need Node only on executors that have it', async () => {
    const c = fakeCluster([executor('tab', { capabilities: ['wasm'], kind: 'browser', cores: 4 }), executor('node', { cores: 1 })]);
    const job = runJob(c, new FakeSource(3, ['node']));
    await c.settle();
    expect(c.get('tab').pending).toHaveLength(0);
    for (let i = 0; i < 3; i++) {
      const n = c.get('node');
      n.succeed(n.take());
      await c.settle();
    }
    await job.done;
    expect(taskStarts(c).every((s) => s.executorId === 'node')).toBe(true);
  });

  it('fails at once, naming the capability, when no live executor has it', async () => {
    const c = fakeCluster([executor('tab', { capabilities: ['wasm'], kind: 'browser' })]);
    const job = runJob(c, new FakeSource(2, ['node']));
    await c.settle();
    const err = await job.done.catch((e: unknown) => e as FlintError);
    expect((err as FlintError).code).toBe('CAPABILITY_MISSING');
    expect((err as FlintError).message).toContain('"node"');
    expect((err as FlintError).message).toContain('browser');
  });

  it('places the tasks of a stage that persists at DISK_ONLY only on executors with a disk', async () => {
    const diskOnly = { useMemory: false, useDisk: true, deserialized: false, replication: 1 };
    const c = fakeCluster([executor('tab', { capabilities: ['wasm'], kind: 'browser', cores: 4 }), executor('node', { cores: 1 })]);
    const job = runJob(c, new FakeSource(2, [], diskOnly));
    await c.settle();
    expect(c.get('tab').pending).toHaveLength(0);
    for (let i = 0; i < 2; i++) {
      const n = c.get('node');
      n.succeed(n.take());
      await c.settle();
    }
    await job.done;
    expect(taskStarts(c).every((s) => s.executorId === 'node')).toBe(true);
  });

  it('a stage that persists at MEMORY_AND_DISK runs on executors without a disk too', async () => {
    const memoryAndDisk = { useMemory: true, useDisk: true, deserialized: false, replication: 1 };
    // Trusted, so that its one result counts without a second copy.
    const c = fakeCluster([executor('tab', { capabilities: ['wasm', 'trusted'], kind: 'browser', cores: 1 })]);
    const job = runJob(c, new FakeSource(1, [], memoryAndDisk));
    await c.settle();
    const t = c.get('tab');
    t.succeed(t.take());
    await c.settle();
    await job.done;
  });

  it('DISK_ONLY with no executor that has a disk fails at once, naming the capability', async () => {
    const c = fakeCluster([executor('tab', { capabilities: ['wasm'], kind: 'browser' })]);
    const job = runJob(c, new FakeSource(2, [], { useMemory: false, useDisk: true, deserialized: false, replication: 1 }));
    await c.settle();
    const err = await job.done.catch((e: unknown) => e as FlintError);
    expect((err as FlintError).code).toBe('CAPABILITY_MISSING');
    expect((err as FlintError).message).toContain('"disk"');
    expect((err as FlintError).message).toContain('disk-only');
  });
});

describe('stage plans and hostile executors', () => {
  it('ships a stage plan once per executor, not with every task', async () => {
    const c = fakeCluster([executor('a', { cores: 2 }), executor('b', { cores: 2 })]);
    const job = runJob(c, new FakeSource(12));
    for (let round = 0; round < 12 && !job.state.settled; round++) {
      await c.settle();
      for (const e of c.executors.values()) while (e.pending.length) e.succeed(e.take());
    }
    await job.done;
    for (const e of c.executors.values()) {
      expect(e.messages.filter((m) => m.t === 'stage')).toHaveLength(1);
      expect(e.messages.filter((m) => m.t === 'task').length).toBeGreaterThan(1);
      expect(e.messages.filter((m) => m.t === 'dropStage')).toHaveLength(1);
    }
  });

  it("refuses a result for another executor's task and drops the sender; the job still finishes", async () => {
    const c = fakeCluster([executor('a'), executor('b')]);
    const job = runJob(c, new FakeSource(2));
    await c.settle();
    const a = c.get('a');
    const b = c.get('b');
    const onA = a.take();
    const forged = { ...onA };
    b.succeed(forged); // b claims a's task
    expect(b.closed).toBe(true);
    expect(c.driver.registry.get('b')).toBeUndefined();
    a.succeed(onA);
    await c.settle();
    while (a.pending.length) a.succeed(a.take());
    await c.settle();
    while (a.pending.length) a.succeed(a.take());
    await job.done;
    // Replaying a finished task's result is refused too.
    a.succeed(onA);
    expect(c.driver.registry.get('a')).toBeUndefined();
  });
});

describe('sending tasks ahead to remote executors', () => {
  it('sends short tasks ahead, enough for remoteSendAheadMs of the executor’s time, once one finished', async () => {
    const c = fakeCluster([executor('a')], { remoteSendAheadMs: 5 });
    const job = runJob(c, new FakeSource(200));
    await c.settle();
    const a = c.get('a');
    // Nothing is known of the tasks' length yet: only the core's task.
    expect(a.pending).toHaveLength(1);
    a.succeed(a.take(), 0.1);
    await c.settle();
    // 5 ms at 0.1 ms a task: 50 ahead, plus the one that runs.
    expect(a.pending).toHaveLength(51);
    while (!job.state.settled) {
      while (a.pending.length) a.succeed(a.take(), 0.1);
      await c.settle();
    }
    await job.done;
  });

  it('sends long tasks no further ahead, and never threads of this machine', async () => {
    const c = fakeCluster([executor('a'), executor('t', { kind: 'thread' })], { remoteSendAheadMs: 5 });
    const job = runJob(c, new FakeSource(40));
    await c.settle();
    const a = c.get('a');
    const t = c.get('t');
    a.succeed(a.take(), 10);
    t.succeed(t.take(), 0.1);
    await c.settle();
    expect(a.pending).toHaveLength(1);
    expect(t.pending).toHaveLength(1);
    while (!job.state.settled) {
      for (const e of [a, t]) while (e.pending.length) e.succeed(e.take(), 10);
      await c.settle();
    }
    await job.done;
  });
});

describe('taking over tasks sent ahead (stealing)', () => {
  /** Two executors of one core that are each sent one task ahead: a gets partitions 0 and 2, b 1 and 3. */
  async function twoWithOneAhead() {
    // Speculation is on by default (with Flint.start); stealing is off with it.
    const c = fakeCluster([executor('a'), executor('b')], { prefetchPerCore: 1, speculation: true });
    const job = runJob(c, new FakeSource(4));
    await c.settle();
    const a = c.get('a');
    const b = c.get('b');
    expect(a.pending.map((t) => t.task.partition)).toEqual([0, 2]);
    expect(b.pending.map((t) => t.task.partition)).toEqual([1, 3]);
    return { c, job, a, b };
  }
  const killsOf = (e: FakeExecutor) => e.messages.filter((m): m is Extract<DriverToExecutor, { t: 'killTask' }> => m.t === 'killTask');

  it('leaves a task waiting on the executor that holds its cached input', async () => {
    const c = fakeCluster([executor('a'), executor('b')], { prefetchPerCore: 1, speculation: true });
    const cached = new FakeSource(4, [], true);
    // First job: each executor caches the partitions it computes.
    const first = runJob(c, cached);
    const holder = new Map<number, string>();
    while (!first.state.settled) {
      await c.settle();
      for (const e of c.executors.values()) {
        while (e.pending.length > 0) {
          const t = e.take();
          holder.set(t.task.partition, e.id);
          e.reply({ taskId: t.task.taskId, ok: true, result: encodeRecords([t.task.partition]), mapSizes: null, blocksAdded: [{ blockId: `rdd_${cached.id}_${t.task.partition}`, bytes: 10 }], metrics: { durationMs: 100, recordsRead: 0, recordsWritten: 0, shuffleReadBytes: 0, shuffleWriteBytes: 0, resultBytes: 0, operators: [] } });
        }
      }
    }
    await first.done;
    // Second job: every task goes to the executor holding its block, one of them sent ahead.
    const second = runJob(c, cached);
    await c.settle();
    for (const e of c.executors.values()) for (const t of e.pending) expect(holder.get(t.task.partition)).toBe(e.id);
    const slow = [...c.executors.values()].find((e) => e.pending.length === 2)!;
    const idle = [...c.executors.values()].find((e) => e !== slow)!;
    while (idle.pending.length > 0) idle.succeed(idle.take(), 100);
    await c.settle();
    // The idle executor does not take over the task queued on the holder of its block.
    c.clock.advance(1000);
    await c.settle();
    expect(idle.pending).toEqual([]);
    expect(killsOf(slow)).toEqual([]);
    while (slow.pending.length > 0) slow.succeed(slow.take(), 100);
    await second.done;
  });

  it('an idle executor takes over a task waiting on a slow executor behind its running one, and the slow one is told to drop it', async () => {
    // Not a copy of a straggler (2 of 4 tasks done is too few for that) but a task that never started.
    const { c, job, a, b } = await twoWithOneAhead();
    const waiting = b.pending.find((t) => t.task.partition === 3)!;
    c.clock.advance(100);
    a.succeed(a.take(), 100);
    await c.settle();
    // a starts partition 2, which it was sent ahead: nothing to take over while it has work.
    expect(killsOf(b)).toHaveLength(0);
    c.clock.advance(100);
    a.succeed(a.take(), 100);
    await c.settle();
    // a is idle, nothing is left to launch, and partition 3 waited 200 ms on b (a median task runs
    // 100 ms): a runs it, and b is told to drop its copy, which it never started.
    expect(a.pending.map((t) => t.task.partition)).toEqual([3]);
    expect(killsOf(b).map((k) => k.taskId)).toEqual([waiting.task.taskId]);
    expect(killsOf(b)[0]!.reason).toMatch(/taken over by executor a: it waited 200 ms/);
    expect(taskEnds(c).find((e) => e.taskId === waiting.task.taskId)?.status).toBe('killed');
    expect(taskStarts(c).filter((s) => s.partition === 3).map((s) => [s.executorId, s.speculative])).toEqual([
      ['b', false],
      ['a', false],
    ]);
    // The killed copy is not queued again: the job ends when b's running task and a's copy finish.
    a.succeed(a.take(), 100);
    await c.settle();
    expect(job.state.settled).toBe(false);
    b.succeed(b.take((t) => t.task.partition === 1), 1000);
    const results = await job.done;
    expect(results).toHaveLength(4);
    expect(taskStarts(c)).toHaveLength(5);
  });

  it('leaves a task sent ahead alone for as long as a median task runs (at least 100 ms), then takes it over if it still waits', async () => {
    const { c, job, a, b } = await twoWithOneAhead();
    const waiting = b.pending.find((t) => t.task.partition === 3)!;
    c.clock.advance(10);
    a.succeed(a.take(), 10);
    await c.settle();
    c.clock.advance(10);
    a.succeed(a.take(), 10);
    await c.settle();
    // a is idle at 20 ms; partition 3 has waited 20 ms on b, less than speculationMinMs.
    expect(killsOf(b)).toHaveLength(0);
    c.clock.advance(79);
    await c.settle();
    expect(killsOf(b)).toHaveLength(0);
    // At 100 ms it still waits there: a takes it over without any other event happening.
    c.clock.advance(1);
    await c.settle();
    expect(killsOf(b).map((k) => k.taskId)).toEqual([waiting.task.taskId]);
    expect(a.pending.map((t) => t.task.partition)).toEqual([3]);
    a.succeed(a.take(), 10);
    b.succeed(b.take(), 500);
    await job.done;
  });

  it('is off with speculation: every task runs where it was first sent', async () => {
    const c = fakeCluster([executor('a'), executor('b')], { prefetchPerCore: 1, speculation: false });
    const job = runJob(c, new FakeSource(4));
    await c.settle();
    const [a, b] = [c.get('a'), c.get('b')];
    for (let i = 0; i < 2; i++) {
      c.clock.advance(100);
      a.succeed(a.take(), 100);
      await c.settle();
    }
    c.clock.advance(10_000);
    await c.settle();
    expect(killsOf(b)).toHaveLength(0);
    expect(a.pending).toHaveLength(0);
    while (b.pending.length) b.succeed(b.take(), 5000);
    await job.done;
    expect(taskStarts(c)).toHaveLength(4);
  });

  it('does not take over a task its executor has started: a healthy executor keeps what it was sent', async () => {
    const { c, job, a, b } = await twoWithOneAhead();
    c.clock.advance(200);
    a.succeed(a.take(), 200);
    b.succeed(b.take(), 200);
    await c.settle();
    c.clock.advance(200);
    a.succeed(a.take(), 200);
    await c.settle();
    // a is idle at 400 ms. Partition 3 was sent to b 400 ms ago, longer than a median task runs, but
    // b runs it now (its first task ended at 200 ms): it is not waiting, and is not taken over. (At
    // 3 x the median, 600 ms, speculation would copy it; it is not that late yet.)
    c.clock.advance(150);
    await c.settle();
    expect(killsOf(b)).toHaveLength(0);
    expect(a.pending).toHaveLength(0);
    b.succeed(b.take(), 300);
    await job.done;
    expect(taskStarts(c)).toHaveLength(4);
  });
});

describe('large results', () => {
  it('pulls a result kept on the executor in parts, a few at a time, and hands the whole to the job', async () => {
    const c = fakeCluster([executor('a')]);
    const job = runJob(c, new FakeSource(1));
    await c.settle();
    const a = c.get('a');
    const t = a.take();
    const whole = new Uint8Array(5 * 1024 * 1024 + 17);
    for (let i = 0; i < whole.length; i++) whole[i] = (i * 7) & 255;
    a.reply({ taskId: t.task.taskId, ok: true, result: null, resultBlock: { bytes: whole.length }, mapSizes: null, blocksAdded: [], metrics: { durationMs: 1, recordsRead: 0, recordsWritten: 0, shuffleReadBytes: 0, shuffleWriteBytes: 0, resultBytes: whole.length, operators: [] } });
    let answered = 0;
    for (let round = 0; round < 20; round++) {
      const asks = a.messages.filter((m): m is Extract<typeof m, { t: 'fetchResult' }> => m.t === 'fetchResult').slice(answered);
      // Never more than a few parts in flight.
      expect(asks.length).toBeLessThanOrEqual(4);
      if (asks.length === 0) break;
      for (const ask of asks) a.sendRaw({ t: 'resultPart', taskId: ask.taskId, offset: ask.offset, total: whole.length, bytes: whole.slice(ask.offset, ask.offset + ask.length) });
      answered += asks.length;
    }
    expect(a.messages.some((m) => m.t === 'dropResult' && m.taskId === t.task.taskId)).toBe(true);
    const results = await job.done;
    expect(answered).toBe(6);
    // The job's handler got the whole result, byte for byte.
    expect(Buffer.compare(Buffer.from(results[0] as number[]), whole)).toBe(0);
  });

  it('drops the sender of a part it did not ask for and keeps the job going elsewhere', async () => {
    const c = fakeCluster([executor('a'), executor('b')]);
    const job = runJob(c, new FakeSource(1));
    await c.settle();
    const holder = [...c.executors.values()].find((e) => e.pending.length > 0)!;
    const t = holder.take();
    holder.reply({ taskId: t.task.taskId, ok: true, result: null, resultBlock: { bytes: 10 }, mapSizes: null, blocksAdded: [], metrics: { durationMs: 1, recordsRead: 0, recordsWritten: 0, shuffleReadBytes: 0, shuffleWriteBytes: 0, resultBytes: 10, operators: [] } });
    holder.sendRaw({ t: 'resultPart', taskId: t.task.taskId, offset: 8, total: 10, bytes: new Uint8Array(5) });
    expect(holder.closed).toBe(true);
    await c.settle();
    const other = [...c.executors.values()].find((e) => e !== holder)!;
    other.succeed(other.take());
    await job.done;
  });
});

describe('modules (fl.module)', () => {
  it("ship once per executor, before its first task that uses them, in the executor's platform's build", async () => {
    const c = fakeCluster([executor('node', { cores: 2 }), executor('tab', { cores: 2, kind: 'browser', capabilities: ['wasm'] })]);
    c.driver.addModule('m1', { node: 'NODE BUILD', browser: 'BROWSER BUILD' });
    const job = runJob(c, new FakeSource(8, [], false, ['m1']));
    for (let round = 0; round < 8 && !job.state.settled; round++) {
      await c.settle();
      for (const e of c.executors.values()) while (e.pending.length) e.succeed(e.take());
    }
    await job.done;
    for (const [id, code] of [['node', 'NODE BUILD'], ['tab', 'BROWSER BUILD']] as const) {
      const e = c.get(id);
      const sent = e.messages.filter((m) => m.t === 'module');
      expect(sent).toEqual([{ t: 'module', id: 'm1', code }]);
      expect(e.messages.findIndex((m) => m.t === 'module')).toBeLessThan(e.messages.findIndex((m) => m.t === 'task'));
    }
  });
});

describe('verification of untrusted executors', () => {
  const untrusted = (id: string) => executor(id, { capabilities: ['node', 'wasm'] });
  const ends = (c: FakeCluster) => taskEnds(c).filter((e) => e.status === 'success');

  it('says why a job waits when no connected machine or tab may compute the copy, and goes on once one joins', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      // One tab with two executors: a copy never runs on the tab that computed the first one.
      const c = fakeCluster([executor('a1', { capabilities: ['wasm'], workerId: 'tab' }), executor('a2', { capabilities: ['wasm'], workerId: 'tab' })]);
      const job = runJob(c, new FakeSource(1));
      await c.settle();
      const first = [...c.executors.values()].find((e) => e.pending.length > 0)!;
      first.succeed(first.take());
      await c.settle();
      c.clock.advance(UNVERIFIABLE_WARN_MS - 1);
      expect(warn).not.toHaveBeenCalled();
      c.clock.advance(1);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/stage \d+ waits: partition 0 counts only once a copy computed on another machine or tab agrees .*verify: 'none'/);
      c.clock.advance(5 * UNVERIFIABLE_WARN_MS);
      expect(warn).toHaveBeenCalledTimes(1);
      const other = c.add(executor('b', { capabilities: ['wasm'], workerId: 'other tab' }));
      await c.settle();
      other.succeed(other.take());
      await job.done;
    } finally {
      warn.mockRestore();
    }
  });

  it('does not warn while a copy waits only for a busy executor that may run it', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const c = fakeCluster([untrusted('a'), untrusted('b')]);
      const job = runJob(c, new FakeSource(2));
      await c.settle();
      // Both hold a first copy; neither answers the other's copy for a long time.
      for (const e of c.executors.values()) e.succeed(e.take());
      await c.settle();
      c.clock.advance(3 * UNVERIFIABLE_WARN_MS);
      expect(warn).not.toHaveBeenCalled();
      for (const e of c.executors.values()) while (e.pending.length > 0) e.succeed(e.take());
      await job.done;
    } finally {
      warn.mockRestore();
    }
  });

  it('copies a straggler once most partitions ran, though their copies are still being compared', async () => {
    // Five tabs, four tasks: three finish fast and wait for copies to agree, the fourth runs on a
    // tab 10x slower. Counting only verified partitions, the straggler waited for those copies.
    const c = fakeCluster(['a', 'b', 'c', 'd', 'e'].map(untrusted), { speculation: true });
    const job = runJob(c, new FakeSource(4));
    await c.settle();
    const holders = [...c.executors.values()].filter((e) => e.pending.length > 0);
    expect(holders).toHaveLength(4);
    const [fast1, fast2, fast3, slowTab] = holders as [FakeExecutor, FakeExecutor, FakeExecutor, FakeExecutor];
    const slow = slowTab.take();
    c.clock.advance(100);
    for (const e of [fast1, fast2, fast3]) e.succeed(e.take(), 100);
    await c.settle();
    // Each result waits for a copy on another tab; none is verified yet.
    const copies = taskStarts(c).filter((s) => s.partition !== slow.task.partition && s.attempt > 0);
    expect(copies).toHaveLength(3);
    expect(ends(c)).toHaveLength(3);
    // Past 3x the median run (100 ms), at the next look (every 100 ms), the straggler is copied to a
    // tab not busy with a copy.
    c.clock.advance(300);
    await c.settle();
    const speculative = taskStarts(c).filter((s) => s.speculative);
    expect(speculative.map((s) => s.partition)).toEqual([slow.task.partition]);
    expect(speculative[0]!.executorId).not.toBe(slowTab.id);
    // Copies agree, the speculative copy wins, and its result is compared too before the job ends.
    for (const e of c.executors.values()) while (e !== slowTab && e.pending.length > 0) e.succeed(e.take(), 100);
    await c.settle();
    for (const e of c.executors.values()) while (e !== slowTab && e.pending.length > 0) e.succeed(e.take(), 100);
    expect(await job.done).toHaveLength(4);
  });

  it("counts an untrusted executor's result only once another executor produced the same digest", async () => {
    const c = fakeCluster([untrusted('a'), untrusted('b')]);
    const job = runJob(c, new FakeSource(1));
    await c.settle();
    const first = [...c.executors.values()].find((e) => e.pending.length > 0)!;
    const t = first.take();
    expect(t.task.digest).toBe(true);
    first.succeed(t);
    await c.settle();
    expect(job.state.settled).toBe(false);
    // The copy goes to the other executor, never back to the first.
    const other = [...c.executors.values()].find((e) => e !== first)!;
    expect(first.pending).toHaveLength(0);
    const replica = other.take();
    expect(replica.task.partition).toBe(t.task.partition);
    expect(replica.task.digest).toBe(true);
    other.succeed(replica);
    await job.done;
    expect(ends(c)).toHaveLength(2);
  });

  it('never compares two executors of one worker: the copy waits for another machine or tab', async () => {
    const c = fakeCluster([
      executor('tab-a', { capabilities: ['wasm'], workerId: 'tab' }),
      executor('tab-b', { capabilities: ['wasm'], workerId: 'tab' }),
    ]);
    const job = runJob(c, new FakeSource(1));
    await c.settle();
    const first = [...c.executors.values()].find((e) => e.pending.length > 0)!;
    first.succeed(first.take());
    await c.settle();
    c.clock.advance(60_000);
    await c.settle();
    // The tab's other executor would agree with it whatever it computed: it gets no copy.
    expect(c.get('tab-a').pending.length + c.get('tab-b').pending.length).toBe(0);
    expect(job.state.settled).toBe(false);
    const other = c.add(executor('elsewhere', { capabilities: ['wasm'], workerId: 'laptop' }));
    await c.settle();
    other.succeed(other.take());
    await job.done;
  });

  it('takes the map output of the copy whose executor is still there when the first one left: nothing is computed a third time', async () => {
    const c = fakeCluster([untrusted('a'), untrusted('b'), untrusted('c')]);
    const job = runJob(c, new FakeShuffled(new FakeSource(1), 1));
    const busy = () => [...c.executors.values()].find((e) => e.pending.length > 0)!;
    await c.settle();
    const first = busy();
    first.succeed(first.take());
    await c.settle();
    const second = busy();
    const replica = second.take();
    // The first copy's tab closes before the copy that agrees with it comes back.
    c.driver.executorLost(first.id, { reason: 'tab closed', causedByApp: false });
    await c.settle();
    second.succeed(replica);
    await c.settle();
    // The map stage is done with the live copy's output: the reducer reads it there, no map runs again.
    for (let copies = 0; copies < 2; copies++) {
      // The copy to compare goes elsewhere than where the input is, after the locality wait.
      c.clock.advance(1000);
      await c.settle();
      const e = busy();
      const reduce = e.take();
      expect(reduce.task.output.kind).toBe('result');
      expect(reduce.task.blocks.map((bl) => bl.executorId)).toEqual([second.id]);
      e.succeed(reduce);
      await c.settle();
    }
    await job.done;
    expect(c.events.filter((e) => e.type === 'stageSubmitted')).toHaveLength(2);
  });

  it("a trusted executor's result counts alone, and asks no digest", async () => {
    const c = fakeCluster([executor('trusted')]);
    const job = runJob(c, new FakeSource(2));
    await c.settle();
    const e = c.get('trusted');
    for (let i = 0; i < 2; i++) {
      const t = e.take();
      expect(t.task.digest).toBeUndefined();
      e.succeed(t);
      await c.settle();
    }
    await job.done;
  });

  it('settles a disagreement by a majority, convicts the liar, recomputes what it held and gives it nothing more', async () => {
    const c = fakeCluster([untrusted('a'), untrusted('b'), untrusted('liar')]);
    const liar = c.get('liar');
    const job = runJob(c, new FakeSource(6));
    let rounds = 0;
    while (!job.state.settled && rounds++ < 30) {
      await c.settle();
      for (const e of c.executors.values()) {
        while (e.pending.length) {
          const t = e.take();
          e.succeed(t, 10, [t.task.partition], e === liar ? 'f'.repeat(64) : undefined);
        }
      }
    }
    await job.done;
    await c.settle();
    const excluded = c.events.filter((e) => e.type === 'executorExcluded');
    expect(excluded.map((e) => (e as { executorId: string }).executorId)).toEqual(['liar']);
    expect((excluded[0] as { until: number | null }).until).toBeNull();
    // The liar got nothing after its conviction.
    const convictedAt = excluded[0]!.time;
    expect(taskStarts(c).filter((s) => s.executorId === 'liar' && s.time > convictedAt)).toEqual([]);
  });

  it("runs the copies it wants before the stage's other tasks, so that a long stage is spot-checked, not copied whole", async () => {
    const c = fakeCluster(['a', 'b', 'c', 'd'].map(untrusted));
    const job = runJob(c, new FakeShuffled(new FakeSource(400), 2));
    // Executors answer one task per turn, oldest first, as fast as they are sent them.
    for (let turn = 0; !job.state.settled && turn < 2000; turn++) {
      await c.settle();
      for (const e of c.executors.values()) if (e.pending.length > 0) e.succeed(e.take());
    }
    await job.done;
    const mapStage = taskStarts(c)[0]!.stageId;
    const starts = taskStarts(c).filter((s) => s.stageId === mapStage);
    const copies = starts.filter((s) => s.attempt > 0);
    // Each copy starts as soon as a slot of another executor frees after its original ended, ahead
    // of the stage's other tasks (the verifier counts the executors' records from the copies).
    const at = (e: FlintEvent) => c.events.indexOf(e);
    for (const copy of copies) {
      const original = taskEnds(c).find((e) => e.stageId === mapStage && e.partition === copy.partition && e.attempt === 0)!;
      const between = starts.filter((s) => s.attempt === 0 && at(s) > at(original) && at(s) < at(copy));
      expect(between.length).toBeLessThanOrEqual(4);
    }
    // Once the executors have a record, their map outputs are only spot-checked: far fewer than
    // the 400 copies a check of every task would take (the first ~10 per executor are all checked).
    expect(copies.length).toBeGreaterThanOrEqual(20);
    expect(copies.length).toBeLessThan(200);
  });

  it('gives up with a clear error when no two copies agree (a function that is not deterministic)', async () => {
    const c = fakeCluster(['a', 'b', 'c', 'd', 'e', 'f'].map(untrusted));
    const job = runJob(c, new FakeSource(1));
    let n = 0;
    while (!job.state.settled && n < 20) {
      await c.settle();
      for (const e of c.executors.values()) while (e.pending.length) e.succeed(e.take(), 10, [0], (n++).toString(16).padStart(64, '0'));
    }
    const err = await job.done.catch((e: unknown) => e as FlintError);
    expect((err as FlintError).code).toBe('JOB_ABORTED');
    expect((err as FlintError).message).toMatch(/no output of partition 0 was agreed on by more of 5 executors than any other .* not deterministic/);
  });
});
