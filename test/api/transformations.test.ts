/** RDD transformations against the reference model, on examples from PySpark's rdd.py docstrings. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flint } from 'flint';
import { RefRDD, canonicalSort, normalizeGroups } from '../reference/rdd-reference.js';
import { expectSameMultiset, expectSameOrder, expectSamePartitions, flintErrorOf, startFlint } from './helpers.js';

// Variables that closures receive through `env`, declared for the type checker.
declare const k: number;
declare const c: number;
declare const lo: number;
declare const m: number;

let fl: Flint;
beforeAll(async () => {
  fl = await startFlint('local[2]');
});
afterAll(async () => {
  await fl.stop();
});

describe('narrow transformations keep partitions and order', () => {
  it('map, filter and flatMap', async () => {
    const data = [1, 2, 3, 4, 5, 6, 7];
    const rdd = fl.parallelize(data, 3);
    const ref = RefRDD.parallelize(data, 3);
    const sq = (x: number) => x * x;
    const even = (x: number) => x % 2 === 0;
    const dup = (x: number) => [x, x * 10];
    await expectSamePartitions(rdd.map(sq), ref.map(sq));
    await expectSamePartitions(rdd.filter(even), ref.filter(even));
    await expectSamePartitions(rdd.flatMap(dup), ref.flatMap(dup));
    // sc.parallelize([2, 3, 4]).flatMap(lambda x: range(1, x)) == [1, 1, 2, 1, 2, 3]
    expect(await fl.parallelize([2, 3, 4]).flatMap((x) => Array.from({ length: x - 1 }, (_, i) => i + 1)).collect()).toEqual([1, 1, 2, 1, 2, 3]);
  });

  it('map with env values', async () => {
    const ref = RefRDD.parallelize([1, 2, 3], 2).map((x) => x * 3 + 1);
    await expectSamePartitions(fl.parallelize([1, 2, 3], 2).map((x) => x * k + c, { env: { k: 3, c: 1 } }), ref);
    await expectSamePartitions(fl.parallelize([1, 2, 3], 2).filter((x) => x > lo, { env: { lo: 1 } }), RefRDD.parallelize([1, 2, 3], 2).filter((x) => x > 1));
  });

  it('glom shows parallelize slicing', async () => {
    // sc.parallelize([1, 2, 3, 4], 2).glom().collect() == [[1, 2], [3, 4]]
    expect(await fl.parallelize([1, 2, 3, 4], 2).glom().collect()).toEqual([[1, 2], [3, 4]]);
    expect(await fl.parallelize([1, 2, 3, 4, 5], 3).glom().collect()).toEqual([[1], [2, 3], [4, 5]]);
    expect(await fl.parallelize([1, 2], 4).glom().collect()).toEqual(RefRDD.parallelize([1, 2], 4).glom().collect());
  });

  it('mapPartitions and mapPartitionsWithIndex', async () => {
    const sumPart = function* (it: Iterator<number>) {
      let s = 0;
      for (let r = it.next(); !r.done; r = it.next()) s += r.value;
      yield s;
    };
    // sc.parallelize([1, 2, 3, 4], 2).mapPartitions(f).collect() == [3, 7]
    expect(await fl.parallelize([1, 2, 3, 4], 2).mapPartitions(sumPart).collect()).toEqual([3, 7]);
    await expectSamePartitions(fl.parallelize([5, 6, 7, 8, 9], 3).mapPartitions(sumPart), RefRDD.parallelize([5, 6, 7, 8, 9], 3).mapPartitions(sumPart));
    const withIndex = (i: number, it: Iterator<number>) => {
      const out: [number, number][] = [];
      for (let r = it.next(); !r.done; r = it.next()) out.push([i, r.value]);
      return out;
    };
    // sc.parallelize([1, 2, 3, 4], 4).mapPartitionsWithIndex(lambda s, it: [s]).sum() == 6
    expect(await fl.parallelize([1, 2, 3, 4], 4).mapPartitionsWithIndex((i) => [i]).sum()).toBe(6);
    await expectSamePartitions(
      fl.parallelize([1, 2, 3, 4, 5, 6, 7], 3).mapPartitionsWithIndex(withIndex),
      RefRDD.parallelize([1, 2, 3, 4, 5, 6, 7], 3).mapPartitionsWithIndex(withIndex),
    );
  });

  it('keyBy', async () => {
    const sq = (x: number) => x * x;
    await expectSamePartitions(fl.parallelize([0, 1, 2], 2).keyBy(sq), RefRDD.parallelize([0, 1, 2], 2).keyBy(sq));
  });

  it('union concatenates partitions', async () => {
    // rdd.union(rdd).collect() == [1, 1, 2, 3, 1, 1, 2, 3]
    const rdd = fl.parallelize([1, 1, 2, 3], 2);
    const ref = RefRDD.parallelize([1, 1, 2, 3], 2);
    await expectSamePartitions(rdd.union(rdd), ref.union(ref));
    expect(await rdd.union(rdd).collect()).toEqual([1, 1, 2, 3, 1, 1, 2, 3]);
    const other = fl.parallelize(['x'], 1);
    await expectSamePartitions(
      (rdd as unknown as typeof other).union(other),
      RefRDD.union<unknown>([ref, RefRDD.parallelize(['x'], 1)]) as RefRDD<string>,
    );
  });

  it('zip, zipWithIndex and zipWithUniqueId', async () => {
    // x.zip(y).collect() == [(0, 1000), (1, 1001), (2, 1002), (3, 1003), (4, 1004)]
    const x = fl.range(0, 5);
    const y = fl.range(1000, 1005);
    expect(await x.zip(y).collect()).toEqual([[0, 1000], [1, 1001], [2, 1002], [3, 1003], [4, 1004]]);
    await expectSamePartitions(
      fl.parallelize(['a', 'b', 'c'], 2).zip(fl.parallelize([1, 2, 3], 2)),
      RefRDD.parallelize(['a', 'b', 'c'], 2).zip(RefRDD.parallelize([1, 2, 3], 2)),
    );
    // sc.parallelize(["a", "b", "c", "d"], 3).zipWithIndex().collect() == [('a', 0), ('b', 1), ('c', 2), ('d', 3)]
    expect(await fl.parallelize(['a', 'b', 'c', 'd'], 3).zipWithIndex().collect()).toEqual([['a', 0], ['b', 1], ['c', 2], ['d', 3]]);
    const data = Array.from({ length: 23 }, (_, i) => `v${i}`);
    await expectSamePartitions(fl.parallelize(data, 5).filter((s) => !s.endsWith('3')).zipWithIndex(), RefRDD.parallelize(data, 5).filter((s) => !s.endsWith('3')).zipWithIndex());
    // sc.parallelize(["a", "b", "c", "d", "e"], 3).zipWithUniqueId().collect() == [('a', 0), ('b', 1), ('c', 4), ('d', 2), ('e', 5)]
    expect(await fl.parallelize(['a', 'b', 'c', 'd', 'e'], 3).zipWithUniqueId().collect()).toEqual([['a', 0], ['b', 1], ['c', 4], ['d', 2], ['e', 5]]);
    await expectSamePartitions(fl.parallelize(data, 4).zipWithUniqueId(), RefRDD.parallelize(data, 4).zipWithUniqueId());
  });

  it('zip of RDDs with different partition counts is an error', async () => {
    const err = await flintErrorOf(() => fl.parallelize([1, 2], 2).zip(fl.parallelize([1, 2], 1)));
    expect(err.code).toBe('INVALID_ARGUMENT');
  });

  it('zip of partitions with different sizes fails the job', async () => {
    await expect(fl.parallelize([1, 2, 3], 2).zip(fl.parallelize([1, 2, 3, 4], 2)).collect()).rejects.toThrow(/zip/);
  });

  it('cartesian pairs partitions x-major', async () => {
    // sorted(rdd.cartesian(rdd).collect()) == [(1, 1), (1, 2), (2, 1), (2, 2)]
    const rdd = fl.parallelize([1, 2]);
    expect(canonicalSort(await rdd.cartesian(rdd).collect())).toEqual([[1, 1], [1, 2], [2, 1], [2, 2]]);
    await expectSamePartitions(
      fl.parallelize([1, 2, 3], 2).cartesian(fl.parallelize(['a', 'b', 'c', 'd'], 3)),
      RefRDD.parallelize([1, 2, 3], 2).cartesian(RefRDD.parallelize(['a', 'b', 'c', 'd'], 3)),
    );
  });

  it('coalesce without shuffle groups contiguous partitions', async () => {
    // sc.parallelize([1, 2, 3, 4, 5], 3).coalesce(1).glom().collect() == [[1, 2, 3, 4, 5]]
    expect(await fl.parallelize([1, 2, 3, 4, 5], 3).coalesce(1).glom().collect()).toEqual([[1, 2, 3, 4, 5]]);
    const data = Array.from({ length: 20 }, (_, i) => i);
    for (const [from, to] of [[7, 3], [5, 2], [4, 4], [3, 8], [6, 5]] as const) {
      await expectSamePartitions(fl.parallelize(data, from).coalesce(to), RefRDD.parallelize(data, from).coalesce(to));
    }
  });

  it('repartition and coalesce with shuffle give the asked number of partitions', async () => {
    // rdd = sc.parallelize([1, 2, 3, 4, 5, 6, 7], 4); len(rdd.repartition(2).glom().collect()) == 2; ... 10
    const data = [1, 2, 3, 4, 5, 6, 7];
    const rdd = fl.parallelize(data, 4);
    expect(await rdd.glom().collect()).toEqual([[1], [2, 3], [4, 5], [6, 7]]);
    expect((await rdd.repartition(2).glom().collect()).length).toBe(2);
    expect((await rdd.repartition(10).glom().collect()).length).toBe(10);
    await expectSameMultiset(rdd.repartition(3), RefRDD.parallelize(data, 4).repartition(3));
    await expectSameMultiset(rdd.coalesce(2, { shuffle: true }), RefRDD.parallelize(data, 4).repartition(2));
    expect(await rdd.repartition(10).count()).toBe(7);
  });

  it('repartition spreads records over the partitions', async () => {
    const sizes = (await fl.range(0, 1000, 1, 1).repartition(4).glom().collect()).map((p) => p.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1000);
    for (const s of sizes) expect(s).toBeGreaterThan(100);
  });
});

describe('shuffles give the reference multiset', () => {
  it('distinct', async () => {
    // sorted(sc.parallelize([1, 1, 2, 3]).distinct().collect()) == [1, 2, 3]
    expect(canonicalSort(await fl.parallelize([1, 1, 2, 3]).distinct().collect())).toEqual([1, 2, 3]);
    const data = ['a', 'b', 'a', 'c', 'b', 'a', 'd'];
    await expectSameMultiset(fl.parallelize(data, 3).distinct(), RefRDD.parallelize(data, 3).distinct());
    await expectSameMultiset(fl.parallelize(data, 3).distinct({ numPartitions: 5 }), RefRDD.parallelize(data, 3).distinct(5));
  });

  it('distinct treats arrays and objects by value', async () => {
    const data = [[1, 'a'], [1, 'a'], { x: 1, y: [2] }, { y: [2], x: 1 }, [1, 'b']];
    expect(await fl.parallelize(data, 3).distinct().count()).toBe(3);
    await expectSameMultiset(fl.parallelize(data, 3).distinct(), RefRDD.parallelize(data, 3).distinct());
  });

  it('intersection', async () => {
    // rdd1.intersection(rdd2).collect() -> [1, 2, 3]
    const a = [1, 10, 2, 3, 4, 5];
    const b = [1, 6, 2, 3, 7, 8];
    expect(canonicalSort(await fl.parallelize(a).intersection(fl.parallelize(b)).collect())).toEqual([1, 2, 3]);
    expect(canonicalSort(await fl.parallelize([1, 1, 2, 2], 2).intersection(fl.parallelize([2, 2, 1], 3)).collect())).toEqual([1, 2]);
    expect(canonicalSort(await fl.parallelize(a, 2).intersection(fl.parallelize(b, 3)).collect())).toEqual(
      canonicalSort(RefRDD.parallelize(a, 2).intersection(RefRDD.parallelize(b, 3)).collect()),
    );
    expect(fl.parallelize(a, 2).intersection(fl.parallelize(b, 3), { numPartitions: 4 }).getNumPartitions()).toBe(4);
  });

  it('subtract keeps duplicates', async () => {
    // sorted(x.subtract(y).collect()) == [('a', 1), ('b', 4), ('b', 5)]
    const x = fl.parallelize([['a', 1], ['b', 4], ['b', 5], ['a', 3]]);
    const y = fl.parallelize([['a', 3], ['c', null]]);
    expect(canonicalSort(await x.subtract(y as never).collect())).toEqual([['a', 1], ['b', 4], ['b', 5]]);
    const d1 = [1, 1, 2, 3, 3, 3, 4];
    const d2 = [3, 5];
    expect(canonicalSort(await fl.parallelize(d1, 3).subtract(fl.parallelize(d2, 2)).collect())).toEqual(
      canonicalSort(RefRDD.parallelize(d1, 3).subtract(RefRDD.parallelize(d2, 2)).collect()),
    );
  });

  it('groupBy', async () => {
    // sorted([(x, sorted(y)) for (x, y) in result]) == [(0, [2, 8]), (1, [1, 1, 3, 5])]
    const data = [1, 1, 2, 3, 5, 8];
    const mod2 = (x: number) => x % 2;
    const rdd = fl.parallelize(data).groupBy(mod2);
    expect(normalizeGroups(await rdd.collect())).toEqual([[0, [2, 8]], [1, [1, 1, 3, 5]]]);
    await expectSameMultiset(fl.parallelize(data, 3).groupBy(mod2, { numPartitions: 2 }), RefRDD.parallelize(data, 3).groupBy(mod2, 2), normalizeGroups);
    await expectSameMultiset(
      fl.parallelize(data, 3).groupBy((x) => x % m, { env: { m: 3 } }),
      RefRDD.parallelize(data, 3).groupBy((x) => x % 3),
      normalizeGroups,
    );
  });

  it('sortBy is a total order', async () => {
    // sc.parallelize(tmp).sortBy(lambda x: x[0]).collect() == [('1', 3), ('2', 5), ('a', 1), ('b', 2), ('d', 4)]
    const tmp: [string, number][] = [['a', 1], ['b', 2], ['1', 3], ['d', 4], ['2', 5]];
    expect(await fl.parallelize(tmp).sortBy((x) => x[0]).collect()).toEqual([['1', 3], ['2', 5], ['a', 1], ['b', 2], ['d', 4]]);
    expect(await fl.parallelize(tmp).sortBy((x) => x[1]).collect()).toEqual([['a', 1], ['b', 2], ['1', 3], ['d', 4], ['2', 5]]);
    const data = Array.from({ length: 200 }, (_, i) => (i * 7919) % 211);
    const id = (x: number) => x;
    for (const ascending of [true, false]) {
      for (const numPartitions of [1, 3, 7]) {
        const rdd = fl.parallelize(data, 4).sortBy(id, { ascending, numPartitions });
        expect(rdd.getNumPartitions()).toBe(numPartitions);
        await expectSameOrder(rdd, RefRDD.parallelize(data, 4).sortBy(id, ascending, numPartitions));
      }
    }
  });

  it('sortBy places contiguous runs of the order in consecutive partitions', async () => {
    const data = Array.from({ length: 300 }, (_, i) => (i * 37) % 300);
    const parts = await fl.parallelize(data, 3).sortBy((x) => x, { numPartitions: 4 }).glom().collect();
    expect(parts.length).toBe(4);
    expect(parts.flat()).toEqual([...data].sort((a, b) => a - b));
    // Range partitioning from a sample should not leave one partition with everything.
    for (const p of parts) expect(p.length).toBeLessThan(200);
  });

  it('sortBy with a key of strings and of arrays', async () => {
    const words = ['pear', 'Apple', 'fig', 'banana', 'apple', 'Fig', 'cherry'];
    const lower = (s: string) => s.toLowerCase();
    const byLen = (s: string) => [s.length, s];
    await expectSameOrder(fl.parallelize(words, 3).sortBy(byLen), RefRDD.parallelize(words, 3).sortBy(byLen));
    await expectSameOrder(fl.parallelize(words, 3).sortBy(byLen, { ascending: false }), RefRDD.parallelize(words, 3).sortBy(byLen, false));
    const keys = (await fl.parallelize(words, 3).sortBy(lower).collect()).map(lower);
    expect(keys).toEqual(RefRDD.parallelize(words, 3).sortBy(lower).collect().map(lower));
  });

  it('sample is deterministic for a seed and stays within the input', async () => {
    // 6 <= sc.parallelize(range(100), 4).sample(False, 0.1, 81).count() <= 14
    const rdd = fl.range(0, 100, 1, 4);
    const n = await rdd.sample(false, 0.1, 81).count();
    expect(n).toBeGreaterThanOrEqual(6);
    expect(n).toBeLessThanOrEqual(14);
    const a = await rdd.sample(false, 0.3, 7).collect();
    const b = await rdd.sample(false, 0.3, 7).collect();
    expect(a).toEqual(b);
    // Without replacement a sample is an order-preserving subsequence.
    expect(a).toEqual([...new Set(a)].sort((x, y) => x - y));
    const withRep = await rdd.sample(true, 2, 11).collect();
    expect(withRep).toEqual(await rdd.sample(true, 2, 11).collect());
    expect(withRep.length).toBeGreaterThan(120);
    expect(withRep.every((x) => Number.isInteger(x) && x >= 0 && x < 100)).toBe(true);
    expect(await rdd.sample(false, 0, 3).count()).toBe(0);
    expect(await rdd.sample(false, 1, 3).count()).toBe(100);
  });

  it('randomSplit partitions the data exactly', async () => {
    // rdd1, rdd2 = sc.parallelize(range(500), 1).randomSplit([2, 3], 17); 150 < rdd1.count() < 250; 250 < rdd2.count() < 350
    const rdd = fl.range(0, 500, 1, 1);
    const [r1, r2] = rdd.randomSplit([2, 3], 17);
    const a = await r1!.collect();
    const b = await r2!.collect();
    expect(a.length + b.length).toBe(500);
    expect(a.length).toBeGreaterThan(150);
    expect(a.length).toBeLessThan(250);
    expect(b.length).toBeGreaterThan(250);
    expect(b.length).toBeLessThan(350);
    expect([...a, ...b].sort((x, y) => x - y)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    const splits = fl.range(0, 300, 1, 4).randomSplit([1, 1, 1], 5);
    const all = (await Promise.all(splits.map((s) => s.collect()))).flat();
    expect(all.sort((x, y) => x - y)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });
});

// These narrow dependencies read parent partition p from a task of another index (union at an
// offset, coalesce groups, cartesian's p / n2 and p % n2). Over a shuffle output the task must be
// given the map outputs of the reduce partitions it actually reads.
describe('narrow dependencies that renumber partitions, over shuffle outputs', () => {
  const add = (a: number, b: number) => a + b;
  const data: [number, number][] = Array.from({ length: 20 }, (_, i) => [i % 5, 1]);

  it('union with a shuffled RDD placed after another RDD', async () => {
    const rdd = fl.parallelize([[9, 9]] as [number, number][], 1).union(fl.parallelize(data, 3).reduceByKey(add));
    const ref = RefRDD.parallelize([[9, 9]] as [number, number][], 1).union(RefRDD.parallelize(data, 3).reduceByKey(add));
    await expectSameMultiset(rdd, ref);
  });

  it('coalesce of a sorted RDD keeps every record, in order', async () => {
    // Coalescing contiguous ranges of a total order keeps the order.
    expect(await fl.parallelize([5, 3, 1, 2, 4], 3).sortBy((x) => x).coalesce(1).collect()).toEqual([1, 2, 3, 4, 5]);
    const xs = Array.from({ length: 40 }, (_, i) => (i * 17) % 40);
    expect(await fl.parallelize(xs, 4).sortBy((x) => x, { numPartitions: 5 }).coalesce(2).collect()).toEqual([...xs].sort((a, b) => a - b));
  });

  it('cartesian of a sorted RDD', async () => {
    expect(canonicalSort(await fl.parallelize([3, 1, 2], 2).sortBy((x) => x).cartesian(fl.parallelize([0], 1)).collect())).toEqual([[1, 0], [2, 0], [3, 0]]);
    const left = fl.parallelize(data, 3).reduceByKey(add, { numPartitions: 4 });
    const right = fl.parallelize(['a', 'b', 'c'], 2).distinct();
    const ref = RefRDD.parallelize(data, 3).reduceByKey(add, 4).cartesian(RefRDD.parallelize(['a', 'b', 'c'], 2).distinct());
    await expectSameMultiset(left.cartesian(right), ref);
  });
});
