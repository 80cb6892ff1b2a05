/**
 * reduceByKey with users' functions after a narrow chain: the map side combines the pairs the
 * generated loop hands it one at a time (exec/ops.ts applyOpsInto) in typed-array indexes
 * (shuffle/combiner-map.ts). Against a plain model of what the engine defines: each map partition
 * folds its values per key in record order, each reduce partition (the key's hash partition) folds
 * those combiners in map partition order, keys in the order they first arrive; on the in-process
 * master and on worker threads, with the WebAssembly operators and without.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flint } from 'flint';
import { hashPartition } from '../../host/codec/keys.js';

declare const f: (a: unknown, b: unknown) => unknown;

const SETUPS = [
  { master: 'local', wasm: true },
  { master: 'local[2]', wasm: true },
  { master: 'local', wasm: false },
  { master: 'local[2]', wasm: false },
];
let contexts: Flint[] = [];
beforeAll(async () => {
  contexts = await Promise.all(SETUPS.map((s) => Flint.start({ ...s, appName: `lambda-aggregation-${s.master}-${s.wasm}` })));
});
afterAll(async () => {
  await Promise.all(contexts.map((fl) => fl.stop()));
});

/** Reduce functions: numbers, numbers that turn into strings past a bound, and arrays. */
const REDUCERS: Record<string, (a: unknown, b: unknown) => unknown> = {
  add: (a, b) => (a as number) + (b as number),
  max: (a, b) => Math.max(a as number, b as number),
  spill: (a, b) => (typeof a === 'number' && typeof b === 'number' && a + b < 40 ? a + b : `${String(a)},${String(b)}`),
  nest: (a, b) => [a, b],
};

const key = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.integer({ min: -100_000, max: 100_000 }),
  fc.constantFrom(0, -0, NaN, 0.5, -1.25, Infinity, 2 ** 40, 1e-300),
  fc.double(),
  fc.constantFrom('a', 'b', '', 'é', 'e\u0301', '😀', '\ud800', '\0s', 'ключ'),
  fc.string({ maxLength: 3, unit: 'binary' }),
  fc.constantFrom(true, false, null),
);
const value = fc.oneof(fc.integer({ min: -20, max: 20 }), fc.constantFrom(-0, NaN, 0.1, 1e308));
/** Runs of one kind of key, so that partitions switch key types in their middle. */
const pairs = fc
  .array(fc.tuple(fc.oneof(fc.constant('n'), fc.constant('s'), fc.constant('any')), fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), value), { maxLength: 40 }), key), { maxLength: 6 })
  .map((runs) =>
    runs.flatMap(([kind, rows, k]) =>
      rows.map(([i, v]): [unknown, unknown] => [kind === 'n' ? i % 7 : kind === 's' ? `k${i % 9}` : i % 3 === 0 ? k : i, v]),
    ),
  );

/** What parallelize(data, slices) holds in slice i. */
function slicesOf<T>(data: T[], k: number): T[][] {
  return Array.from({ length: k }, (_, i) => data.slice(Math.floor((i * data.length) / k), Math.floor(((i + 1) * data.length) / k)));
}

/** The engine's defined answer, partition by partition (Map: SameValueZero keys, -0 kept as 0). */
function reference(slices: Array<Array<[unknown, unknown]>>, n: number, fn: (a: unknown, b: unknown) => unknown): unknown[][] {
  const parts = Array.from({ length: n }, () => new Map<unknown, unknown>());
  for (const slice of slices) {
    const m = new Map<unknown, unknown>();
    for (const [key, v] of slice) m.set(key, m.has(key) ? fn(m.get(key), v) : v);
    for (const [key, c] of m) {
      const p = parts[n === 1 ? 0 : hashPartition(key, n)]!;
      p.set(key, p.has(key) ? fn(p.get(key), c) : c);
    }
  }
  return parts.map((p) => [...p.entries()]);
}

const params = { numRuns: Number(process.env.FLINT_PROPERTY_RUNS ?? 20), endOnFailure: true } as const;

