/**
 * Properties: for random data and partition counts, each pipeline gives the reference's answer on
 * the in-process master ('local'), one worker thread ('local[1]') and several ('local[3]').
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flint, type RDD } from 'flint';
import { RefRDD, canonicalSort, mapEntries, normalizeCogroups, normalizeGroups } from '../reference/rdd-reference.js';
import { testCluster } from './helpers.js';

// Variables that closures receive through `env`, declared for the type checker.
declare const w: number;

// In the cluster pass the same properties run against the test cluster alone.
const cluster = testCluster();
const MASTERS = cluster ? [cluster.master] : ['local', 'local[1]', 'local[3]'];
let contexts: Flint[] = [];
beforeAll(async () => {
  contexts = await Promise.all(MASTERS.map((master) => Flint.start({ master, token: cluster?.token, appName: `properties-${master}` })));
});
afterAll(async () => {
  await Promise.all(contexts.map((fl) => fl.stop()));
});

// Modest by default to keep the suite quick on shared cores; raise it to hunt for counterexamples.
const NUM_RUNS = Number(process.env.FLINT_PROPERTY_RUNS ?? 20);
const params = { numRuns: NUM_RUNS, endOnFailure: true } as const;

const ints = fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 60 });
const strings = fc.array(fc.string({ maxLength: 4, unit: 'binary' }), { maxLength: 40 });
const slices = fc.integer({ min: 1, max: 6 });
// Few distinct keys, so that keys collide within and across partitions; mixed kinds, including
// composite keys that must match by value.
const key = fc.oneof(
  fc.integer({ min: 0, max: 5 }),
  fc.constantFrom('a', 'b', 'c', ''),
  fc.tuple(fc.integer({ min: 0, max: 1 }), fc.constantFrom('x', 'y')).map((t) => [...t]),
);
const pairs = fc.array(fc.tuple(key, fc.integer({ min: -100, max: 100 })).map((t) => [t[0], t[1]] as [unknown, number]), { maxLength: 50 });

/** Runs `job` on every master and checks each answer against the reference's. */
async function onEveryMaster<A>(job: (fl: Flint) => Promise<A>, expected: A): Promise<void> {
  for (let i = 0; i < contexts.length; i++) {
    const got = await job(contexts[i]!);
    expect({ master: MASTERS[i], answer: got }).toEqual({ master: MASTERS[i], answer: expected });
  }
}

const partitionsOf = <T>(rdd: RDD<T>) => rdd.glom().collect();

