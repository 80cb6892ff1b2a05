/** RDD actions against the reference model, on examples from PySpark's rdd.py docstrings. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flint } from 'flint';
import { RefRDD, canonicalSort, mapEntries } from '../reference/rdd-reference.js';
import { flintErrorOf, startFlint } from './helpers.js';

// Variables that closures receive through `env`, declared for the type checker.
declare const m: number;
declare const lim: number;

let fl: Flint;
beforeAll(async () => {
  fl = await startFlint('local[2]');
});
afterAll(async () => {
  await fl.stop();
});

const add = (a: number, b: number) => a + b;

describe('collect, count, first, take, isEmpty', () => {
  it('collect and count', async () => {
    expect(await fl.parallelize([2, 3, 4]).count()).toBe(3);
    expect(await fl.parallelize([], 3).count()).toBe(0);
    const data = Array.from({ length: 50 }, (_, i) => ({ i, s: `x${i}`, a: [i, null, true] }));
    expect(await fl.parallelize(data, 7).collect()).toEqual(RefRDD.parallelize(data, 7).collect());
  });

  it('first', async () => {
    // sc.parallelize([2, 3, 4]).first() == 2
    expect(await fl.parallelize([2, 3, 4]).first()).toBe(2);
    expect(await fl.parallelize([1, 2, 3, 4], 4).filter((x) => x > 2).first()).toBe(3);
  });

  it('first on an empty RDD is an error', async () => {
    const err = await flintErrorOf(fl.parallelize([]).first());
    expect(err.message).toMatch(/empty/i);
    await flintErrorOf(fl.emptyRDD().first());
  });

  it('take', async () => {
    // sc.parallelize([2, 3, 4, 5, 6]).cache().take(2) == [2, 3]
    expect(await fl.parallelize([2, 3, 4, 5, 6]).cache().take(2)).toEqual([2, 3]);
    expect(await fl.parallelize([2, 3, 4, 5, 6]).take(10)).toEqual([2, 3, 4, 5, 6]);
    // sc.parallelize(range(100), 100).filter(lambda x: x > 90).take(3) == [91, 92, 93]
    expect(await fl.range(0, 100, 1, 100).filter((x) => x > 90).take(3)).toEqual([91, 92, 93]);
    expect(await fl.parallelize([1, 2, 3]).take(0)).toEqual([]);
    const data = Array.from({ length: 40 }, (_, i) => i);
    for (const n of [1, 5, 17, 40, 41]) expect(await fl.parallelize(data, 6).take(n)).toEqual(RefRDD.parallelize(data, 6).take(n));
  });

  it('isEmpty', async () => {
    expect(await fl.parallelize([]).isEmpty()).toBe(true);
    expect(await fl.parallelize([1]).isEmpty()).toBe(false);
    expect(await fl.emptyRDD().isEmpty()).toBe(true);
    expect(await fl.parallelize([1, 2, 3], 3).filter((x) => x > 5).isEmpty()).toBe(true);
  });

  it('toLocalIterator yields every record in order', async () => {
    // [x for x in sc.parallelize(range(10)).toLocalIterator()] == [0, 1, ..., 9]
    const seen: number[] = [];
    for await (const x of fl.range(0, 10, 1, 3).toLocalIterator()) seen.push(x);
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => i));
    const none: unknown[] = [];
    for await (const x of fl.parallelize([], 2).toLocalIterator()) none.push(x);
    expect(none).toEqual([]);
  });
});

describe('ordering actions', () => {
  it('takeOrdered with and without key', async () => {
    // sc.parallelize([10, 1, 2, 9, 3, 4, 5, 6, 7]).takeOrdered(6) == [1, 2, 3, 4, 5, 6]
    expect(await fl.parallelize([10, 1, 2, 9, 3, 4, 5, 6, 7]).takeOrdered(6)).toEqual([1, 2, 3, 4, 5, 6]);
    // sc.parallelize([10, 1, 2, 9, 3, 4, 5, 6, 7], 2).takeOrdered(6, key=lambda x: -x) == [10, 9, 7, 6, 5, 4]
    expect(await fl.parallelize([10, 1, 2, 9, 3, 4, 5, 6, 7], 2).takeOrdered(6, (x) => -x)).toEqual([10, 9, 7, 6, 5, 4]);
    const data = Array.from({ length: 60 }, (_, i) => (i * 13) % 61);
    const ref = RefRDD.parallelize(data, 5);
    for (const n of [0, 1, 7, 60, 100]) {
      expect(await fl.parallelize(data, 5).takeOrdered(n)).toEqual(ref.takeOrdered(n));
      expect(await fl.parallelize(data, 5).takeOrdered(n, (x) => x % m * 1000 + x, { env: { m: 10 } })).toEqual(ref.takeOrdered(n, (x) => (x % 10) * 1000 + x));
    }
  });

  it('top with and without key', async () => {
    // sc.parallelize([10, 4, 2, 12, 3]).top(1) == [12]
    expect(await fl.parallelize([10, 4, 2, 12, 3]).top(1)).toEqual([12]);
    // sc.parallelize([2, 3, 4, 5, 6], 2).top(2) == [6, 5]
    expect(await fl.parallelize([2, 3, 4, 5, 6], 2).top(2)).toEqual([6, 5]);
    // sc.parallelize([10, 4, 2, 12, 3]).top(3, key=str) == [4, 3, 2]
    expect(await fl.parallelize([10, 4, 2, 12, 3]).top(3, (x) => String(x))).toEqual([4, 3, 2]);
    const words = ['kiwi', 'apple', 'fig', 'banana', 'cherry', 'date'];
    expect(await fl.parallelize(words, 3).top(3)).toEqual(RefRDD.parallelize(words, 3).top(3));
    expect(await fl.parallelize(words, 3).top(2, (w) => w.length)).toEqual(RefRDD.parallelize(words, 3).top(2, (w) => w.length));
  });

  it('max and min with key', async () => {
    // rdd = sc.parallelize([1.0, 5.0, 43.0, 10.0]); rdd.max() == 43.0; rdd.max(key=str) == 5.0
    const rdd = fl.parallelize([1.0, 5.0, 43.0, 10.0]);
    expect(await rdd.max()).toBe(43);
    expect(await rdd.max((x) => String(x))).toBe(5);
    // rdd.min() == 1.0
    expect(await rdd.min()).toBe(1);
    // Python's min(key=str) gives 10.0 because str(10.0) == '10.0' < '1.0'; in JavaScript
    // String(1.0) is '1', which sorts first, so the answer comes from the reference instead.
    expect(await rdd.min((x) => String(x))).toBe(RefRDD.parallelize([1, 5, 43, 10], 2).min((x) => String(x)));
    expect(await rdd.min((x) => -x)).toBe(43);
  });

  it('max and min of an empty RDD are errors', async () => {
    await flintErrorOf(fl.parallelize([] as number[]).max());
    await flintErrorOf(fl.parallelize([] as number[]).min());
  });
});

describe('reductions', () => {
  it('reduce', async () => {
    // sc.parallelize([1, 2, 3, 4, 5]).reduce(add) == 15
    expect(await fl.parallelize([1, 2, 3, 4, 5]).reduce(add)).toBe(15);
    // sc.parallelize((2 for _ in range(10))).map(lambda x: 1).cache().reduce(add) == 10
    expect(await fl.parallelize(Array.from({ length: 10 }, () => 2)).map(() => 1).cache().reduce(add)).toBe(10);
    // Non-commutative: string concatenation keeps partition order.
    const letters = 'abcdefghij'.split('');
    const cat = (a: string, b: string) => a + b;
    expect(await fl.parallelize(letters, 4).reduce(cat)).toBe(RefRDD.parallelize(letters, 4).reduce(cat));
    expect(await fl.parallelize([3, 9, 1], 3).reduce('max')).toBe(9);
    expect(await fl.parallelize([3, 9, 1], 3).reduce('min')).toBe(1);
    expect(await fl.parallelize([3, 9, 1], 3).reduce('sum')).toBe(13);
  });

  it('reduce on an empty RDD is an error', async () => {
    // sc.parallelize([]).reduce(add) raises ValueError
    await flintErrorOf(fl.parallelize([] as number[]).reduce(add));
    await flintErrorOf(fl.parallelize([] as number[], 3).reduce(add));
  });

  it('fold applies the zero value once per partition and once on merge', async () => {
    // sc.parallelize([1, 2, 3, 4, 5]).fold(0, add) == 15
    expect(await fl.parallelize([1, 2, 3, 4, 5]).fold(0, add)).toBe(15);
    for (const k of [1, 2, 3, 5]) {
      expect(await fl.parallelize([1, 2, 3, 4, 5], k).fold(1, add)).toBe(RefRDD.parallelize([1, 2, 3, 4, 5], k).fold(1, add));
    }
    expect(await fl.parallelize([1, 2, 3, 4, 5], 3).fold(1, add)).toBe(19);
    expect(await fl.emptyRDD<number>().fold(7, add)).toBe(7);
    // A mutable zero value must not be shared between partitions.
    const push = (acc: number[], x: number[]) => {
      acc.push(...x);
      return acc;
    };
    const data = [[1], [2], [3], [4]];
    expect(canonicalSort(await fl.parallelize(data, 3).fold([], push))).toEqual([1, 2, 3, 4]);
  });

  it('aggregate', async () => {
    // sc.parallelize([1, 2, 3, 4]).aggregate((0, 0), seqOp, combOp) == (10, 4)
    const seqOp = (x: [number, number], y: number): [number, number] => [x[0] + y, x[1] + 1];
    const combOp = (x: [number, number], y: [number, number]): [number, number] => [x[0] + y[0], x[1] + y[1]];
    expect(await fl.parallelize([1, 2, 3, 4]).aggregate([0, 0], seqOp, combOp)).toEqual([10, 4]);
    // sc.parallelize([]).aggregate((0, 0), seqOp, combOp) == (0, 0)
    expect(await fl.parallelize([] as number[]).aggregate([0, 0], seqOp, combOp)).toEqual([0, 0]);
    const zero: [number, number] = [1, 0];
    expect(await fl.parallelize([1, 2, 3, 4], 3).aggregate(zero, seqOp, combOp)).toEqual(RefRDD.parallelize([1, 2, 3, 4], 3).aggregate(zero, seqOp, combOp));
  });

  it('treeReduce and treeAggregate at several depths', async () => {
    // rdd = sc.parallelize([-5, -4, -3, -2, -1, 1, 2, 3, 4], 10); rdd.treeReduce(add, depth) == -5
    const rdd = fl.parallelize([-5, -4, -3, -2, -1, 1, 2, 3, 4], 10);
    expect(await rdd.treeReduce(add)).toBe(-5);
    for (const depth of [1, 2, 5, 10]) {
      expect(await rdd.treeReduce(add, { depth })).toBe(-5);
      expect(await rdd.treeAggregate(0, add, add, { depth })).toBe(-5);
    }
    expect(await rdd.treeAggregate(0, add, add)).toBe(-5);
    const big = fl.range(0, 1000, 1, 37);
    expect(await big.treeReduce(add, { depth: 3 })).toBe(499500);
    const seqOp = (x: [number, number], y: number): [number, number] => [x[0] + y, x[1] + 1];
    const combOp = (x: [number, number], y: [number, number]): [number, number] => [x[0] + y[0], x[1] + y[1]];
    expect(await big.treeAggregate([0, 0], seqOp, combOp, { depth: 3 })).toEqual([499500, 1000]);
    expect(await fl.parallelize([] as number[], 4).treeAggregate(0, add, add)).toBe(0);
  });

  it('treeReduce on an empty RDD is an error', async () => {
    await flintErrorOf(fl.parallelize([] as number[], 3).treeReduce(add));
  });
});

describe('numeric actions', () => {
  it('sum, mean, variance, stdev, sampleVariance, sampleStdev', async () => {
    // sc.parallelize([1.0, 2.0, 3.0]).sum() == 6.0
    expect(await fl.parallelize([1.0, 2.0, 3.0]).sum()).toBe(6);
    // sc.parallelize([1, 2, 3]).mean() == 2.0; variance() == 0.666...; stdev() == 0.816...
    const rdd = fl.parallelize([1, 2, 3]);
    expect(await rdd.mean()).toBe(2);
    expect(await rdd.variance()).toBeCloseTo(0.6666666666666666, 12);
    expect(await rdd.stdev()).toBeCloseTo(0.816496580927726, 12);
    // sampleVariance() == 1.0; sampleStdev() == 1.0
    expect(await rdd.sampleVariance()).toBeCloseTo(1, 12);
    expect(await rdd.sampleStdev()).toBeCloseTo(1, 12);
    expect(await fl.parallelize([] as number[]).sum()).toBe(0);
  });

  it('stats of no values follow StatCounter: mean 0, variance NaN', async () => {
    const empty = fl.parallelize([] as number[], 2);
    expect(await empty.mean()).toBe(0);
    expect(await empty.variance()).toBeNaN();
    expect(await empty.sampleStdev()).toBeNaN();
    const s = await empty.stats();
    const r = RefRDD.parallelize([] as number[], 2).stats();
    expect(s).toMatchObject({ count: 0, mean: r.mean, sum: 0, min: r.min, max: r.max });
    expect(s.stdev).toBeNaN();
  });

  it('stats equals the reference', async () => {
    const data = Array.from({ length: 101 }, (_, i) => Math.sin(i) * 100 + i);
    const s = await fl.parallelize(data, 6).stats();
    const r = RefRDD.parallelize(data, 6).stats();
    expect(s.count).toBe(r.count);
    for (const k of ['mean', 'sum', 'variance', 'stdev', 'sampleVariance', 'sampleStdev'] as const) expect(s[k]).toBeCloseTo(r[k], 9);
    expect(s.min).toBe(r.min);
    expect(s.max).toBe(r.max);
    const one = await fl.parallelize([5]).stats();
    expect(one).toMatchObject({ count: 1, mean: 5, sum: 5, min: 5, max: 5, variance: 0, stdev: 0 });
  });

  it('histogram', async () => {
    // rdd = sc.parallelize(range(51))
    const rdd = fl.range(0, 51);
    const ref = RefRDD.range(0, 51, 1, 2);
    // rdd.histogram(2) == ([0, 25, 50], [25, 26])
    expect(await rdd.histogram(2)).toEqual([[0, 25, 50], [25, 26]]);
    // rdd.histogram([0, 5, 25, 50]) == ([0, 5, 25, 50], [5, 20, 26])
    expect(await rdd.histogram([0, 5, 25, 50])).toEqual([[0, 5, 25, 50], [5, 20, 26]]);
    // rdd.histogram([0, 15, 30, 45, 60]) == ([0, 15, 30, 45, 60], [15, 15, 15, 6])
    expect(await rdd.histogram([0, 15, 30, 45, 60])).toEqual([[0, 15, 30, 45, 60], [15, 15, 15, 6]]);
    for (const b of [1, 3, 7, [10, 11, 40], [-5, 0, 100]]) expect(await rdd.histogram(b)).toEqual(ref.histogram(b));
    const floats = [0.5, 1.25, 2.75, 3.0, 3.1, 9.9, 10];
    expect(await fl.parallelize(floats, 3).histogram(4)).toEqual(RefRDD.parallelize(floats, 3).histogram(4));
    expect(await fl.parallelize([3, 3, 3], 2).histogram(5)).toEqual([[3, 3], [3]]);
    // Two subnormals apart by two ulps: the increment underflows to 0 (PySpark divides by zero); both
    // values are still counted, the lowest in the first bucket and the highest in the last (Spark's formula).
    const [bounds, counts] = await fl.parallelize([-5.4e-323, -4.4e-323], 3).histogram(4);
    expect(counts).toEqual([1, 0, 0, 1]);
    expect(bounds).toEqual([-5.4e-323, -5.4e-323, -5.4e-323, -5.4e-323, -4.4e-323]);
  });

  it('histogram over string buckets, as PySpark compares str', async () => {
    // rdd = sc.parallelize(["ab", "ac", "b", "bd", "ef"]); rdd.histogram(("a", "b", "c")) == (('a', 'b', 'c'), [2, 2])
    expect(await fl.parallelize(['ab', 'ac', 'b', 'bd', 'ef']).histogram(['a', 'b', 'c'])).toEqual([['a', 'b', 'c'], [2, 2]]);
    const words = ['zeta', 'alpha', 'Beta', 'ébène', 'b', 'c', 'cz', 'q', '', 'a\u{1F600}', 'a\uFFFF'];
    for (const bounds of [['a', 'b', 'c', 'd'], ['', 'b', 'zz'], ['B', 'a', 'é'], ['a\uFFFF', 'a\u{1F600}', 'b']]) {
      expect(await fl.parallelize(words, 3).histogram(bounds)).toEqual(RefRDD.parallelize(words, 3).histogram(bounds));
    }
    expect((await flintErrorOf(() => fl.parallelize(words).histogram(['b', 'a']))).code).toBe('INVALID_ARGUMENT');
    expect((await flintErrorOf(() => fl.parallelize(words).histogram(['a', 1] as never))).message).toContain('all numbers or all strings');
    // A value of another type cannot be placed among string bounds (Python raises TypeError).
    expect((await flintErrorOf(fl.parallelize(['a', 3, 'b'] as never as string[]).histogram(['a', 'c']))).message).toContain('histogram');
  });

  it('histogram rejects unsorted buckets and empty input', async () => {
    expect((await flintErrorOf(() => fl.range(0, 5).histogram([3, 1, 2]))).code).toBe('INVALID_ARGUMENT');
    await flintErrorOf(fl.parallelize([] as number[]).histogram(3));
  });

  it('countByValue returns a Map', async () => {
    // sorted(sc.parallelize([1, 2, 1, 2, 2], 2).countByValue().items()) == [(1, 2), (2, 3)]
    const m = await fl.parallelize([1, 2, 1, 2, 2], 2).countByValue();
    expect(m).toBeInstanceOf(Map);
    expect(mapEntries(m)).toEqual([[1, 2], [2, 3]]);
    const data = ['a', 'b', 'a', 'c', 'a', 'b'];
    expect(mapEntries(await fl.parallelize(data, 4).countByValue())).toEqual(canonicalSort(RefRDD.parallelize(data, 4).countByValue()));
    const composite = [[1, 2], [1, 2], [2, 1]];
    expect(mapEntries(await fl.parallelize(composite, 2).countByValue())).toEqual([[[1, 2], 2], [[2, 1], 1]]);
  });
});

describe('takeSample', () => {
  it('sizes and membership', async () => {
    // rdd = sc.parallelize(range(0, 10)); len(rdd.takeSample(True, 20, 1)) == 20
    const rdd = fl.range(0, 10);
    const withRep = await rdd.takeSample(true, 20, 1);
    expect(withRep.length).toBe(20);
    expect(withRep.every((x) => x >= 0 && x < 10)).toBe(true);
    // len(rdd.takeSample(False, 5, 2)) == 5
    const five = await rdd.takeSample(false, 5, 2);
    expect(five.length).toBe(5);
    expect(new Set(five).size).toBe(5);
    expect(five.every((x) => x >= 0 && x < 10)).toBe(true);
    // len(rdd.takeSample(False, 15, 3)) == 10
    const all = await rdd.takeSample(false, 15, 3);
    expect([...all].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(await rdd.takeSample(false, 5, 2)).toEqual(five);
    expect(await fl.parallelize([] as number[]).takeSample(false, 3, 1)).toEqual([]);
    expect(await rdd.takeSample(false, 0, 1)).toEqual([]);
  });

  it('refuses a sample larger than an array can hold, as PySpark refuses one beyond sys.maxsize', async () => {
    // sc.range(0, 10).takeSample(False, sys.maxsize) raises ValueError: Sample size cannot be greater than ...
    for (const withReplacement of [false, true]) {
      const err = await flintErrorOf(fl.range(0, 10).takeSample(withReplacement, Number.MAX_SAFE_INTEGER));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toContain('sample size cannot be greater than');
    }
    expect((await fl.range(0, 10).takeSample(false, 2 ** 31)).length).toBe(10);
  });
});

describe('foreach and foreachPartition', () => {
  it('run the function over every record', async () => {
    await expect(fl.parallelize([1, 2, 3], 2).foreach((x) => void x)).resolves.toBeUndefined();
    await expect(
      fl.parallelize([1, 2, 3], 2).foreachPartition((it) => {
        for (let r = it.next(); !r.done; r = it.next()) void r.value;
      }),
    ).resolves.toBeUndefined();
  });

  it('a throwing function fails the action with its message', async () => {
    const err = await flintErrorOf(
      fl.parallelize([1, 2, 3, 4], 2).foreach((x) => {
        if (x === 3) throw new Error(`bad record ${x}`);
      }),
    );
    expect(err.message).toContain('bad record 3');
    const err2 = await flintErrorOf(
      fl.parallelize([1, 2, 3, 4], 2).foreachPartition((it) => {
        const first = it.next();
        if (!first.done && first.value === lim) throw new Error('partition starting at three');
      }, { env: { lim: 3 } }),
    );
    expect(err2.message).toContain('partition starting at three');
  });

  it('foreach sees every record exactly once', async () => {
    // Side effects are only observable from the executors: fail on the record count mismatch.
    const data = Array.from({ length: 30 }, (_, i) => i);
    await expect(
      fl.parallelize(data, 3).foreachPartition((it) => {
        let n = 0;
        for (let r = it.next(); !r.done; r = it.next()) n++;
        if (n !== 10) throw new Error(`partition of ${n}`);
      }),
    ).resolves.toBeUndefined();
  });
});