describe('reduceByKey with a lambda after a narrow chain', () => {
  it('gives the partitions and order of a plain fold per map partition, then per reduce partition', async () => {
    await fc.assert(
      fc.asyncProperty(pairs, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom(...Object.keys(REDUCERS)), async (data, k, n, name) => {
        const fn = REDUCERS[name]!;
        const expected = reference(slicesOf(data, k), n, fn);
        for (let i = 0; i < contexts.length; i++) {
          const got = await contexts[i]!
            .parallelize(data, k)
            .map(([a, b]) => [a, b] as [unknown, unknown])
            .reduceByKey((a, b) => f(a, b), { numPartitions: n, env: { f: fn } })
            .glom()
            .collect();
          expect({ setup: SETUPS[i], got }).toEqual({ setup: SETUPS[i], got: expected });
        }
      }),
      params,
    );
  });

  it('over a range source (its numbers go to the loop without batches) gives the fold of its partitions', async () => {
    // Up to 30,000 numbers: several batches of the range per partition ('nest' would nest too deep).
    const steps = fc.oneof(fc.integer({ min: 1, max: 7 }), fc.integer({ min: -7, max: -1 }), fc.constantFrom(0.1, -0.25, 1e-3, 3.5));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: -40, max: 40 }), fc.integer({ min: 0, max: 30_000 }), steps, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom('add', 'max', 'spill'), async (start, n, step, k, parts, name) => {
        const fn = REDUCERS[name]!;
        const end = start + n * step * (Number.isInteger(step) ? 1 : 1e-3);
        // The range's partitions as its own batches give them (no aggregation after it).
        const slices = (await contexts[0]!.range(start, end, step, k).glom().collect()).map((s) => s.map((i): [unknown, unknown] => [i % 7, i]));
        const expected = reference(slices, parts, fn);
        for (let c = 0; c < contexts.length; c++) {
          const got = await contexts[c]!
            .range(start, end, step, k)
            .map((i) => [i % 7, i] as [number, number])
            .reduceByKey((a, b) => f(a, b) as number, { numPartitions: parts, env: { f: fn } })
            .glom()
            .collect();
          expect({ setup: SETUPS[c], got }).toEqual({ setup: SETUPS[c], got: expected });
        }
      }),
      params,
    );
  });

  it('counts words cut by flatMap and filter as the plain loop does', async () => {
    const words = fc.array(fc.constantFrom('the', 'a', 'é', '😀', 'x y', '', '  ', 'ключ', '\ud800'), { maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(fc.array(words.map((ws) => ws.join(' ')), { maxLength: 30 }), fc.integer({ min: 1, max: 3 }), async (lines, k) => {
        // A line's words stay in its slice: the map partitions are the slices of lines, cut into words.
        const words = slicesOf(lines, k).map((s) => s.flatMap((l) => l.split(/\s+/).filter((w) => w.length > 0).map((w): [unknown, unknown] => [w, 1])));
        const want = reference(words, 2, (a, b) => (a as number) + (b as number));
        for (let i = 0; i < contexts.length; i++) {
          const got = await contexts[i]!
            .parallelize(lines, k)
            .flatMap((l) => l.split(/\s+/))
            .filter((w) => w.length > 0)
            .map((w) => [w, 1] as [string, number])
            .reduceByKey((a, b) => a + b, 2)
            .glom()
            .collect();
          expect({ setup: SETUPS[i], got }).toEqual({ setup: SETUPS[i], got: want });
        }
      }),
      params,
    );
  });

  it('fails the job with the writer message when a record is not a pair', async () => {
    for (const fl of contexts) {
      await expect(
        fl
          .parallelize([1, 2, 3, 4], 2)
          .map((x) => (x === 3 ? [x, x, x] : [x, x]) as unknown as [number, number])
          .reduceByKey((a, b) => a + b)
          .collect(),
      ).rejects.toThrow(/shuffle expects \[key, value\] pairs, got \[3,3,3\]/);
    }
  });
});