describe('the same answer on local, local[1] and local[3], equal to the reference', () => {
  it('map / filter / flatMap chain keeps partitions and order', async () => {
    const f = (x: number) => x * 3 - 1;
    const keep = (x: number) => x % 4 !== 0;
    const spread = (x: number) => (x > 0 ? [x, -x] : []);
    await fc.assert(
      fc.asyncProperty(ints, slices, async (data, k) => {
        const ref = RefRDD.parallelize(data, k).map(f).filter(keep).flatMap(spread);
        await onEveryMaster((fl) => partitionsOf(fl.parallelize(data, k).map(f).filter(keep).flatMap(spread)), ref.partitions);
      }),
      params,
    );
  });

  it('reduceByKey with a lambda and with the built-in sum', async () => {
    const add = (a: number, b: number) => a + b;
    await fc.assert(
      fc.asyncProperty(pairs, slices, fc.option(slices, { nil: undefined }), async (data, k, n) => {
        const ref = RefRDD.parallelize(data, k).reduceByKey(add, n);
        const expected = { parts: ref.getNumPartitions(), records: canonicalSort(ref.collect()) };
        const answer = async (rdd: RDD<[unknown, number]>) => ({ parts: rdd.getNumPartitions(), records: canonicalSort(await rdd.collect()) });
        await onEveryMaster((fl) => answer(fl.parallelize(data, k).reduceByKey(add, { numPartitions: n })), expected);
        await onEveryMaster((fl) => answer(fl.parallelize(data, k).reduceByKey('sum', { numPartitions: n })), expected);
      }),
      params,
    );
  });

  it('groupByKey', async () => {
    await fc.assert(
      fc.asyncProperty(pairs, slices, slices, async (data, k, n) => {
        const expected = normalizeGroups(RefRDD.parallelize(data, k).groupByKey(n).collect());
        await onEveryMaster(async (fl) => normalizeGroups(await fl.parallelize(data, k).groupByKey({ numPartitions: n }).collect()), expected);
      }),
      params,
    );
  });

  it('join and fullOuterJoin', async () => {
    await fc.assert(
      fc.asyncProperty(pairs, pairs, slices, slices, async (left, right, k1, k2) => {
        const [l, r] = [RefRDD.parallelize(left, k1), RefRDD.parallelize(right, k2)];
        const expected = { inner: canonicalSort(l.join(r).collect()), full: canonicalSort(l.fullOuterJoin(r).collect()) };
        await onEveryMaster(async (fl) => {
          const [a, b] = [fl.parallelize(left, k1), fl.parallelize(right, k2)];
          return { inner: canonicalSort(await a.join(b).collect()), full: canonicalSort(await a.fullOuterJoin(b).collect()) };
        }, expected);
      }),
      params,
    );
  });

  it('sortBy is a total order for ints and strings', async () => {
    const id = <T>(x: T) => x;
    await fc.assert(
      fc.asyncProperty(ints, strings, slices, slices, fc.boolean(), async (xs, ss, k, n, ascending) => {
        const expected = {
          ints: RefRDD.parallelize(xs, k).sortBy(id, ascending, n).collect(),
          strings: RefRDD.parallelize(ss, k).sortBy(id, ascending, n).collect(),
        };
        await onEveryMaster(async (fl) => {
          const a = fl.parallelize(xs, k).sortBy(id, { ascending, numPartitions: n });
          const b = fl.parallelize(ss, k).sortBy(id, { ascending, numPartitions: n });
          expect(a.getNumPartitions()).toBe(n);
          return { ints: await a.collect(), strings: await b.collect() };
        }, expected);
      }),
      params,
    );
  });

  it('distinct', async () => {
    await fc.assert(
      fc.asyncProperty(ints, strings, slices, async (xs, ss, k) => {
        const expected = { ints: canonicalSort(RefRDD.parallelize(xs, k).distinct().collect()), strings: canonicalSort(RefRDD.parallelize(ss, k).distinct().collect()) };
        await onEveryMaster(async (fl) => ({
          ints: canonicalSort(await fl.parallelize(xs, k).distinct().collect()),
          strings: canonicalSort(await fl.parallelize(ss, k).distinct().collect()),
        }), expected);
      }),
      params,
    );
  });

  it('aggregateByKey with a zero value that counts partitions', async () => {
    const seq = (acc: [number, number], v: number): [number, number] => [acc[0] + v, acc[1] + 1];
    const comb = (a: [number, number], b: [number, number]): [number, number] => [a[0] + b[0], a[1] + b[1]];
    await fc.assert(
      fc.asyncProperty(pairs, slices, slices, async (data, k, n) => {
        const zero: [number, number] = [0, 1000];
        const expected = canonicalSort(RefRDD.parallelize(data, k).aggregateByKey(zero, seq, comb, n).collect());
        await onEveryMaster(
          async (fl) => canonicalSort(await fl.parallelize(data, k).aggregateByKey(zero, seq, comb, { numPartitions: n }).collect()),
          expected,
        );
      }),
      params,
    );
  });

  it('zipWithIndex after a filter', async () => {
    const keep = (x: number) => x % 3 !== 0;
    await fc.assert(
      fc.asyncProperty(ints, slices, async (data, k) => {
        const expected = RefRDD.parallelize(data, k).filter(keep).zipWithIndex().partitions;
        await onEveryMaster((fl) => partitionsOf(fl.parallelize(data, k).filter(keep).zipWithIndex()), expected);
      }),
      params,
    );
  });

  it('coalesce, repartition and count', async () => {
    await fc.assert(
      fc.asyncProperty(ints, slices, slices, async (data, k, n) => {
        const ref = RefRDD.parallelize(data, k);
        const expected = {
          coalesced: ref.coalesce(n).partitions,
          repartitioned: { parts: n, count: data.length, records: canonicalSort(data) },
        };
        await onEveryMaster(async (fl) => {
          const rdd = fl.parallelize(data, k);
          const re = rdd.repartition(n);
          return {
            coalesced: await partitionsOf(rdd.coalesce(n)),
            repartitioned: { parts: re.getNumPartitions(), count: await re.count(), records: canonicalSort(await re.collect()) },
          };
        }, expected);
      }),
      params,
    );
  });

  it('fold and aggregate with zero values that count partitions', async () => {
    const add = (a: number, b: number) => a + b;
    await fc.assert(
      fc.asyncProperty(ints, slices, async (data, k) => {
        const ref = RefRDD.parallelize(data, k);
        const expected = { fold: ref.fold(1000, add), treeAgg: ref.aggregate(0, add, add), reduce: data.length ? ref.reduce(add) : null };
        await onEveryMaster(async (fl) => {
          const rdd = fl.parallelize(data, k);
          return {
            fold: await rdd.fold(1000, add),
            treeAgg: await rdd.treeAggregate(0, add, add, { depth: 2 }),
            reduce: data.length ? await rdd.reduce(add) : null,
          };
        }, expected);
      }),
      params,
    );
  });
  it('takeOrdered and top with a key that ties', async () => {
    const byMod = (x: number) => ((x % 5) + 5) % 5;
    await fc.assert(
      fc.asyncProperty(ints, slices, fc.integer({ min: 0, max: 70 }), async (data, k, n) => {
        const ref = RefRDD.parallelize(data, k);
        // Ties keep input order, as sorted(..., key=...)[:n] does in Python.
        const expected = { asc: ref.takeOrdered(n), desc: ref.top(n), ascKey: ref.takeOrdered(n, byMod), descKey: ref.top(n, byMod) };
        await onEveryMaster(async (fl) => {
          const rdd = fl.parallelize(data, k);
          return { asc: await rdd.takeOrdered(n), desc: await rdd.top(n), ascKey: await rdd.takeOrdered(n, byMod), descKey: await rdd.top(n, byMod) };
        }, expected);
      }),
      params,
    );
  });

  it('histogram and stats', async () => {
    const doubles = fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }).map((x) => x + 0), { minLength: 1, maxLength: 50 });
    await fc.assert(
      fc.asyncProperty(fc.oneof(doubles, fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 50 })), slices, fc.integer({ min: 1, max: 8 }), async (data, k, b) => {
        const ref = RefRDD.parallelize(data, k);
        const bounds = [-500, -1, 0, 3.5, 10, 999];
        const expected = { even: ref.histogram(b), given: ref.histogram(bounds), evenGiven: ref.histogram([-20, -10, 0, 10, 20]) };
        const stats = ref.stats();
        for (let i = 0; i < contexts.length; i++) {
          const rdd = contexts[i]!.parallelize(data, k);
          expect({ master: MASTERS[i], answer: { even: await rdd.histogram(b), given: await rdd.histogram(bounds), evenGiven: await rdd.histogram([-20, -10, 0, 10, 20]) } }).toEqual({ master: MASTERS[i], answer: expected });
          const s = await rdd.stats();
          expect(s.count).toBe(stats.count);
          expect(s.min).toBe(stats.min);
          expect(s.max).toBe(stats.max);
          expect(s.mean).toBeCloseTo(stats.mean, 6);
          expect(s.sum).toBeCloseTo(stats.sum, 6);
          expect(s.variance).toBeCloseTo(stats.variance, 4);
        }
      }),
      params,
    );
  });

  it('sample, randomSplit and takeSample depend only on the seed and the partitioning', async () => {
    await fc.assert(
      fc.asyncProperty(ints, slices, fc.integer({ min: 0, max: 2 ** 30 }), fc.double({ min: 0, max: 1, noNaN: true }), async (data, k, seed, fraction) => {
        const answers = [];
        for (const fl of contexts) {
          const rdd = fl.parallelize(data, k);
          const splits = rdd.randomSplit([1, 2, 0.5], seed);
          answers.push({
            without: await rdd.sample(false, fraction, seed).glom().collect(),
            with: await rdd.sample(true, fraction * 2, seed).glom().collect(),
            splits: await Promise.all(splits.map((r) => r.glom().collect())),
            taken: await rdd.takeSample(false, 5, seed),
          });
        }
        for (const a of answers.slice(1)) expect(a).toEqual(answers[0]);
        const a = answers[0]!;
        // A sample without replacement is a subsequence of each partition; splits partition the data.
        const parts = RefRDD.parallelize(data, k).partitions;
        a.without.forEach((p, i) => {
          let j = 0;
          for (const x of p) {
            while (j < parts[i]!.length && parts[i]![j] !== x) j++;
            expect(j).toBeLessThan(parts[i]!.length);
            j++;
          }
        });
        expect(canonicalSort(a.splits.flat(2))).toEqual(canonicalSort(data));
        expect(a.taken.length).toBe(Math.min(5, data.length));
      }),
      params,
    );
  });

  it('cogroup, leftOuterJoin, subtractByKey, intersection and subtract', async () => {
    await fc.assert(
      fc.asyncProperty(pairs, pairs, slices, slices, fc.option(slices, { nil: undefined }), async (left, right, k1, k2, n) => {
        const [l, r] = [RefRDD.parallelize(left, k1), RefRDD.parallelize(right, k2)];
        const lk = l.keys();
        const rk = r.keys();
        const expected = {
          cogroup: normalizeCogroups(l.cogroup(r, n).collect()),
          left: canonicalSort(l.leftOuterJoin(r, n).collect()),
          right: canonicalSort(l.rightOuterJoin(r, n).collect()),
          minus: canonicalSort(l.subtractByKey(r).collect()),
          both: canonicalSort(lk.intersection(rk).collect()),
          keysMinus: canonicalSort(lk.subtract(rk).collect()),
        };
        await onEveryMaster(async (fl) => {
          const [a, b] = [fl.parallelize(left, k1), fl.parallelize(right, k2)];
          const opts = { numPartitions: n };
          return {
            cogroup: normalizeCogroups(await a.cogroup(b, opts).collect()),
            left: canonicalSort(await a.leftOuterJoin(b, opts).collect()),
            right: canonicalSort(await a.rightOuterJoin(b, opts).collect()),
            minus: canonicalSort(await a.subtractByKey(b, opts).collect()),
            both: canonicalSort(await a.keys().intersection(b.keys(), opts).collect()),
            keysMinus: canonicalSort(await a.keys().subtract(b.keys(), opts).collect()),
          };
        }, expected);
      }),
      params,
    );
  });

  it('foldByKey, combineByKey, countByKey, countByValue and collectAsMap', async () => {
    const add = (a: number, b: number) => a + b;
    const toList = (v: number) => [v];
    const append = (c: number[], v: number) => c.concat([v]);
    const concat = (a: number[], b: number[]) => a.concat(b);
    await fc.assert(
      fc.asyncProperty(pairs, slices, async (data, k) => {
        const ref = RefRDD.parallelize(data, k);
        const expected = {
          fold: canonicalSort(ref.foldByKey(7, add).collect()),
          combined: normalizeGroups(ref.combineByKey(toList, append, concat).collect()),
          countByKey: canonicalSort(ref.countByKey()),
          countByValue: canonicalSort(ref.countByValue()),
          asMap: canonicalSort(ref.collectAsMap()),
        };
        await onEveryMaster(async (fl) => {
          const rdd = fl.parallelize(data, k);
          return {
            fold: canonicalSort(await rdd.foldByKey(7, add).collect()),
            combined: normalizeGroups(await rdd.combineByKey(toList, append, concat).collect()),
            countByKey: mapEntries(await rdd.countByKey()),
            countByValue: mapEntries(await rdd.countByValue()),
            asMap: mapEntries(await rdd.collectAsMap()),
          };
        }, expected);
      }),
      params,
    );
  });

  it('multi-stage: reduceByKey, then narrow steps, then sortByKey and a lookup', async () => {
    const add = (a: number, b: number) => a + b;
    const intPairs = fc.array(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: -9, max: 9 })).map((t) => [t[0], t[1]] as [number, number]), { maxLength: 60 });
    await fc.assert(
      fc.asyncProperty(intPairs, slices, slices, fc.boolean(), fc.integer({ min: 0, max: 13 }), async (data, k, n, ascending, probe) => {
        const ref = RefRDD.parallelize(data, k).reduceByKey(add).mapValues((v) => v * 2).filter((kv) => kv[1] !== 0).sortByKey(ascending, n);
        const expected = { sorted: ref.collect(), found: ref.lookup(probe), uniqueIds: canonicalSort(ref.zipWithUniqueId().keys().collect()) };
        await onEveryMaster(async (fl) => {
          const rdd = fl.parallelize(data, k).reduceByKey(add).mapValues((v) => v * 2).filter((kv) => kv[1] !== 0).sortByKey({ ascending, numPartitions: n });
          return { sorted: await rdd.collect(), found: await rdd.lookup(probe), uniqueIds: canonicalSort(await rdd.zipWithUniqueId().keys().collect()) };
        }, expected);
      }),
      params,
    );
  });

  it('cartesian, zip and zipWithUniqueId keep Spark\'s layout', async () => {
    const small = fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 8 });
    await fc.assert(
      fc.asyncProperty(small, small, slices, fc.integer({ min: 1, max: 3 }), async (xs, ys, k1, k2) => {
        const expected = {
          cartesian: RefRDD.parallelize(xs, k1).cartesian(RefRDD.parallelize(ys, k2)).partitions,
          zipped: RefRDD.parallelize(xs, k1).zip(RefRDD.parallelize(xs, k1).map((x) => -x)).partitions,
          ids: RefRDD.parallelize(xs, k1).zipWithUniqueId().partitions,
        };
        await onEveryMaster(async (fl) => ({
          cartesian: await partitionsOf(fl.parallelize(xs, k1).cartesian(fl.parallelize(ys, k2))),
          zipped: await partitionsOf(fl.parallelize(xs, k1).zip(fl.parallelize(xs, k1).map((x) => -x))),
          ids: await partitionsOf(fl.parallelize(xs, k1).zipWithUniqueId()),
        }), expected);
      }),
      params,
    );
  });

  it('treeReduce and treeAggregate at random depths', async () => {
    const add = (a: number, b: number) => a + b;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: -100, max: 100 }), { minLength: 1, maxLength: 80 }), fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 5 }), async (data, k, depth) => {
        const expected = data.reduce(add, 0);
        await onEveryMaster(async (fl) => {
          const rdd = fl.parallelize(data, k);
          return [await rdd.treeReduce(add, { depth }), await rdd.treeAggregate(0, (a, x) => a + x * w, add, { depth, env: { w: 1 } })];
        }, [expected, expected]);
      }),
      params,
    );
  });
});

