import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flint, type FlintEvent } from 'flint';

let fl: Flint;
beforeAll(async () => {
  fl = await Flint.start({ master: 'local[3]' });
});
afterAll(async () => {
  await fl.stop();
});

function record(): { events: FlintEvent[]; stop: () => void } {
  const events: FlintEvent[] = [];
  const stop = fl.events.on('*', (e) => events.push(e));
  return { events, stop };
}

const pairs = Array.from({ length: 200 }, (_, i) => [`k${i % 17}`, i] as [string, number]);

describe('stages', () => {
  it('cuts at the shuffle and pipelines narrow transformations into one stage', async () => {
    const rec = record();
    const out = await fl
      .parallelize(pairs, 4)
      .map(([k, v]) => [k, v * 2] as [string, number])
      .filter(([, v]) => v % 3 !== 0)
      .reduceByKey((a, b) => a + b, { numPartitions: 3 })
      .mapValues((v) => v + 1)
      .collect();
    rec.stop();
    const submitted = rec.events.filter((e) => e.type === 'stageSubmitted');
    expect(submitted.map((e) => (e as { kind: string }).kind)).toEqual(['shuffleMap', 'result']);
    expect(submitted.map((e) => (e as { numTasks: number }).numTasks)).toEqual([4, 3]);
    const expected = new Map<string, number>();
    for (const [k, v] of pairs) if ((v * 2) % 3 !== 0) expected.set(k, (expected.get(k) ?? 0) + v * 2);
    expect(new Map(out)).toEqual(new Map([...expected].map(([k, v]) => [k, v + 1])));
  });

  it('skips a shuffle stage whose output exists when a second job reuses it', async () => {
    const reduced = fl.parallelize(pairs, 4).reduceByKey('sum');
    await reduced.count();
    const rec = record();
    await reduced.collect();
    rec.stop();
    expect(rec.events.filter((e) => e.type === 'stageSkipped')).toHaveLength(1);
    expect(rec.events.filter((e) => e.type === 'stageSubmitted')).toHaveLength(1);
  });

  it('combines on the map side: the shuffle carries one record per key per map task', async () => {
    const rec = record();
    await fl.parallelize(pairs, 4).reduceByKey((a, b) => a + b, { numPartitions: 2 }).count();
    rec.stop();
    const written = rec.events
      .filter((e): e is Extract<FlintEvent, { type: 'taskEnd' }> => e.type === 'taskEnd' && e.status === 'success')
      .filter((e) => (e.metrics?.shuffleWriteBytes ?? 0) > 0)
      .map((e) => e.metrics!.recordsWritten);
    expect(written).toHaveLength(4);
    for (const n of written) expect(n).toBeLessThanOrEqual(17);
  });
});

/** The line of the caller, as V8 reports it (the same numbering stage names use). */
function lineHere(): number {
  return Number(/:(\d+):\d+\)?$/.exec(new Error().stack!.split('\n')[2]!)![1]);
}

describe('stage names', () => {
  it("name each stage after the user's operation and line, numbered in the order they run", async () => {
    const rec = record();
    const nums = fl.parallelize([5, 3, 1, 4, 2], 3);
    const sorted = nums.sortBy((x) => x), sortLine = lineHere(); // prettier-ignore
    expect(await sorted.collect()).toEqual([1, 2, 3, 4, 5]);
    const collectLine = lineHere() - 1;
    const byParity = nums.map((x) => [x % 2, x] as [number, number]);
    const joined = byParity.reduceByKey((a, b) => a + b).join(byParity.distinct()), joinLine = lineHere(); // prettier-ignore
    expect((await joined.collect()).length).toBe(5);
    rec.stop();
    const stages = rec.events.filter((e): e is Extract<FlintEvent, { type: 'stageSubmitted' }> => e.type === 'stageSubmitted');
    const file = 'scheduling.test.ts';
    expect(stages.map((s) => s.name)).toEqual([
      `sortBy at ${file}:${sortLine}`, // the sampling job of the range partitioner
      `sortBy at ${file}:${sortLine}`, // the shuffle's map side
      `collect at ${file}:${collectLine}`,
      `reduceByKey at ${file}:${joinLine}`,
      `distinct at ${file}:${joinLine}`,
      `join at ${file}:${joinLine}`,
      `collect at ${file}:${joinLine + 1}`,
    ]);
    const ids = stages.map((s) => s.stageId);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });
});

describe('cache', () => {
  it('sends tasks to the executor that holds the cached partition and reads the block instead of recomputing', async () => {
    const cached = fl.parallelize(Array.from({ length: 60 }, (_, i) => i), 6).map((x) => x * x).cache();
    const first = record();
    expect(await cached.count()).toBe(60);
    first.stop();
    const placed = new Map<number, string>();
    for (const e of first.events) if (e.type === 'taskEnd' && e.status === 'success') placed.set(e.partition, e.executorId);
    const second = record();
    expect(await cached.map((x) => x + 1).reduce((a, b) => a + b)).toBe(Array.from({ length: 60 }, (_, i) => i * i + 1).reduce((a, b) => a + b));
    second.stop();
    const ends = second.events.filter((e): e is Extract<FlintEvent, { type: 'taskEnd' }> => e.type === 'taskEnd' && e.status === 'success');
    expect(ends).toHaveLength(6);
    for (const e of ends) {
      expect(e.executorId).toBe(placed.get(e.partition));
      expect(e.metrics!.recordsRead).toBe(0);
    }
    cached.unpersist();
  });
});

describe('checkpoint', () => {
  it('writes partitions to the checkpoint directory and truncates lineage', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flint-ckpt-'));
    fl.setCheckpointDir(dir);
    const rdd = fl.parallelize([1, 2, 3, 4, 5, 6], 3).map((x) => x * 10);
    rdd.checkpoint();
    expect(rdd.getCheckpointFile()).toBe(null);
    expect(await rdd.count()).toBe(6);
    expect(rdd.isCheckpointed).toBe(true);
    expect(rdd.toDebugString()).not.toContain('ParallelCollectionRDD');
    const file = rdd.getCheckpointFile()!;
    expect(readdirSync(file).sort()).toEqual(['part-00000', 'part-00001', 'part-00002']);
    const rec = record();
    expect(await rdd.collect()).toEqual([10, 20, 30, 40, 50, 60]);
    rec.stop();
    expect(rec.events.filter((e) => e.type === 'stageSubmitted')).toHaveLength(1);
  });
});
