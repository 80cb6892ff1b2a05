/**
 * PySpark's positional forms (`sortByKey(False, 2)`, `reduceByKey(add, 4)`...) give what the options
 * object gives and what PySpark gives (the reference); anything else is INVALID_ARGUMENT naming the
 * method and the argument. RDDs of two contexts are never mixed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flint, type RDD } from 'flint';
import { RefRDD, canonicalSort, normalizeCogroups, normalizeGroups, sortedBy } from '../reference/rdd-reference.js';
import { expectSameMultiset, expectSameOrder, flintErrorOf, startFlint } from './helpers.js';

// Variables that closures receive through `env`, declared for the type checker.
declare const b: { value: string };

let fl: Flint;
let dir: string;
beforeAll(async () => {
  fl = await startFlint('local[2]');
  dir = mkdtempSync(join(tmpdir(), 'flint-api-arguments-'));
});
afterAll(async () => {
  await fl.stop();
  rmSync(dir, { recursive: true, force: true });
});

type P = [string, number];
const add = (a: number, b: number) => a + b;
const many: P[] = Array.from({ length: 60 }, (_, i) => [`k${(i * 7) % 11}`, i]);
const others: P[] = Array.from({ length: 30 }, (_, i) => [`k${(i * 5) % 13}`, -i]);
const numbers = Array.from({ length: 40 }, (_, i) => (i * 37) % 17);

describe('PySpark positional forms', () => {
  it('sortByKey(ascending, numPartitions, keyfunc) and sortBy(keyfunc, ascending, numPartitions)', async () => {
    const rdd = fl.parallelize(many, 3);
    const ref = RefRDD.parallelize(many, 3);
    await expectSameOrder(rdd.sortByKey(false), ref.sortByKey(false));
    const two = rdd.sortByKey(false, 2);
    expect(two.getNumPartitions()).toBe(2);
    await expectSameOrder(two, ref.sortByKey(false, 2));
    // sc.parallelize(tmp2).sortByKey(True, 3, keyfunc=lambda k: k.lower()).collect()
    const tmp2: P[] = [['Mary', 1], ['had', 2], ['a', 3], ['little', 4], ['lamb', 5], ['whose', 6], ['fleece', 7], ['was', 8], ['white', 9]];
    const lower = (k: string) => k.toLowerCase();
    const byLower = fl.parallelize(tmp2).sortByKey(true, 3, lower);
    expect(byLower.getNumPartitions()).toBe(3);
    await expectSameOrder(byLower, RefRDD.parallelize(tmp2, 2).sortByKey(true, 3, lower));
    // PySpark's sortByKey(False, keyfunc=...) is a positional argument followed by keywords.
    await expectSameOrder(fl.parallelize(tmp2).sortByKey(false, { keyfunc: lower }), RefRDD.parallelize(tmp2, 2).sortByKey(false, 2, lower));
    const neg = (x: number) => -x;
    await expectSameOrder(fl.parallelize(numbers, 4).sortBy(neg, false, 3), RefRDD.parallelize(numbers, 4).sortBy(neg, false, 3));
    expect(fl.parallelize(numbers, 4).sortBy(neg, true, 3).getNumPartitions()).toBe(3);
  });

  it('numPartitions of the per-key shuffles', async () => {
    const rdd = fl.parallelize(many, 3);
    const ref = RefRDD.parallelize(many, 3);
    await expectSameMultiset(rdd.reduceByKey(add, 4), ref.reduceByKey(add, 4));
    await expectSameMultiset(rdd.reduceByKey('sum', 5), ref.reduceByKey(add, 5));
    await expectSameMultiset(rdd.groupByKey(3), ref.groupByKey(3), normalizeGroups);
    await expectSameMultiset(rdd.foldByKey(0, add, 2), ref.foldByKey(0, add, 2));
    const seq = (acc: [number, number], v: number): [number, number] => [acc[0] + v, acc[1] + 1];
    const comb = (x: [number, number], y: [number, number]): [number, number] => [x[0] + y[0], x[1] + y[1]];
    await expectSameMultiset(rdd.aggregateByKey([0, 0], seq, comb, 5), ref.aggregateByKey([0, 0], seq, comb, 5));
    const toList = (v: number) => [v];
    const append = (a: number[], v: number) => [...a, v];
    const extend = (a: number[], b: number[]) => [...a, ...b];
    await expectSameMultiset(rdd.combineByKey(toList, append, extend, 2), ref.combineByKey(toList, append, extend, 2), normalizeGroups);
    await expectSameMultiset(fl.parallelize(numbers, 4).distinct(3), RefRDD.parallelize(numbers, 4).distinct(3));
    const byParity = (x: number) => x % 2;
    await expectSameMultiset(fl.parallelize(numbers, 4).groupBy(byParity, 3), RefRDD.parallelize(numbers, 4).groupBy(byParity, 3), normalizeGroups);
  });

  it('partitionFunc positionally places keys as it says', async () => {
    const ints: [number, number][] = Array.from({ length: 30 }, (_, i) => [i % 10, i]);
    const mod3 = (k: number) => k % 3;
    const check = async <V>(rdd: RDD<[number, V]>) => {
      const parts = await rdd.glom().collect();
      expect(parts.length).toBe(3);
      parts.forEach((part, i) => {
        for (const [k] of part) expect(k % 3).toBe(i);
      });
    };
    await check(fl.parallelize(ints, 2).reduceByKey(add, 3, mod3));
    await check(fl.parallelize(ints, 2).groupByKey(3, mod3));
    await check(fl.parallelize(ints, 2).partitionBy(3, mod3));
    await check(fl.parallelize(ints, 2).foldByKey(0, add, 3, mod3));
    await check(fl.parallelize(ints.map(([k]) => k), 2).groupBy((x) => x, 3, mod3));
  });

  it('the joins, cogroup, subtract, subtractByKey and intersection take numPartitions', async () => {
    const a = fl.parallelize(many, 3);
    const b = fl.parallelize(others, 2);
    const ra = RefRDD.parallelize(many, 3);
    const rb = RefRDD.parallelize(others, 2);
    await expectSameMultiset(a.join(b, 5), ra.join(rb, 5));
    await expectSameMultiset(a.leftOuterJoin(b, 4), ra.leftOuterJoin(rb, 4));
    await expectSameMultiset(a.rightOuterJoin(b, 1), ra.rightOuterJoin(rb, 1));
    await expectSameMultiset(a.fullOuterJoin(b, 6), ra.fullOuterJoin(rb, 6));
    const cogrouped = a.cogroup(b, 4);
    expect(cogrouped.getNumPartitions()).toBe(4);
    expect(normalizeCogroups(await cogrouped.collect())).toEqual(normalizeCogroups(ra.cogroup(rb, 4).collect()));
    const sub = a.subtractByKey(b, 4);
    expect(sub.getNumPartitions()).toBe(4);
    expect(canonicalSort(await sub.collect())).toEqual(canonicalSort(ra.subtractByKey(rb).collect()));
    const x = fl.parallelize(numbers, 3);
    const y = fl.parallelize([1, 2, 3, 50], 2);
    const subtracted = x.subtract(y, 5);
    expect(subtracted.getNumPartitions()).toBe(5);
    expect(canonicalSort(await subtracted.collect())).toEqual(canonicalSort(RefRDD.parallelize(numbers, 3).subtract(RefRDD.parallelize([1, 2, 3, 50], 2)).collect()));
    const both = x.intersection(y, 2);
    expect(both.getNumPartitions()).toBe(2);
    expect(canonicalSort(await both.collect())).toEqual(canonicalSort(RefRDD.parallelize(numbers, 3).intersection(RefRDD.parallelize([1, 2, 3, 50], 2)).collect()));
  });

  it('coalesce(n, shuffle), repartition, treeReduce/treeAggregate depth, seeds and keys', async () => {
    const rdd = fl.parallelize(numbers, 3);
    // Without a shuffle coalesce cannot add partitions; with one it can (Spark's rule).
    expect(rdd.coalesce(6).getNumPartitions()).toBe(3);
    expect(rdd.coalesce(6, true).getNumPartitions()).toBe(6);
    await expectSameMultiset(rdd.coalesce(6, true), RefRDD.parallelize(numbers, 3).repartition(6));
    expect(await fl.parallelize(numbers, 10).treeReduce(add, 3)).toBe(RefRDD.parallelize(numbers, 10).reduce(add));
    expect(await fl.parallelize(numbers, 10).treeAggregate(0, add, add, 5)).toBe(RefRDD.parallelize(numbers, 10).aggregate(0, add, add));
    expect(await rdd.takeSample(false, 5, 7)).toEqual(await rdd.takeSample(false, 5, { seed: 7 }));
    expect(await rdd.sample(true, 0.5, 3).collect()).toEqual(await rdd.sample(true, 0.5, { seed: 3 }).collect());
    const mod5 = (x: number) => x % 5;
    expect(await rdd.top(4, mod5)).toEqual(RefRDD.parallelize(numbers, 3).top(4, mod5));
    expect(await rdd.top(4, { key: mod5 })).toEqual(RefRDD.parallelize(numbers, 3).top(4, mod5));
    expect(await rdd.takeOrdered(4, { key: mod5 })).toEqual(RefRDD.parallelize(numbers, 3).takeOrdered(4, mod5));
    expect(await rdd.max({ key: mod5 })).toBe(RefRDD.parallelize(numbers, 3).max(mod5));
    const asText = sortedBy(numbers.map(String))[0];
    expect(String(await rdd.min((x) => String(x)))).toBe(asText);
  });

  it('map flags, context methods and their options objects', async () => {
    const part = fl.parallelize(many, 3).partitionBy(3);
    expect(part.map((kv) => kv, true).partitioner).toEqual(part.partitioner);
    expect(part.map((kv) => kv, { preservesPartitioning: true }).partitioner).toEqual(part.partitioner);
    expect(part.map((kv) => kv).partitioner).toBe(null);
    expect(fl.parallelize(numbers, { numSlices: 4 }).getNumPartitions()).toBe(4);
    expect(await fl.range(1, 9, { step: 3, numSlices: 2 }).glom().collect()).toEqual(RefRDD.range(1, 9, 3, 2).partitions);
    expect(await fl.range(7, null, null, 3).glom().collect()).toEqual(RefRDD.range(0, 7, 1, 3).partitions);
    const file = join(dir, 'lines.txt');
    writeFileSync(file, Array.from({ length: 200 }, (_, i) => `line ${i}`).join('\n') + '\n');
    expect(fl.textFile(file, 5).getNumPartitions()).toBeGreaterThanOrEqual(5);
    expect(fl.textFile(file, { minPartitions: 5 }).getNumPartitions()).toBeGreaterThanOrEqual(5);
    expect(await fl.textFile(file, 5).count()).toBe(200);
  });
});

describe('what is not a PySpark form is INVALID_ARGUMENT naming the argument', () => {
  const rejects = async (action: () => unknown, ...parts: string[]) => {
    const err = await flintErrorOf(action);
    expect(err.code).toBe('INVALID_ARGUMENT');
    for (const p of parts) expect(err.message).toContain(p);
  };
  const rdd = () => fl.parallelize(many, 2);
  const loose = (r: unknown) => r as Record<string, (...a: unknown[]) => unknown>;

  it('unknown option keys, with a suggestion', async () => {
    await rejects(() => loose(rdd()).distinct!.call(rdd(), { numPartition: 3 }), 'rdd.distinct', '"numPartition"', 'did you mean "numPartitions"');
    await rejects(() => loose(rdd()).reduceByKey!.call(rdd(), add, { partitions: 3 }), 'rdd.reduceByKey', '"partitions"');
    await rejects(() => loose(rdd()).sortByKey!.call(rdd(), { Ascending: false }), 'did you mean "ascending"');
    await rejects(() => loose(rdd()).groupByKey!.call(rdd(), { numPartitions: 2, env: {}, extra: 1 }), '"extra"');
    await rejects(() => Flint.start({ mastr: 'local' } as never), 'Flint.start', '"mastr"', 'did you mean "master"');
    await rejects(() => Flint.start({ ui: 'yes' } as never), 'Flint.start', 'ui', 'a port number');
    await rejects(() => Flint.start({ ui: 70000 }), 'Flint.start', 'ui', 'a port number');
  });

  it('wrong types', async () => {
    await rejects(() => loose(rdd()).sortByKey!.call(rdd(), 'false'), 'rdd.sortByKey', 'ascending', 'a boolean', 'string "false"');
    await rejects(() => loose(rdd()).reduceByKey!.call(rdd(), add, 4, 5), 'rdd.reduceByKey', 'partitionFunc', 'a function');
    await rejects(() => loose(rdd()).reduceByKey!.call(rdd(), 'avg'), 'rdd.reduceByKey', 'func', "'sum'");
    await rejects(() => loose(rdd()).groupByKey!.call(rdd(), 2.5), 'numPartitions', 'a positive integer');
    await rejects(() => loose(rdd()).distinct!.call(rdd(), 0), 'numPartitions');
    await rejects(() => loose(rdd()).map!.call(rdd(), (x: unknown) => x, 'yes'), 'rdd.map', 'preservesPartitioning');
    await rejects(() => loose(rdd()).take!.call(rdd(), '3'), 'rdd.take', 'num');
    await rejects(() => loose(rdd()).sortByKey!.call(rdd(), { numPartitions: '2' }), 'option numPartitions');
    await rejects(() => loose(rdd()).join!.call(rdd(), [1, 2]), 'rdd.join', 'other', 'an RDD');
    await rejects(() => loose(rdd()).foldByKey!.call(rdd(), 0), 'rdd.foldByKey', 'missing argument 2 (func)');
    await rejects(() => loose(fl).textFile!.call(fl, join(dir, 'x'), 0), 'fl.textFile', 'minPartitions');
    await rejects(() => loose(fl).parallelize!.call(fl, 5), 'fl.parallelize', 'data');
  });

  it('extra arguments and misplaced options', async () => {
    await rejects(() => loose(rdd()).distinct!.call(rdd(), 3, 4), 'rdd.distinct', 'unexpected argument 2', 'number 4');
    await rejects(() => loose(rdd()).reduceByKey!.call(rdd(), add, 2, undefined, {}, 3), 'rdd.reduceByKey', 'the options object must be the last argument');
    await rejects(() => loose(rdd()).sortByKey!.call(rdd(), { ascending: false }, 2), 'the options object must be the last argument');
    await rejects(() => loose(rdd()).sortByKey!.call(rdd(), false, { ascending: true }), 'ascending is given both');
    await rejects(() => loose(rdd()).glom!.call(rdd(), 1), 'rdd.glom', 'takes no arguments');
    await rejects(() => loose(rdd()).collect!.call(rdd(), {}), 'rdd.collect', 'takes no arguments');
    await rejects(() => loose(rdd()).union!.call(rdd(), rdd(), 2), 'rdd.union', 'unexpected argument 2');
    await rejects(() => loose(rdd()).saveAsTextFile!.call(rdd(), join(dir, 'out'), 'gzip'), 'rdd.saveAsTextFile', 'unexpected argument 2');
  });
});

describe('RDDs of two contexts', () => {
  it('are refused wherever RDDs are combined, and each context still works alone', async () => {
    const fl2 = await Flint.start({ master: 'local', appName: 'second' });
    try {
      const mine = fl.parallelize(many, 2);
      const theirs = fl2.parallelize(others, 2);
      const attempts: Array<() => unknown> = [
        () => mine.join(theirs),
        () => mine.leftOuterJoin(theirs),
        () => mine.rightOuterJoin(theirs),
        () => mine.fullOuterJoin(theirs),
        () => mine.cogroup(theirs),
        () => mine.groupWith(theirs),
        () => mine.groupWith(fl.parallelize(others), theirs),
        () => mine.subtractByKey(theirs),
        () => mine.union(theirs),
        () => mine.intersection(theirs),
        () => mine.subtract(theirs),
        () => mine.zip(theirs),
        () => mine.cartesian(theirs),
        () => fl.union([mine, theirs]),
        () => fl2.union([theirs, mine]),
      ];
      for (const attempt of attempts) {
        const err = await flintErrorOf(attempt);
        expect(err.code).toBe('INVALID_ARGUMENT');
        expect(err.message).toContain('another Flint context');
      }
      // A broadcast reaches a closure through env: one of the other context is unknown, never another value.
      const mine0 = fl.broadcast('mine');
      const theirs0 = fl2.broadcast('theirs');
      const err = await flintErrorOf(fl.parallelize([1]).map(() => b.value, { env: { b: theirs0 } }).collect());
      expect(err.code).toBe('JOB_ABORTED');
      expect((err.cause as { code?: string }).code).toBe('BROADCAST_DESTROYED');
      expect(await fl.parallelize([1]).map(() => b.value, { env: { b: mine0 } }).collect()).toEqual(['mine']);
      // Shuffle ids start at 0 in both contexts: jobs of each give their own answers.
      await expectSameMultiset(mine.join(fl.parallelize(others, 2)), RefRDD.parallelize(many, 2).join(RefRDD.parallelize(others, 2)));
      await expectSameMultiset(theirs.join(fl2.parallelize(many, 2)), RefRDD.parallelize(others, 2).join(RefRDD.parallelize(many, 2)));
    } finally {
      await fl2.stop();
    }
  });
});