describe('shuffle outputs under narrow dependencies that renumber partitions', () => {
  it('union, coalesce and cartesian over reduceByKey and sortBy outputs', async () => {
    const add = (a: number, b: number) => a + b;
    const id = (x: number) => x;
    await fc.assert(
      fc.asyncProperty(pairs, ints, slices, slices, slices, async (data, xs, k, n, c) => {
        const reduced = RefRDD.parallelize(data, k).reduceByKey(add, n);
        const expected = {
          union: canonicalSort(RefRDD.parallelize(xs, k).union(RefRDD.parallelize(data, k).map((kv) => kv[1])).union(reduced.values()).collect()),
          coalescedSorted: RefRDD.parallelize(xs, k).sortBy(id, true, n).coalesce(c).collect(),
          cartesian: canonicalSort(reduced.keys().cartesian(RefRDD.parallelize(xs.slice(0, 3), c)).collect()),
        };
        await onEveryMaster(async (fl) => {
          const r = fl.parallelize(data, k).reduceByKey(add, { numPartitions: n });
          return {
            union: canonicalSort(await fl.parallelize(xs, k).union(fl.parallelize(data, k).map((kv) => kv[1])).union(r.values()).collect()),
            coalescedSorted: await fl.parallelize(xs, k).sortBy(id, { numPartitions: n }).coalesce(c).collect(),
            cartesian: canonicalSort(await r.keys().cartesian(fl.parallelize(xs.slice(0, 3), c)).collect()),
          };
        }, expected);
      }),
      params,
    );
  });
});
