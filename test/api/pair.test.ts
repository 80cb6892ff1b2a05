/** Pair RDD methods against the reference model, on examples from PySpark's rdd.py docstrings. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HashPartitioner, type Flint } from 'flint';
import { RefRDD, canonicalSort, mapEntries, normalizeCogroups, normalizeGroups } from '../reference/rdd-reference.js';
import { expectSameMultiset, expectSameOrder, expectSamePartitions, startFlint } from './helpers.js';

// Variables that closures receive through `env`, declared for the type checker.
declare const w: number;
declare const s: number;

let fl: Flint;
beforeAll(async () => {
  fl = await startFlint('local[2]');
});
afterAll(async () => {
  await fl.stop();
});

type P = [string, number];
const add = (a: number, b: number) => a + b;
const pairs: P[] = [['a', 1], ['b', 1], ['a', 1]];
// Colliding keys spread over several partitions, so map-side combining and merging both happen.
const many: P[] = Array.from({ length: 60 }, (_, i) => [`k${(i * 7) % 9}`, i]);

describe('keys, values, mapValues, flatMapValues', () => {
  it('keep order and partitions', async () => {
    // sc.parallelize([(1, 2), (3, 4)]).keys().collect() == [1, 3]
    expect(await fl.parallelize([[1, 2], [3, 4]] as [number, number][]).keys().collect()).toEqual([1, 3]);
    expect(await fl.parallelize([[1, 2], [3, 4]] as [number, number][]).values().collect()).toEqual([2, 4]);
    // x.mapValues(len).collect() == [('a', 3), ('b', 1)]
    const fruits: [string, string[]][] = [['a', ['apple', 'banana', 'lemon']], ['b', ['grapes']]];
    expect(await fl.parallelize(fruits).mapValues((v) => v.length).collect()).toEqual([['a', 3], ['b', 1]]);
    // x.flatMapValues(lambda x: x).collect() == [('a', 'x'), ('a', 'y'), ('a', 'z'), ('b', 'p'), ('b', 'r')]
    const letters: [string, string[]][] = [['a', ['x', 'y', 'z']], ['b', ['p', 'r']]];
    expect(await fl.parallelize(letters).flatMapValues((v) => v).collect()).toEqual([['a', 'x'], ['a', 'y'], ['a', 'z'], ['b', 'p'], ['b', 'r']]);
    const twice = (v: number) => [v, v * 2];
    await expectSamePartitions(fl.parallelize(many, 4).flatMapValues(twice), RefRDD.parallelize(many, 4).flatMapValues(twice));
    await expectSamePartitions(fl.parallelize(many, 4).mapValues((v) => v + 1), RefRDD.parallelize(many, 4).mapValues((v) => v + 1));
  });
});

describe('per-key aggregations', () => {
  it('reduceByKey', async () => {
    // sorted(rdd.reduceByKey(add).collect()) == [('a', 2), ('b', 1)]
    expect(canonicalSort(await fl.parallelize(pairs).reduceByKey(add).collect())).toEqual([['a', 2], ['b', 1]]);
    await expectSameMultiset(fl.parallelize(many, 4).reduceByKey(add), RefRDD.parallelize(many, 4).reduceByKey(add));
    await expectSameMultiset(fl.parallelize(many, 4).reduceByKey(add, { numPartitions: 3 }), RefRDD.parallelize(many, 4).reduceByKey(add, 3));
    await expectSameMultiset(
      fl.parallelize(many, 4).reduceByKey((a, b) => a * w + b * w, { env: { w: 1 } }),
      RefRDD.parallelize(many, 4).reduceByKey(add),
    );
  });

  it("built-in 'sum' | 'min' | 'max' equal the lambdas", async () => {
    const data: P[] = Array.from({ length: 80 }, (_, i) => [`k${i % 7}`, ((i * 37) % 23) - 11 + (i % 3) * 0.5]);
    const rdd = fl.parallelize(data, 5);
    const lambdas = {
      sum: (a: number, b: number) => a + b,
      min: (a: number, b: number) => Math.min(a, b),
      max: (a: number, b: number) => Math.max(a, b),
    };
    for (const name of ['sum', 'min', 'max'] as const) {
      const builtin = canonicalSort(await rdd.reduceByKey(name).collect());
      expect(builtin).toEqual(canonicalSort(await rdd.reduceByKey(lambdas[name]).collect()));
      expect(builtin).toEqual(canonicalSort(RefRDD.parallelize(data, 5).reduceByKey(lambdas[name]).collect()));
      expect(mapEntries(await rdd.reduceByKeyLocally(name))).toEqual(builtin);
    }
    const ints: [number, number][] = Array.from({ length: 50 }, (_, i) => [i % 4, i]);
    expect(canonicalSort(await fl.parallelize(ints, 3).reduceByKey('sum', { numPartitions: 2 }).collect())).toEqual(
      canonicalSort(RefRDD.parallelize(ints, 3).reduceByKey(add).collect()),
    );
  });

  it('reduceByKeyLocally returns a Map', async () => {
    // sorted(rdd.reduceByKeyLocally(add).items()) == [('a', 2), ('b', 1)]
    const m = await fl.parallelize(pairs).reduceByKeyLocally(add);
    expect(m).toBeInstanceOf(Map);
    expect(mapEntries(m)).toEqual([['a', 2], ['b', 1]]);
    expect(mapEntries(await fl.parallelize(many, 3).reduceByKeyLocally(add))).toEqual(canonicalSort(RefRDD.parallelize(many, 3).reduceByKeyLocally(add)));
  });

  it('foldByKey uses the zero value per key and partition', async () => {
    // sorted(rdd.foldByKey(0, add).collect()) == [('a', 2), ('b', 1)]
    expect(canonicalSort(await fl.parallelize(pairs).foldByKey(0, add).collect())).toEqual([['a', 2], ['b', 1]]);
    await expectSameMultiset(fl.parallelize(many, 4).foldByKey(0, add), RefRDD.parallelize(many, 4).foldByKey(0, add));
    await expectSameMultiset(fl.parallelize(many, 4).foldByKey(100, add, { numPartitions: 2 }), RefRDD.parallelize(many, 4).foldByKey(100, add, 2));
  });

  it('aggregateByKey', async () => {
    // sorted(pairs.aggregateByKey((0, 0), seqFunc, combFunc).collect()) == [('a', (5, 2)), ('b', (4, 1))]
    const seqFunc = (x: [number, number], y: number): [number, number] => [x[0] + y, x[1] + 1];
    const combFunc = (x: [number, number], y: [number, number]): [number, number] => [x[0] + y[0], x[1] + y[1]];
    const data: P[] = [['a', 3], ['b', 4], ['a', 2]];
    expect(canonicalSort(await fl.parallelize(data).aggregateByKey([0, 0], seqFunc, combFunc).collect())).toEqual([['a', [5, 2]], ['b', [4, 1]]]);
    await expectSameMultiset(fl.parallelize(many, 4).aggregateByKey([0, 0], seqFunc, combFunc), RefRDD.parallelize(many, 4).aggregateByKey([0, 0], seqFunc, combFunc));
    // A zero value of [1, 0] shows how many partitions held each key.
    await expectSameMultiset(
      fl.parallelize(many, 4).aggregateByKey([1, 0], seqFunc, combFunc, { numPartitions: 3 }),
      RefRDD.parallelize(many, 4).aggregateByKey([1, 0], seqFunc, combFunc, 3),
    );
    // The zero value must not be shared between keys when seqFunc mutates it.
    const push = (acc: number[], v: number) => {
      acc.push(v);
      return acc;
    };
    const concat = (a: number[], b: number[]) => a.concat(b);
    await expectSameMultiset(
      fl.parallelize(many, 3).aggregateByKey([] as number[], push, concat),
      RefRDD.parallelize(many, 3).aggregateByKey([] as number[], push, concat),
      normalizeGroups,
    );
  });

  it('combineByKey', async () => {
    // sorted(x.combineByKey(to_list, append, extend).collect()) == [('a', [1, 2]), ('b', [1])]
    const toList = (a: number) => [a];
    const append = (a: number[], b: number) => {
      a.push(b);
      return a;
    };
    const extend = (a: number[], b: number[]) => {
      a.push(...b);
      return a;
    };
    const x: P[] = [['a', 1], ['b', 1], ['a', 2]];
    expect(normalizeGroups(await fl.parallelize(x).combineByKey(toList, append, extend).collect())).toEqual([['a', [1, 2]], ['b', [1]]]);
    await expectSameMultiset(fl.parallelize(many, 4).combineByKey(toList, append, extend), RefRDD.parallelize(many, 4).combineByKey(toList, append, extend), normalizeGroups);
    await expectSameMultiset(
      fl.parallelize(many, 4).combineByKey(toList, append, extend, { numPartitions: 6 }),
      RefRDD.parallelize(many, 4).combineByKey(toList, append, extend, 6),
      normalizeGroups,
    );
  });

  it('groupByKey', async () => {
    // sorted(rdd.groupByKey().mapValues(len).collect()) == [('a', 2), ('b', 1)]
    expect(canonicalSort(await fl.parallelize(pairs).groupByKey().mapValues((vs) => vs.length).collect())).toEqual([['a', 2], ['b', 1]]);
    // sorted(rdd.groupByKey().mapValues(list).collect()) == [('a', [1, 1]), ('b', [1])]
    expect(normalizeGroups(await fl.parallelize(pairs).groupByKey().collect())).toEqual([['a', [1, 1]], ['b', [1]]]);
    await expectSameMultiset(fl.parallelize(many, 4).groupByKey(), RefRDD.parallelize(many, 4).groupByKey(), normalizeGroups);
    await expectSameMultiset(fl.parallelize(many, 4).groupByKey({ numPartitions: 7 }), RefRDD.parallelize(many, 4).groupByKey(7), normalizeGroups);
  });

  it('arrays and objects are keys by value', async () => {
    const data: [unknown, number][] = [
      [['x', 1], 1],
      [{ a: 1, b: [2, 3] }, 10],
      [['x', 1], 2],
      [{ b: [2, 3], a: 1 }, 20],
      [['x', 2], 3],
      [[1, 'x'], 4],
      [{ a: 1, b: [2, 3] }, 30],
    ];
    const rdd = fl.parallelize(data, 3);
    const ref = RefRDD.parallelize(data, 3);
    await expectSameMultiset(rdd.reduceByKey(add), ref.reduceByKey(add));
    expect((await rdd.reduceByKey(add).collect()).length).toBe(4);
    await expectSameMultiset(rdd.reduceByKey('sum'), ref.reduceByKey(add));
    await expectSameMultiset(rdd.groupByKey(), ref.groupByKey(), normalizeGroups);
    const other: [unknown, string][] = [[['x', 1], 'p'], [{ b: [2, 3], a: 1 }, 'q'], [['y'], 'r']];
    await expectSameMultiset(rdd.join(fl.parallelize(other, 2)), ref.join(RefRDD.parallelize(other, 2)));
    expect(mapEntries(await rdd.countByKey())).toEqual(canonicalSort(ref.countByKey()));
    expect(canonicalSort(await rdd.lookup({ b: [2, 3], a: 1 }))).toEqual([10, 20, 30]);
  });
});

describe('partitioning and sorting', () => {
  it('partitionBy places each key in one partition', async () => {
    // sets = pairs.partitionBy(2).glom().collect(); len(set(sets[0]).intersection(set(sets[1]))) == 0
    const kv = fl.parallelize([1, 2, 3, 4, 2, 4, 1]).map((x) => [x, x] as [number, number]);
    const sets = await kv.partitionBy(2).glom().collect();
    expect(sets.length).toBe(2);
    const keys0 = new Set(sets[0]!.map((p) => p[0]));
    expect(sets[1]!.some((p) => keys0.has(p[0]))).toBe(false);
    const p = fl.parallelize(many, 3).partitionBy(4);
    expect(p.partitioner).toEqual(new HashPartitioner(4));
    await expectSameMultiset(p, RefRDD.parallelize(many, 3).partitionBy(4));
    // The driver-side partitioner agrees with where the executors put each key (lookup relies on it).
    (await p.glom().collect()).forEach((part, i) => {
      for (const [k] of part) expect(p.partitioner!.getPartition(k)).toBe(i);
    });
    const byPartitioner = fl.parallelize(many, 3).partitionBy(new HashPartitioner(3));
    expect(byPartitioner.getNumPartitions()).toBe(3);
    expect(canonicalSort(await byPartitioner.collect())).toEqual(canonicalSort(many));
  });

  it('partitionBy with a partitionFunc', async () => {
    const ints: [number, string][] = Array.from({ length: 20 }, (_, i) => [i, `v${i}`]);
    const parts = await fl.parallelize(ints, 3).partitionBy(3, { partitionFunc: (k) => k % 3 }).glom().collect();
    parts.forEach((part, i) => {
      for (const [k] of part) expect(k % 3).toBe(i);
    });
    expect(canonicalSort(parts.flat())).toEqual(canonicalSort(ints));
  });

  it('sortByKey ascending, descending, numPartitions and keyfunc', async () => {
    const tmp: P[] = [['a', 1], ['b', 2], ['1', 3], ['d', 4], ['2', 5]];
    // sc.parallelize(tmp).sortByKey().first() == ('1', 3)
    expect(await fl.parallelize(tmp).sortByKey().first()).toEqual(['1', 3]);
    // sortByKey(True, 1) and sortByKey(True, 2) collect == [('1', 3), ('2', 5), ('a', 1), ('b', 2), ('d', 4)]
    const sorted = [['1', 3], ['2', 5], ['a', 1], ['b', 2], ['d', 4]];
    expect(await fl.parallelize(tmp).sortByKey({ ascending: true, numPartitions: 1 }).collect()).toEqual(sorted);
    expect(await fl.parallelize(tmp).sortByKey({ ascending: true, numPartitions: 2 }).collect()).toEqual(sorted);
    expect(await fl.parallelize(tmp, 3).sortByKey({ ascending: false }).collect()).toEqual([...sorted].reverse());
    // sortByKey(True, 3, keyfunc=lambda k: k.lower())
    const tmp2: P[] = [['Mary', 1], ['had', 2], ['a', 3], ['little', 4], ['lamb', 5], ['whose', 6], ['fleece', 7], ['was', 8], ['white', 9]];
    expect(await fl.parallelize(tmp2).sortByKey({ ascending: true, numPartitions: 3, keyfunc: (k) => k.toLowerCase() }).collect()).toEqual([
      ['a', 3], ['fleece', 7], ['had', 2], ['lamb', 5], ['little', 4], ['Mary', 1], ['was', 8], ['white', 9], ['whose', 6],
    ]);
    const distinctKeys: [number, string][] = Array.from({ length: 120 }, (_, i) => [(i * 53) % 127, `v${i}`]);
    for (const ascending of [true, false]) {
      for (const numPartitions of [1, 2, 5]) {
        const rdd = fl.parallelize(distinctKeys, 3).sortByKey({ ascending, numPartitions });
        expect(rdd.getNumPartitions()).toBe(numPartitions);
        await expectSameOrder(rdd, RefRDD.parallelize(distinctKeys, 3).sortByKey(ascending, numPartitions));
      }
    }
    const neg = (k: number) => -k * s;
    await expectSameOrder(
      fl.parallelize(distinctKeys, 3).sortByKey({ keyfunc: neg, env: { s: 1 } }),
      RefRDD.parallelize(distinctKeys, 3).sortByKey(true, 3, (k) => -k),
    );
  });

  it('sortByKey and sortBy of RDDs without records or partitions', async () => {
    expect(await fl.parallelize([] as [number, number][], 3).sortByKey().collect()).toEqual([]);
    expect(await fl.emptyRDD<[number, number]>().sortByKey().collect()).toEqual([]);
    expect(await fl.emptyRDD<number>().sortBy((x) => x).collect()).toEqual([]);
    expect(await fl.emptyRDD<[number, number]>().sortByKey({ ascending: false, numPartitions: 2 }).collect()).toEqual([]);
  });

  it('sortByKey with repeated keys orders the keys and keeps every pair', async () => {
    const rdd = fl.parallelize(many, 4).sortByKey({ numPartitions: 3 });
    const out = await rdd.collect();
    const ref = RefRDD.parallelize(many, 4).sortByKey(true, 3).collect();
    expect(out.map((kv) => kv[0])).toEqual(ref.map((kv) => kv[0]));
    expect(canonicalSort(out)).toEqual(canonicalSort(ref));
  });
});

describe('joins and cogroups', () => {
  const x: P[] = [['a', 1], ['b', 4]];
  it('join', async () => {
    // sorted(x.join(y).collect()) == [('a', (1, 2)), ('a', (1, 3))]
    const y: P[] = [['a', 2], ['a', 3]];
    expect(canonicalSort(await fl.parallelize(x).join(fl.parallelize(y)).collect())).toEqual([['a', [1, 2]], ['a', [1, 3]]]);
    const other: [string, string][] = Array.from({ length: 15 }, (_, i) => [`k${i % 11}`, `w${i}`]);
    await expectSameMultiset(fl.parallelize(many, 3).join(fl.parallelize(other, 2), { numPartitions: 4 }), RefRDD.parallelize(many, 3).join(RefRDD.parallelize(other, 2), 4));
    expect(canonicalSort(await fl.parallelize(many, 3).join(fl.parallelize(other, 2)).collect())).toEqual(
      canonicalSort(RefRDD.parallelize(many, 3).join(RefRDD.parallelize(other, 2)).collect()),
    );
  });

  it('leftOuterJoin, rightOuterJoin, fullOuterJoin use null for the missing side', async () => {
    // sorted(x.leftOuterJoin(y).collect()) == [('a', (1, 2)), ('b', (4, None))]
    const y: P[] = [['a', 2]];
    expect(canonicalSort(await fl.parallelize(x).leftOuterJoin(fl.parallelize(y)).collect())).toEqual([['a', [1, 2]], ['b', [4, null]]]);
    // sorted(y.rightOuterJoin(x).collect()) == [('a', (2, 1)), ('b', (None, 4))]
    expect(canonicalSort(await fl.parallelize(y).rightOuterJoin(fl.parallelize(x)).collect())).toEqual([['a', [2, 1]], ['b', [null, 4]]]);
    // sorted(x.fullOuterJoin(y).collect()) == [('a', (1, 2)), ('b', (4, None)), ('c', (None, 8))]
    const y2: P[] = [['a', 2], ['c', 8]];
    expect(canonicalSort(await fl.parallelize(x).fullOuterJoin(fl.parallelize(y2)).collect())).toEqual([['a', [1, 2]], ['b', [4, null]], ['c', [null, 8]]]);
    const other: [string, string][] = Array.from({ length: 15 }, (_, i) => [`k${i % 11}`, `w${i}`]);
    const [l, r] = [fl.parallelize(many, 3), fl.parallelize(other, 2)];
    const [rl, rr] = [RefRDD.parallelize(many, 3), RefRDD.parallelize(other, 2)];
    await expectSameMultiset(l.leftOuterJoin(r, { numPartitions: 2 }), rl.leftOuterJoin(rr, 2));
    await expectSameMultiset(l.rightOuterJoin(r, { numPartitions: 2 }), rl.rightOuterJoin(rr, 2));
    await expectSameMultiset(l.fullOuterJoin(r, { numPartitions: 5 }), rl.fullOuterJoin(rr, 5));
  });

  it('cogroup', async () => {
    // [(x, tuple(map(list, y))) for x, y in sorted(list(x.cogroup(y).collect()))] == [('a', ([1], [2])), ('b', ([4], []))]
    const y: P[] = [['a', 2]];
    expect(normalizeCogroups(await fl.parallelize(x).cogroup(fl.parallelize(y)).collect())).toEqual([['a', [[1], [2]]], ['b', [[4], []]]]);
    // keyBy docstring: x = range(0,3).keyBy(x*x); y = zip(range(5), range(5)); cogroup
    const kx = fl.range(0, 3).keyBy((v) => v * v);
    const ky = fl.parallelize([0, 1, 2, 3, 4].map((i) => [i, i] as [number, number]));
    expect(normalizeCogroups(await kx.cogroup(ky).collect())).toEqual([
      [0, [[0], [0]]], [1, [[1], [1]]], [2, [[], [2]]], [3, [[], [3]]], [4, [[2], [4]]],
    ]);
    const other: [string, string][] = Array.from({ length: 15 }, (_, i) => [`k${i % 11}`, `w${i}`]);
    await expectSameMultiset(
      fl.parallelize(many, 3).cogroup(fl.parallelize(other, 2), { numPartitions: 3 }),
      RefRDD.parallelize(many, 3).cogroup(RefRDD.parallelize(other, 2), 3) as RefRDD<[string, [number[], string[]]]>,
      normalizeCogroups as never,
    );
  });

  it('groupWith', async () => {
    // [('a', ([5], [1], [2], [])), ('b', ([6], [4], [], [42]))]
    const w = fl.parallelize([['a', 5], ['b', 6]] as P[]);
    const x1 = fl.parallelize([['a', 1], ['b', 4]] as P[]);
    const y = fl.parallelize([['a', 2]] as P[]);
    const z = fl.parallelize([['b', 42]] as P[]);
    expect(normalizeCogroups(await w.groupWith(x1, y, z).collect())).toEqual([['a', [[5], [1], [2], []]], ['b', [[6], [4], [], [42]]]]);
    expect(normalizeCogroups(await w.groupWith(x1).collect())).toEqual([['a', [[5], [1]]], ['b', [[6], [4]]]]);
  });

  it('subtractByKey', async () => {
    // sorted(x.subtractByKey(y).collect()) == [('b', 4), ('b', 5)]
    const a = fl.parallelize([['a', 1], ['b', 4], ['b', 5], ['a', 2]] as P[]);
    const b = fl.parallelize([['a', 3], ['c', null]] as [string, number | null][]);
    expect(canonicalSort(await a.subtractByKey(b).collect())).toEqual([['b', 4], ['b', 5]]);
    const other: [string, null][] = [['k1', null], ['k4', null], ['zz', null]];
    expect(canonicalSort(await fl.parallelize(many, 4).subtractByKey(fl.parallelize(other, 2)).collect())).toEqual(
      canonicalSort(RefRDD.parallelize(many, 4).subtractByKey(RefRDD.parallelize(other, 2)).collect()),
    );
  });
});

describe('pair actions', () => {
  it('countByKey returns a Map', async () => {
    // sorted(sc.parallelize([("a", 1), ("b", 1), ("a", 1)]).countByKey().items()) == [('a', 2), ('b', 1)]
    const m = await fl.parallelize(pairs).countByKey();
    expect(m).toBeInstanceOf(Map);
    expect(mapEntries(m)).toEqual([['a', 2], ['b', 1]]);
    expect(mapEntries(await fl.parallelize(many, 5).countByKey())).toEqual(canonicalSort(RefRDD.parallelize(many, 5).countByKey()));
  });

  it('collectAsMap returns a Map, later pairs winning', async () => {
    // m = sc.parallelize([(1, 2), (3, 4)]).collectAsMap(); m[1] == 2; m[3] == 4
    const m = await fl.parallelize([[1, 2], [3, 4]] as [number, number][]).collectAsMap();
    expect(m).toBeInstanceOf(Map);
    expect(m.get(1)).toBe(2);
    expect(m.get(3)).toBe(4);
    expect(mapEntries(await fl.parallelize(many, 4).collectAsMap())).toEqual(canonicalSort(RefRDD.parallelize(many, 4).collectAsMap()));
  });

  it('lookup', async () => {
    // rdd = sc.parallelize(zip(l, l), 10); rdd.lookup(42) == [42]
    const l = Array.from({ length: 1000 }, (_, i) => [i, i] as [number, number]);
    const rdd = fl.parallelize(l, 10);
    expect(await rdd.lookup(42)).toEqual([42]);
    // sorted.lookup(1024) == []
    expect(await rdd.sortByKey().lookup(1024)).toEqual([]);
    // Range-partitioned output whose bounds no job has sampled yet must still find every key.
    expect(await fl.parallelize(l, 10).sortByKey().lookup(999)).toEqual([999]);
    expect(await fl.parallelize(l, 10).sortByKey({ ascending: false }).lookup(500)).toEqual([500]);
    const sortedOnce = fl.parallelize(l, 10).sortByKey({ numPartitions: 4 });
    await sortedOnce.count();
    expect(await sortedOnce.lookup(777)).toEqual([777]);
    expect(await sortedOnce.filter((kv) => kv[0] % 2 === 1).lookup(3)).toEqual([3]);
    // rdd2 = sc.parallelize([(('a', 'b'), 'c')]).groupByKey(); list(rdd2.lookup(('a', 'b'))[0]) == ['c']
    const rdd2 = fl.parallelize([[['a', 'b'], 'c']] as [[string, string], string][]).groupByKey();
    expect(await rdd2.lookup(['a', 'b'] as [string, string])).toEqual([['c']]);
    expect(canonicalSort(await fl.parallelize(many, 4).lookup('k3'))).toEqual(canonicalSort(RefRDD.parallelize(many, 4).lookup('k3')));
    const partitioned = fl.parallelize(many, 4).partitionBy(3);
    expect(canonicalSort(await partitioned.lookup('k5'))).toEqual(canonicalSort(RefRDD.parallelize(many, 4).lookup('k5')));
  });

  it('sampleByKey keeps per-key fractions', async () => {
    // fractions = {"a": 0.2, "b": 0.1}; rdd = keys.cartesian(range(0, 1000)); 100 < len(a) < 300; 50 < len(b) < 150
    const rdd = fl.parallelize(['a', 'b']).cartesian(fl.range(0, 1000));
    const sample = new Map(await rdd.sampleByKey(false, { a: 0.2, b: 0.1 }, 2).groupByKey().collect());
    const a = sample.get('a')!;
    const b = sample.get('b')!;
    expect(a.length).toBeGreaterThan(100);
    expect(a.length).toBeLessThan(300);
    expect(b.length).toBeGreaterThan(50);
    expect(b.length).toBeLessThan(150);
    expect(Math.max(...a)).toBeLessThanOrEqual(999);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    const again = new Map(await rdd.sampleByKey(false, new Map([['a', 0.2], ['b', 0.1]]), 2).groupByKey().collect());
    expect(canonicalSort(again.get('a')!)).toEqual(canonicalSort(a));
  });
});

describe('env reaches the functions of every method that takes one', () => {
  it('pair methods', async () => {
    const data: P[] = [['a', 1], ['b', 2], ['a', 3], ['c', 4], ['b', 5]];
    const rdd = fl.parallelize(data, 3);
    const ref = RefRDD.parallelize(data, 3);
    const env = { env: { w: 10 } };
    await expectSamePartitions(rdd.mapValues((v) => v * w, env), ref.mapValues((v) => v * 10));
    await expectSamePartitions(rdd.flatMapValues((v) => [v, w], env), ref.flatMapValues((v) => [v, 10]));
    const add = (a: number, b: number) => a + b;
    expect(canonicalSort(await rdd.foldByKey(0, (a, b) => a + b * w, env).collect())).toEqual(canonicalSort(ref.foldByKey(0, (a, b) => a + b * 10).collect()));
    expect(canonicalSort(await rdd.aggregateByKey(0, (a, v) => a + v * w, (a, b) => a + b + 0 * w, env).collect())).toEqual(
      canonicalSort(ref.aggregateByKey(0, (a, v) => a + v * 10, add).collect()),
    );
    expect(canonicalSort(await rdd.combineByKey((v) => v * w, (c, v) => c + v * w, (a, b) => a + b + 0 * w, env).collect())).toEqual(
      canonicalSort(ref.combineByKey((v) => v * 10, (c, v) => c + v * 10, add).collect()),
    );
    expect(mapEntries(await rdd.reduceByKeyLocally((a, b) => a + b + w, env))).toEqual(canonicalSort(ref.reduceByKeyLocally((a, b) => a + b + 10)));
    const byFunc = await rdd.partitionBy(2, { partitionFunc: (k) => (k === 'a' ? w : 1), env: { w: 10 } }).glom().collect();
    expect(byFunc[0]!.map((kv) => kv[0])).toEqual(['a', 'a']);
  });

  it('RDD methods', async () => {
    const xs = [4, 8, 15, 16, 23, 42];
    const rdd = fl.parallelize(xs, 3);
    const ref = RefRDD.parallelize(xs, 3);
    const env = { env: { w: 2 } };
    await expectSamePartitions(rdd.flatMap((x) => [x, x * w], env), ref.flatMap((x) => [x, x * 2]));
    const double = (it: Iterator<number>) => {
      const out: number[] = [];
      for (let r = it.next(); !r.done; r = it.next()) out.push(r.value * w);
      return out;
    };
    await expectSamePartitions(rdd.mapPartitions(double, env), ref.map((x) => x * 2));
    await expectSamePartitions(rdd.mapPartitionsWithIndex((i, it) => [i * w, ...double(it)].slice(0, 1), { env: { w: 2, double } }), ref.mapPartitionsWithIndex((i) => [i * 2]));
    await expectSamePartitions(rdd.keyBy((x) => x % w, env), ref.keyBy((x) => x % 2));
    expect(await rdd.reduce((a, b) => a + b * w, env)).toBe(ref.reduce((a, b) => a + b * 2));
    expect(await rdd.fold(0, (a, b) => a + b * w, env)).toBe(ref.fold(0, (a, b) => a + b * 2));
    expect(await rdd.aggregate(0, (a, x) => a + x * w, (a, b) => a + b + 0 * w, env)).toBe(ref.aggregate(0, (a, x) => a + x * 2, (a, b) => a + b));
    expect(await rdd.treeReduce((a, b) => a + b + 0 * w, { depth: 2, env: { w: 2 } })).toBe(108);
    expect(await rdd.max((x) => -x * w, env)).toBe(4);
    expect(await rdd.min((x) => -x * w, env)).toBe(42);
    expect(await rdd.top(2, (x) => x % 10 * w, env)).toEqual(ref.top(2, (x) => (x % 10) * 2));
    await expect(rdd.foreach((x) => { if (x * w < 0) throw new Error('negative'); }, env)).resolves.toBeUndefined();
    expect(await rdd.sortBy((x) => -x * w, env).collect()).toEqual([...xs].reverse());
    expect(normalizeGroups(await rdd.groupBy((x) => x % w, { env: { w: 2 }, numPartitions: 2 }).collect())).toEqual(normalizeGroups(ref.groupBy((x) => x % 2).collect()));
  });
});
