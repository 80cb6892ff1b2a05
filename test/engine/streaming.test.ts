// mapPartitions, mapPartitionsWithIndex, zip and cartesian within a task's memory: a partition
// larger than the executor's memory passes through them, spilling where an operator must hold it
// (a user's iterator, cartesian's right side), and zip holds nothing beyond a batch of each side.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Flint, type FlintEvent } from 'flint';

// A name closures receive through env.
declare const K: number;

type TaskEnd = Extract<FlintEvent, { type: 'taskEnd' }>;

const root = mkdtempSync(join(tmpdir(), 'flint-streaming-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let fl: Flint | null = null;
afterEach(async () => {
  await fl?.stop();
  fl = null;
});

const BUDGET_MB = 8;
/** One partition of this many [string, number] records takes far more than 8 MB as objects. */
const N = 600_000;

async function start(name: string): Promise<{ fl: Flint; ends: TaskEnd[]; spillDir: string }> {
  const spillDir = join(root, name);
  fl = await Flint.start({ master: 'local[2]', executorMemoryMb: BUDGET_MB, spillDir });
  const ends: TaskEnd[] = [];
  fl.events.on('taskEnd', (e) => ends.push(e));
  return { fl, ends, spillDir };
}

const spilled = (ends: TaskEnd[]) => ends.reduce((n, e) => n + (e.metrics?.diskBytesSpilled ?? 0), 0);
const peak = (ends: TaskEnd[]) => Math.max(...ends.map((e) => e.metrics?.peakExecutionMemory ?? 0));
const within = (bytes: number) => bytes <= BUDGET_MB * 1024 * 1024 * 1.1 + (1 << 20);
const noFiles = (dir: string) => !existsSync(dir) || readdirSync(dir, { recursive: true, withFileTypes: true }).every((d) => !d.isFile());

describe('a partition larger than the executor memory', () => {
  it('passes through a lazy mapPartitions function, its records in order', async () => {
    const { fl, ends, spillDir } = await start('lazy');
    const out = await fl
      .range(0, N, 1, 1)
      .map((i) => [`record ${i}`, i] as [string, number])
      .mapPartitions(function* (it) {
        let expected = 0;
        let n = 0;
        for (const [s, i] of it) {
          if (i !== expected++ || s !== `record ${i}`) throw new Error(`record ${i} out of order`);
          if (++n % 100_000 === 0) yield n;
        }
      })
      .collect();
    expect(out).toEqual([100_000, 200_000, 300_000, 400_000, 500_000, 600_000]);
    expect(spilled(ends)).toBeGreaterThan(0);
    expect(within(peak(ends))).toBe(true);
    await fl.stop();
    expect(noFiles(spillDir)).toBe(true);
  });

  it('passes through an eager mapPartitionsWithIndex function that reads it all at once', async () => {
    const { fl, ends } = await start('eager');
    const out = await fl
      .range(0, N, 1, 2)
      .map((i) => [`record ${i}`, i] as [string, number])
      .mapPartitionsWithIndex((p, it) => {
        let sum = 0;
        let n = 0;
        for (const [, i] of it) {
          sum += i;
          n++;
        }
        return [[p, n, sum]];
      })
      .collect();
    const half = N / 2;
    expect(out).toEqual([
      [0, half, (half * (half - 1)) / 2],
      [1, half, (N * (N - 1)) / 2 - (half * (half - 1)) / 2],
    ]);
    expect(spilled(ends)).toBeGreaterThan(0);
  });

  it('zips with another without holding either side', async () => {
    const { fl, ends } = await start('zip');
    const a = fl.range(0, N, 1, 1).map((i) => `left ${i}`);
    const b = fl.range(0, N, 1, 1).map((i) => `right ${i}`);
    const bad = await a
      .zip(b)
      .filter(([x, y]) => x.slice(5) !== y.slice(6))
      .count();
    expect(bad).toBe(0);
    expect(await a.zip(b).count()).toBe(N);
    // Nothing to spill, and no memory held for the partitions.
    expect(spilled(ends)).toBe(0);
    expect(peak(ends)).toBeLessThan(1 << 20);
  });

  it('zip still refuses partitions of different lengths, naming both counts', async () => {
    const { fl } = await start('zip-lengths');
    const a = fl.range(0, 10_000, 1, 1);
    const b = fl.range(0, 10_001, 1, 1);
    await expect(a.zip(b).count()).rejects.toThrow(/has 10000 elements on the left and 10001 on the right/);
  });

  it('is the right side of a cartesian product: left-major pairs, the right side read back from disk', async () => {
    const { fl, ends } = await start('cartesian');
    const R = 300_000;
    const left = fl.parallelize(['a', 'b', 'c'], 1);
    const right = fl.range(0, R, 1, 1).map((i) => [`right ${i}`, i] as [string, number]);
    const summary = await left
      .cartesian(right)
      .mapPartitions(function* (it) {
        // Left-major: all of a's pairs in right order, then b's, then c's.
        let at = 0;
        let ok = true;
        for (const [x, [, i]] of it) {
          const want = ['a', 'b', 'c'][Math.floor(at / R)];
          if (x !== want || i !== at % R) ok = false;
          at++;
        }
        yield [at, ok];
      }, { env: { R } })
      .collect();
    expect(summary).toEqual([[3 * R, true]]);
    expect(spilled(ends)).toBeGreaterThan(0);
  });

  it('takes the groups of a groupByKey as they are merged, while holding them itself', async () => {
    const { fl, ends } = await start('groups');
    // Many groups go downstream while the mapPartitions buffer asks for the memory they hold.
    const keys = 100_000;
    const out = await fl
      .range(0, 4 * keys, 1, 2)
      .map((i) => [i % K, i] as [number, number], { env: { K: keys } })
      .groupByKey(1)
      .mapPartitions((it) => {
        let groups = 0;
        let values = 0;
        let ok = true;
        for (const [k, vs] of it) {
          groups++;
          values += vs.length;
          if (vs.length !== 4 || vs.some((v) => v % K !== k)) ok = false;
        }
        return [[groups, values, ok]];
      }, { env: { K: keys } })
      .collect();
    expect(out).toEqual([[keys, 4 * keys, true]]);
    expect(spilled(ends)).toBeGreaterThan(0);
  });
});
