/**
 * sortBy and sortByKey over number columns (map side: shuffle/range-writer.ts; reduce side:
 * shuffle/column-sort.ts; the result as a column block read straight into collect's array) give
 * exactly a plain stable sort's answer: -0 apart from 0 and in input order among zeros, NaN,
 * ±Infinity, strings and objects that switch the shape mid-partition, descending sorts, pairs from
 * lambdas; with the WebAssembly operators and without them (FLINT_WASM=0).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flint } from 'flint';
import { RefRDD } from '../reference/rdd-reference.js';
import { testCluster } from './helpers.js';

// In the cluster pass the results travel to the driver through the coordinator.
const cluster = testCluster();
const CONTEXTS = cluster
  ? [{ master: cluster.master, wasm: true }]
  : [
      { master: 'local[2]', wasm: true },
      { master: 'local[2]', wasm: false },
      { master: 'local', wasm: true },
    ];
let contexts: Flint[] = [];
beforeAll(async () => {
  contexts = await Promise.all(CONTEXTS.map((c) => Flint.start({ master: c.master, wasm: c.wasm, token: cluster?.token, appName: `sort-columns-${c.wasm}` })));
});
afterAll(async () => {
  await Promise.all(contexts.map((fl) => fl.stop()));
});

const NUM_RUNS = Number(process.env.FLINT_PROPERTY_RUNS ?? 20);

const number = fc.oneof(
  fc.double(),
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** 40, 0.5),
);
/** Runs of one shape each, so that partitions switch between columns and records mid-way. */
const segment = fc.oneof(
  { weight: 6, arbitrary: fc.array(number, { minLength: 1, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom('a', 'b', 'é', ''), { minLength: 1, maxLength: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom([{ x: 1 }], [null], [[1, 2]], [true]) },
);
const data = fc.array(segment, { maxLength: 6 }).map((s) => s.flat() as unknown[]);

async function onEvery<A>(job: (fl: Flint) => Promise<A>, expected: A): Promise<void> {
  for (let i = 0; i < contexts.length; i++) {
    const got = await job(contexts[i]!);
    expect({ context: CONTEXTS[i], answer: got }).toEqual({ context: CONTEXTS[i], answer: expected });
  }
}

describe('sorts over number columns give a plain stable sort\'s answer', () => {
  it('sortBy(x => x), a key that differs from the value, and sortByKey of lambda pairs, both directions', async () => {
    const neg = (x: unknown) => (typeof x === 'number' ? -x : x);
    await fc.assert(
      fc.asyncProperty(data, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.boolean(), async (xs, slices, n, ascending) => {
        const ref = RefRDD.parallelize(xs, slices);
        const pairs = xs.map((x, i) => [x, 2 * i] as [unknown, number]);
        const expected = {
          same: ref.sortBy((x) => x, ascending, n).collect(),
          negated: ref.sortBy(neg, ascending, n).collect(),
          byKey: RefRDD.parallelize(pairs, slices).sortByKey(ascending, n).collect(),
          mapped: ref.sortBy((x) => x, ascending, n).map((x) => [x]).collect(),
        };
        await onEvery(async (fl) => {
          const rdd = fl.parallelize(xs, slices);
          return {
            same: await rdd.sortBy((x) => x, { ascending, numPartitions: n }).collect(),
            negated: await rdd.sortBy((x) => (typeof x === 'number' ? -x : x), { ascending, numPartitions: n }).collect(),
            byKey: await rdd.zipWithIndex().map(([x, i]) => [x, 2 * i] as [unknown, number]).sortByKey({ ascending, numPartitions: n }).collect(),
            mapped: await rdd.sortBy((x) => x, { ascending, numPartitions: n }).map((x) => [x]).collect(),
          };
        }, expected);
      }),
      { numRuns: NUM_RUNS, endOnFailure: true },
    );
  });

  it('60,000 numbers (several blocks per partition) with zeros of both signs, NaNs and a string half-way through a partition', async () => {
    const n = 60_000;
    const xs: unknown[] = Array.from({ length: n }, (_, i) => (i % 97 === 0 ? (i % 2 ? 0 : -0) : i % 101 === 0 ? NaN : Math.sin(i) * 1000));
    const withString = [...xs.slice(0, n / 4), 'half-way', ...xs.slice(n / 4)];
    for (const input of [xs, withString]) {
      for (const ascending of [true, false]) {
        const expected = RefRDD.parallelize(input, 2).sortBy((x) => x, ascending, 3).collect();
        await onEvery((fl) => fl.range(0, input.length, 1, 2).map((i) => input[i], { env: { input } }).sortBy((x) => x, { ascending, numPartitions: 3 }).collect(), expected);
      }
    }
  });
});
