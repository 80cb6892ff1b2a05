import { afterEach, describe, expect, it } from 'vitest';
import { Flint, FlintError, type FlintEvent } from 'flint';

type TaskEnd = Extract<FlintEvent, { type: 'taskEnd' }>;

let fl: Flint | null = null;
afterEach(async () => {
  await fl?.stop();
  fl = null;
});

const pairs = Array.from({ length: 600 }, (_, i) => [`k${i % 23}`, i] as [string, number]);
function expectedSums(): Map<string, number> {
  const m = new Map<string, number>();
  for (const [k, v] of pairs) m.set(k, (m.get(k) ?? 0) + v);
  return m;
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function successesByPartition(events: TaskEnd[], stageId: number): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const e of events) {
    if (e.stageId !== stageId || e.status !== 'success') continue;
    out.set(e.partition, [...(out.get(e.partition) ?? []), e.executorId]);
  }
  return out;
}

describe('a worker thread that dies', () => {
  it('in a map stage: its map outputs, and only those, are recomputed; the result is unchanged', async () => {
    fl = await Flint.start({ master: 'local[3]', speculation: false });
    const ctx = fl;
    const ends: TaskEnd[] = [];
    let mapStage = -1;
    let victim: string | null = null;
    ctx.events.on('stageSubmitted', (e) => {
      if (e.kind === 'shuffleMap' && mapStage < 0) mapStage = e.stageId;
    });
    ctx.events.on('taskEnd', (e) => {
      ends.push(e);
      if (!victim && e.stageId === mapStage && e.status === 'success') {
        victim = e.executorId;
        void ctx.killExecutor(victim);
      }
    });
    const slow = ctx.parallelize(pairs, 12).mapPartitions(function* (it) {
      const until = Date.now() + 60;
      while (Date.now() < until);
      yield* { [Symbol.iterator]: () => it };
    });
    const result = new Map(await slow.reduceByKey((a, b) => a + b, { numPartitions: 3 }).collect());
    expect(result).toEqual(expectedSums());
    expect(victim).not.toBeNull();
    const byPartition = successesByPartition(ends, mapStage);
    const lost = [...byPartition].filter(([, execs]) => execs.includes(victim!)).map(([p]) => p).sort((a, b) => a - b);
    const recomputed = [...byPartition].filter(([, execs]) => execs.length > 1).map(([p]) => p).sort((a, b) => a - b);
    expect(lost.length).toBeGreaterThan(0);
    expect(recomputed).toEqual(lost);
    expect([...byPartition.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    // The lost thread was replaced.
    await until(() => ctx.executorIds().length === 3);
    expect(ctx.executorIds()).not.toContain(victim);
  });

  it('in a reduce stage: the map outputs it held are recomputed, finished reduce partitions are not', async () => {
    fl = await Flint.start({ master: 'local[3]', speculation: false });
    const ctx = fl;
    const ends: TaskEnd[] = [];
    const stages: Array<Extract<FlintEvent, { type: 'stageSubmitted' }>> = [];
    let victim: string | null = null;
    let reduceSucceededBeforeKill: number[] = [];
    ctx.events.on('stageSubmitted', (e) => stages.push(e));
    ctx.events.on('taskStart', (e) => {
      const resultStage = stages.find((s) => s.kind === 'result');
      if (!victim && resultStage && e.stageId === resultStage.stageId) {
        // Kill an executor that holds map output, while the reduce stage runs.
        const mapStage = stages.find((s) => s.kind === 'shuffleMap')!.stageId;
        const holders = ends.filter((t) => t.stageId === mapStage && t.status === 'success').map((t) => t.executorId);
        victim = holders.find((h) => h !== e.executorId) ?? holders[0]!;
        reduceSucceededBeforeKill = ends.filter((t) => t.stageId === resultStage.stageId && t.status === 'success').map((t) => t.partition);
        void ctx.killExecutor(victim);
      }
    });
    ctx.events.on('taskEnd', (e) => ends.push(e));
    const reduced = ctx
      .parallelize(pairs, 9)
      .reduceByKey((a, b) => a + b, { numPartitions: 6 })
      .mapPartitions(function* (it) {
        const until = Date.now() + 80;
        while (Date.now() < until);
        yield* { [Symbol.iterator]: () => it };
      });
    expect(new Map(await reduced.collect())).toEqual(expectedSums());
    expect(victim).not.toBeNull();
    const mapStage = stages.find((s) => s.kind === 'shuffleMap')!.stageId;
    const resultStage = stages.find((s) => s.kind === 'result')!.stageId;
    const mapRuns = successesByPartition(ends, mapStage);
    const heldByVictim = [...mapRuns].filter(([, execs]) => execs[0] === victim).map(([p]) => p).sort((a, b) => a - b);
    const rerun = [...mapRuns].filter(([, execs]) => execs.length > 1).map(([p]) => p).sort((a, b) => a - b);
    expect(heldByVictim.length).toBeGreaterThan(0);
    expect(rerun).toEqual(heldByVictim);
    // A resubmitted map stage attempt ran exactly the lost partitions.
    const retries = stages.filter((s) => s.stageId === mapStage && s.attempt > 0);
    expect(retries.flatMap((s) => s.partitions).sort((a, b) => a - b)).toEqual(heldByVictim);
    const reduceRuns = successesByPartition(ends, resultStage);
    for (const p of reduceSucceededBeforeKill) expect(reduceRuns.get(p)).toHaveLength(1);
    expect([...reduceRuns.keys()].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('by a closure calling process.exit: every attempt kills its thread, the job aborts, threads are replaced', async () => {
    fl = await Flint.start({ master: 'local[2]', speculation: false });
    const lost: string[] = [];
    fl.events.on('executorRemoved', (e) => lost.push(e.reason));
    const err = (await fl
      .parallelize([1, 2, 3, 4], 2)
      .map((x) => {
        if (x === 4) (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(3);
        return x;
      })
      .collect()
      .catch((e: unknown) => e)) as FlintError;
    expect(err).toBeInstanceOf(FlintError);
    expect(err.code).toBe('JOB_ABORTED');
    expect(err.message).toContain('exited with code 3');
    expect(lost.length).toBe(4);
    expect(await fl.parallelize([1, 2, 3], 3).map((x) => x + 1).collect()).toEqual([2, 3, 4]);
    await until(() => fl!.executorIds().length === 2);
  });

  it('by running out of memory: reported as lost, retried, and the context survives', async () => {
    fl = await Flint.start({ master: 'local[2]', speculation: false, executorMemoryMb: 48, maxTaskFailures: 2 });
    const err = (await fl
      .parallelize([1, 2], 2)
      .map((x) => {
        if (x === 2) {
          const hog: number[][] = [];
          for (;;) hog.push(new Array(1_000_000).fill(x));
        }
        return x;
      })
      .collect()
      .catch((e: unknown) => e)) as FlintError;
    expect(err).toBeInstanceOf(FlintError);
    expect(err.code).toBe('JOB_ABORTED');
    expect(err.message).toMatch(/memory/i);
    expect(await fl.parallelize([5, 6], 2).collect()).toEqual([5, 6]);
  });
});
