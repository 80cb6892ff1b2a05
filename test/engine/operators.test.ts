/**
 * The WebAssembly operators against the lambda path, end to end. Every affected method runs three
 * ways on the same data:
 *   (a) the built-in on WebAssembly (`wasm: true`), asserting the `wasm:*` operators it must use;
 *   (b) the same built-in on the TypeScript twins (`wasm: false`), asserting `js:*` operators;
 *   (c) the same job written with JavaScript lambdas (general record path), and an independent
 *       reference (plain TypeScript in this file, or test/reference/rdd-reference.ts).
 * Results are compared exactly, with Object.is semantics for -0 and NaN (see `tag`), as-is where
 * the order is defined or the engine preserves it, and as sorted lists where it is not.
 */
import { concatBytes } from '../../host/codec/bytes.js';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flint, FlintError, pairWith, words, type RDD } from 'flint';
import { RefRDD, canonicalSort, sortedBy } from '../reference/rdd-reference.js';

const MASTERS = ['local', 'local[2]'] as const;
type Master = (typeof MASTERS)[number];
type Impl = 'wasm' | 'js';

// Modest by default so the file stays quick on two shared cores; raise to hunt for counterexamples.
const NUM_RUNS = Number(process.env.FLINT_PROPERTY_RUNS ?? 20);
const params = { numRuns: NUM_RUNS, endOnFailure: true } as const;
const textParams = { numRuns: Math.max(1, Math.round((NUM_RUNS * 3) / 4)), endOnFailure: true } as const;

// ---- contexts and operator tracing ----------------------------------------------------------

interface Contexts {
  wasm: Record<Master, Flint>;
  js: Record<Master, Flint>;
}

/** One context per master and wasm setting for the enclosing describe block. */
function useContexts(options: { maxTaskFailures?: number } = {}): Contexts {
  const ctx: Contexts = { wasm: {} as Record<Master, Flint>, js: {} as Record<Master, Flint> };
  beforeAll(async () => {
    await Promise.all(
      MASTERS.flatMap((master) => [
        Flint.start({ ...options, master, wasm: true, appName: `operators-wasm-${master}` }).then((fl) => (ctx.wasm[master] = fl)),
        Flint.start({ ...options, master, wasm: false, appName: `operators-js-${master}` }).then((fl) => (ctx.js[master] = fl)),
      ]),
    );
  });
  afterAll(async () => {
    await Promise.all([...Object.values(ctx.wasm), ...Object.values(ctx.js)].map((fl) => fl.stop()));
  });
  return ctx;
}

interface TaskOps {
  stage: 'shuffleMap' | 'result';
  ops: string[];
  recordsRead: number;
  shuffleReadBytes: number;
}

interface Traced<T> {
  value: T;
  /** Every operator any successful task of the action reported. */
  ops: string[];
  tasks: TaskOps[];
}

/** Runs an action and returns its result with the operators each successful task reported. */
async function traced<T>(fl: Flint, job: (fl: Flint) => Promise<T>): Promise<Traced<T>> {
  const stages = new Map<number, 'shuffleMap' | 'result'>();
  const tasks: TaskOps[] = [];
  // One subscriber for both kinds (each subscriber has its own queue), and only the stages of this
  // action: a copy of a task of an earlier action (a speculative or stolen attempt killed too late)
  // may end while this one runs, and it is not this action's.
  const off = fl.events.on('*', (e) => {
    if (e.type === 'stageSubmitted') stages.set(e.stageId, e.kind);
    if (e.type !== 'taskEnd' || e.status !== 'success') return;
    const stage = stages.get(e.stageId);
    if (!stage) return;
    tasks.push({ stage, ops: e.metrics?.operators ?? [], recordsRead: e.metrics?.recordsRead ?? 0, shuffleReadBytes: e.metrics?.shuffleReadBytes ?? 0 });
  });
  try {
    const value = await job(fl);
    // Every event of the job reaches the subscriber before it is read.
    await fl.events.delivered();
    return { value, ops: [...new Set(tasks.flatMap((t) => t.ops))].sort(), tasks };
  } finally {
    off();
  }
}

interface Required {
  /** Operators that some task of the action must report. */
  some?: readonly string[];
  /**
   * Operators that EVERY task of the result stage that read shuffle blocks must report: for
   * reduceByKey/distinct/word count the result tasks are the reduce tasks, and each must merge the
   * map outputs as batches (an empty reduce partition merges nothing and reports nothing).
   */
  everyReduce?: readonly string[];
}

/** No operator of the other implementation, and every required one of this implementation. */
function expectOperators(run: Traced<unknown>, impl: Impl, required: Required, label: string): void {
  const other = impl === 'wasm' ? 'js:' : 'wasm:';
  expect(run.ops.filter((o) => o.startsWith(other)), `${label}: operators of the other implementation`).toEqual([]);
  for (const r of required.some ?? []) expect(run.ops, `${label}: must run ${impl}:${r}`).toContain(`${impl}:${r}`);
  for (const r of required.everyReduce ?? []) {
    const reduces = run.tasks.filter((t) => t.stage === 'result' && t.shuffleReadBytes > 0);
    for (const t of reduces) expect(t.ops, `${label}: every reduce task must run ${impl}:${r}`).toContain(`${impl}:${r}`);
  }
}

/**
 * Runs a built-in job on wasm and on the twins of one master, checks the operators of each and that
 * both answers are identical; returns the WebAssembly answer.
 */
async function builtinBoth<T>(c: Contexts, master: Master, job: (fl: Flint) => Promise<T>, required: Required): Promise<T> {
  const a = await traced(c.wasm[master], job);
  expectOperators(a, 'wasm', required, `${master} wasm:true`);
  const b = await traced(c.js[master], job);
  expectOperators(b, 'js', required, `${master} wasm:false`);
  expectSame(b.value, a.value, `${master}: wasm:false vs wasm:true`);
  return a.value;
}

/** A lambda job on the WebAssembly context of a master, with the operators it ran. */
async function lambdaJob<T>(c: Contexts, master: Master, job: (fl: Flint) => Promise<T>): Promise<Traced<T>> {
  return traced(c.wasm[master], job);
}

/**
 * The lambda path runs on no operator: no task that read records reports one. (Reduce tasks of an
 * EMPTY partition are left out: they report 'mergeAgg' even on the lambda path, see the test
 * "metrics: a lambda reduceByKey reports no operator".)
 */
function expectNoOperators(run: Traced<unknown>, label: string, which: RegExp = /./): void {
  const offenders = run.tasks.filter((t) => t.recordsRead > 0 && t.ops.some((o) => which.test(o)));
  expect(offenders, `${label}: the lambda path runs no operator`).toEqual([]);
}

// ---- exact comparison -------------------------------------------------------------------------

/** Deep copy in which -0, NaN and ±Infinity become tags, so that toEqual compares with Object.is. */
function tag(x: unknown): unknown {
  if (typeof x === 'number') {
    if (Object.is(x, -0)) return '‹-0›';
    if (Number.isNaN(x)) return '‹NaN›';
    if (x === Infinity) return '‹+Inf›';
    if (x === -Infinity) return '‹-Inf›';
    return x;
  }
  if (Array.isArray(x)) return x.map(tag);
  if (x === undefined) return '‹undefined›';
  if (x instanceof Map) return { '‹Map›': [...x.entries()].map(tag) };
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, tag(v)]));
  return x;
}

function expectSame(actual: unknown, expected: unknown, label: string): void {
  const [a, e] = [tag(actual), tag(expected)];
  // Fast path for large results; toEqual (slow on 10^5 elements) only to report a difference.
  if (JSON.stringify(a) === JSON.stringify(e)) return;
  expect(a, label).toEqual(e);
}

/**
 * -0 and 0 are one key, and the engine reports it the way a JavaScript Map (the lambda path) does:
 * as 0. The reference keeps the first key it saw, so its keys are normalised before comparing.
 */
const zeroKey = <K>(k: K): K => (typeof k === 'number' && k === 0 ? (0 as K) : k);
const zeroKeys = <K, V>(pairs: [K, V][]): [K, V][] => pairs.map(([k, v]) => [zeroKey(k), v]);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Keys the operators take: all numbers, or all strings without lone surrogates. */
function columnar(keys: readonly unknown[]): boolean {
  return (
    keys.length > 0 &&
    (keys.every((k) => typeof k === 'number') || keys.every((k) => typeof k === 'string' && !LONE_SURROGATE.test(k)))
  );
}

// ---- data ------------------------------------------------------------------------------------

interface Layout {
  slices: number;
  coalesce?: number;
  numPartitions: number;
}

// coalesce() without a shuffle concatenates partitions, so one task sees several batches: the
// operators then aggregate across batches, and a later batch can force the fallback mid-task.
const layout: fc.Arbitrary<Layout> = fc.record({
  slices: fc.integer({ min: 1, max: 5 }),
  coalesce: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  numPartitions: fc.integer({ min: 1, max: 4 }),
});

function source<T>(fl: Flint, data: T[], l: Layout): RDD<T> {
  const rdd = fl.parallelize(data, l.slices);
  return l.coalesce ? rdd.coalesce(l.coalesce) : rdd;
}
function refSource<T>(data: T[], l: Layout): RefRDD<T> {
  const ref = RefRDD.parallelize(data, l.slices);
  return l.coalesce ? ref.coalesce(l.coalesce) : ref;
}

const SPECIAL_NUMBERS = [0, -0, NaN, Infinity, -Infinity, 1, -1, 0.1, 0.5, 1e308, -1e-308, 5e-324, 2 ** 53, -(2 ** 53) - 2];
const numKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_NUMBERS) },
  { weight: 2, arbitrary: fc.integer({ min: -3, max: 3 }) },
  { weight: 1, arbitrary: fc.double() },
);
// Astral characters against U+E000–U+FFFF (UTF-16 order differs from code point order there),
// combining marks, NUL (which the key map escapes), no-break space, the empty string.
const SPECIAL_STRINGS = ['', 'a', 'A', 'ab', 'a b', 'é', 'e\u0301', '日本', '😀', '𐀀', '\uE000', '\uFFFF', '\uFFFD', '\u0000', '\u0000s', '\u00A0', 'ｚ', '1'];
const strKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 3, unit: 'binary' }) },
);
const LONE_SURROGATES = ['\uD800', '\uDFFF', 'a\uDC00', '\uD83D', '\uDE00\uD83D'];
const mixedKey = fc.oneof(strKey, numKey, fc.constantFrom(...LONE_SURROGATES));
const value = fc.oneof(
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 1, 0.1, 0.2, 0.3, 1e16),
  fc.integer({ min: -100, max: 100 }),
  fc.double(),
);
const pairsOf = (key: fc.Arbitrary<unknown>) =>
  fc.array(fc.tuple(key, value).map(([k, v]) => [k, v] as [unknown, number]), { maxLength: 60 });

/** A deterministic pseudo-random integer in [0, n) (xorshift), for the larger fixed inputs. */
function prng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

/**
 * Many distinct string keys (past 2^16 hash slots), long keys, keys that are prefixes of one
 * another, and keys that differ only at one byte around the 8/16/32-byte boundaries of word-wise or
 * SIMD comparisons.
 */
function awkwardStringKeys(): string[] {
  const keys: string[] = [];
  for (let i = 0; i < 70_000; i++) keys.push(`k${i.toString(36)}`);
  for (let n = 0; n <= 70; n++) keys.push('a'.repeat(n), 'é'.repeat(n));
  for (const at of [7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65]) {
    const base = 'x'.repeat(80);
    for (const ch of ['y', '\uE000', '😀']) keys.push(base.slice(0, at) + ch + base.slice(at + 1));
  }
  const long = 'long key '.repeat(600);
  keys.push(long, long + 'a', long + 'b', long.slice(1), long + '😀', long + '\uFFFF');
  return keys;
}

type Agg = 'sum' | 'min' | 'max';
const AGGS: readonly Agg[] = ['sum', 'min', 'max'];
// The lambdas the built-ins stand for (they travel as source text: no free variables but Math).
const LAMBDAS: Record<Agg, (a: number, b: number) => number> = {
  sum: (a, b) => a + b,
  min: (a, b) => Math.min(a, b),
  max: (a, b) => Math.max(a, b),
};

// ---- reduceByKey ------------------------------------------------------------------------------

async function checkReduceByKey(c: Contexts, pairs: [unknown, number][], l: Layout, agg: Agg): Promise<void> {
  const fits = columnar(pairs.map((p) => p[0]));
  const required: Required = fits ? { some: ['hashAgg'], everyReduce: ['mergeAgg'] } : {};
  const expected = canonicalSort(zeroKeys(refSource(pairs, l).reduceByKey(LAMBDAS[agg], l.numPartitions).collect() as [unknown, number][]));
  for (const master of MASTERS) {
    const label = `${master} reduceByKey('${agg}') ${JSON.stringify(l)}`;
    const builtin = await builtinBoth(c, master, (fl) => source(fl, pairs, l).reduceByKey(agg, { numPartitions: l.numPartitions }).collect(), required);
    const lambda = await lambdaJob(c, master, (fl) => source(fl, pairs, l).reduceByKey(LAMBDAS[agg], { numPartitions: l.numPartitions }).collect());
    expectNoOperators(lambda, label);
    // Same reduce partitions, each in first-occurrence order (map outputs merged in map order).
    expectSame(builtin, lambda.value, `${label}: built-in vs lambda, as collected`);
    expectSame(canonicalSort(builtin), expected, `${label}: built-in vs reference, sorted`);
  }
}

describe('reduceByKey: built-in sum/min/max on the operators vs lambdas', () => {
  const c = useContexts();

  it('number keys: -0/0, NaN and ±Infinity keys and values, fixed data', async () => {
    const pairs: [number, number][] = [
      [-0, 1], [0, 2], [NaN, 3], [5, -0], [NaN, NaN], [Infinity, 1], [-Infinity, 2], [-0, 5], [5, -0],
      [0.1, 0.1], [0.1, 0.2], [0.1, 0.3], [Infinity, -Infinity], [2 ** 53, 1], [2 ** 53 + 2, 1], [-1, 0], [-1, -0],
      [1e308, 1e308], [1e308, 1e308], [5e-324, 5e-324], [-0, -0],
    ];
    for (const agg of AGGS) {
      for (const l of [{ slices: 1, numPartitions: 1 }, { slices: 3, numPartitions: 2 }, { slices: 4, coalesce: 2, numPartitions: 3 }]) {
        await checkReduceByKey(c, pairs, l, agg);
      }
    }
  });

  it('string keys: empty string, NUL, non-ASCII, astral and private-use keys, fixed data', async () => {
    const keys = ['', 'a', '\u0000', '\u0000s', 'é', 'e\u0301', '日本', '😀', '\uE000', '\uFFFF', '\uFFFD', 'ｚ', '\u00A0', '1'];
    const pairs = Array.from({ length: 70 }, (_, i) => [keys[(i * 5) % keys.length]!, ((i % 9) - 4) / 10] as [string, number]);
    for (const agg of AGGS) {
      for (const l of [{ slices: 1, numPartitions: 1 }, { slices: 3, numPartitions: 4 }, { slices: 5, coalesce: 2, numPartitions: 2 }]) {
        await checkReduceByKey(c, pairs, l, agg);
      }
    }
  });

  it('string keys (property)', async () => {
    await fc.assert(
      fc.asyncProperty(pairsOf(strKey), layout, fc.constantFrom(...AGGS), (pairs, l, agg) => checkReduceByKey(c, pairs, l, agg)),
      params,
    );
  });

  it('number keys (property)', async () => {
    await fc.assert(
      fc.asyncProperty(pairsOf(numKey), layout, fc.constantFrom(...AGGS), (pairs, l, agg) => checkReduceByKey(c, pairs, l, agg)),
      params,
    );
  });

  it('mixed keys and lone surrogates: the fallback gives the same answer (property)', async () => {
    await fc.assert(
      fc.asyncProperty(pairsOf(mixedKey), layout, fc.constantFrom(...AGGS), (pairs, l, agg) => checkReduceByKey(c, pairs, l, agg)),
      params,
    );
  });

  it('a key with a lone surrogate falls back to records and stays distinct from U+FFFD', async () => {
    const pairs: [string, number][] = [['\uD800', 1], ['\uFFFD', 2], ['a', 3], ['\uD800', 4], ['b\uDC00', 5], ['b\uFFFD', 6]];
    const expected = [['\uD800', 5], ['\uFFFD', 2], ['a', 3], ['b\uDC00', 5], ['b\uFFFD', 6]];
    for (const master of MASTERS) {
      // Every map task meets the surrogate in its first batch: no hash aggregation, no batch merge.
      for (const fl of [c.wasm[master], c.js[master]]) {
        const { value, ops } = await traced(fl, (f) => f.parallelize(pairs, 2).reduceByKey('sum', { numPartitions: 1 }).collect());
        expect(ops.filter((o) => /hashAgg|mergeAgg/.test(o)), master).toEqual([]);
        expectSame(canonicalSort(value), canonicalSort(expected), `${master}: lone surrogate keys`);
      }
      // Mid-task: the first batch (clean strings) is aggregated by the operators, then the fallback.
      const mid: [string, number][] = [['a', 1], ['b', 2], ['a', 3], ...pairs];
      const l: Layout = { slices: 3, coalesce: 1, numPartitions: 2 };
      const builtin = await builtinBoth(c, master, (fl) => source(fl, mid, l).reduceByKey('sum', { numPartitions: 2 }).collect(), { some: ['hashAgg'] });
      const lambda = await lambdaJob(c, master, (fl) => source(fl, mid, l).reduceByKey((a, b) => a + b, { numPartitions: 2 }).collect());
      expectSame(builtin, lambda.value, `${master}: mid-task fallback vs lambda`);
      expectSame(canonicalSort(builtin), canonicalSort([['\uD800', 5], ['\uFFFD', 2], ['a', 7], ['b', 2], ['b\uDC00', 5], ['b\uFFFD', 6]]), master);
      await checkReduceByKey(c, mid, l, 'max');
    }
  });

  it('mixed string and number keys fall back, mid-task too, and "1" stays apart from 1', async () => {
    const pairs: [string | number, number][] = [['1', 1], ['x', 2], [1, 3], ['1', 4], [1, 5], [-0, 6], [0, 7], ['0', 8]];
    for (const master of MASTERS) {
      const got = await builtinBoth(c, master, (fl) => fl.parallelize(pairs, 1).reduceByKey('sum', { numPartitions: 1 }).collect(), {});
      expectSame(canonicalSort(got), canonicalSort([['1', 5], ['x', 2], [1, 8], [0, 13], ['0', 8]]), master);
    }
    // Slices [strings], [numbers], [strings]: one task per kind without coalesce (batches of
    // different key kinds meet on the reduce side); with coalesce(1) the switch is mid-task.
    const blocks: [string | number, number][] = [['a', 1], ['b', 2], ['a', 3], [1, 4], [2, 5], [1, 6], ['a', 7], ['1', 8], ['b', 9]];
    for (const l of [{ slices: 3, numPartitions: 1 }, { slices: 3, numPartitions: 3 }, { slices: 3, coalesce: 1, numPartitions: 2 }]) {
      for (const agg of AGGS) await checkReduceByKey(c, blocks, l, agg);
    }
  });

  it('many distinct keys, long keys and keys differing at word boundaries, over several batches', async () => {
    const rand = prng(7);
    const keys = awkwardStringKeys();
    const strPairs = Array.from({ length: 80_000 }, (_, i) => [keys[i < keys.length ? i : rand(keys.length)]!, (rand(2001) - 1000) / 10] as [string, number]);
    // Numbers close together (a few ulps apart), integers past 2^53, and many distinct values.
    const numKeys = Array.from({ length: 40_000 }, (_, i) => (i % 4 === 0 ? 1 + i * Number.EPSILON : i % 4 === 1 ? 2 ** 53 + 2 * i : i % 4 === 2 ? -i / 7 : i * 1e-300));
    const numPairs = Array.from({ length: 60_000 }, (_, i) => [numKeys[i < numKeys.length ? i : rand(numKeys.length)]!, (rand(2001) - 1000) / 10] as [number, number]);
    // (min and max take the same paths; the fixed and property tests cover them.)
    await checkReduceByKey(c, strPairs, { slices: 4, coalesce: 2, numPartitions: 3 }, 'sum');
    await checkReduceByKey(c, numPairs, { slices: 3, numPartitions: 2 }, 'sum');
  });

  it('metrics: a lambda reduceByKey reports no operator, also for an empty reduce partition', async () => {
    // One key, four reduce partitions: three of them receive nothing.
    for (const master of MASTERS) {
      const pairs: [string, number][] = [['a', 1], ['a', 2]];
      const run = await lambdaJob(c, master, (fl) => fl.parallelize(pairs, 2).reduceByKey((a, b) => a + b, { numPartitions: 4 }).collect());
      expect(run.value).toEqual([['a', 3]]);
      expect(run.ops, `${master}: operators reported by a job that ran none`).toEqual([]);
    }
  });
});

describe('built-in aggregators reject non-number values', () => {
  // One attempt per task: the failure is deterministic, and four attempts per job would only add time.
  const c = useContexts({ maxTaskFailures: 1 });

  it('a non-number value with a built-in aggregator fails the job on both paths, naming the aggregator', async () => {
    const cases: Array<{ agg: Agg; pairs: [unknown, unknown][]; l: Layout }> = [
      { agg: 'sum', pairs: [['a', 1], ['b', 'x'], ['a', 2]], l: { slices: 1, numPartitions: 1 } },
      { agg: 'min', pairs: [[1, 1], [2, null], [1, 2]], l: { slices: 2, numPartitions: 2 } },
      // The first batch is numeric (aggregated on the operators), the second is not.
      { agg: 'max', pairs: [['a', 1], ['b', 2], ['a', true], ['c', 4]], l: { slices: 2, coalesce: 1, numPartitions: 1 } },
      { agg: 'sum', pairs: [['a', 1], ['a', '2']], l: { slices: 2, coalesce: 1, numPartitions: 1 } },
    ];
    for (const master of MASTERS) {
      for (const { agg, pairs, l } of cases) {
        for (const fl of [c.wasm[master], c.js[master]]) {
          const err = (await source(fl, pairs, l)
            .reduceByKey(agg, { numPartitions: l.numPartitions })
            .collect()
            .then(
              () => null,
              (e: unknown) => e,
            )) as FlintError | null;
          expect(err, `${master} ${agg} ${JSON.stringify(pairs)}`).toBeInstanceOf(FlintError);
          expect(err!.code).toBe('JOB_ABORTED');
          expect(err!.message).toContain(`built-in aggregator '${agg}' needs number values`);
        }
      }
    }
  });
});

// ---- countByValue, countByKey, distinct ---------------------------------------------------------

async function checkCountByValue(c: Contexts, xs: unknown[], l: Layout): Promise<void> {
  const required: Required = columnar(xs) ? { some: ['hashAgg'] } : {};
  // The driver merges partitions in order, each in first-occurrence order: the reference's order.
  const expected = zeroKeys(refSource(xs, l).countByValue());
  for (const master of MASTERS) {
    const label = `${master} countByValue ${JSON.stringify(l)}`;
    const builtin = [...(await builtinBoth(c, master, (fl) => source(fl, xs, l).countByValue(), required)).entries()];
    expectSame(builtin, expected, `${label}: vs reference, as returned`);
    const lambda = await lambdaJob(c, master, (fl) =>
      source(fl, xs, l)
        .map((x) => [x, 1] as [unknown, number])
        .reduceByKey((a, b) => a + b, { numPartitions: l.numPartitions })
        .collect(),
    );
    expectNoOperators(lambda, label);
    expectSame(canonicalSort(builtin), canonicalSort(lambda.value), `${label}: vs lambda, sorted`);
  }
}

async function checkCountByKey(c: Contexts, pairs: [unknown, number][], l: Layout): Promise<void> {
  const required: Required = columnar(pairs.map((p) => p[0])) ? { some: ['hashAgg'] } : {};
  const expected = zeroKeys(refSource(pairs, l).countByKey());
  for (const master of MASTERS) {
    const label = `${master} countByKey ${JSON.stringify(l)}`;
    const builtin = [...(await builtinBoth(c, master, (fl) => source(fl, pairs, l).countByKey(), required)).entries()];
    expectSame(builtin, expected, `${label}: vs reference, as returned`);
    const lambda = await lambdaJob(c, master, (fl) =>
      source(fl, pairs, l)
        .map((kv) => [kv[0], 1] as [unknown, number])
        .reduceByKey((a, b) => a + b)
        .collect(),
    );
    expectNoOperators(lambda, label);
    expectSame(canonicalSort(builtin), canonicalSort(lambda.value), `${label}: vs lambda, sorted`);
  }
}

async function checkDistinct(c: Contexts, xs: unknown[], l: Layout): Promise<void> {
  const required: Required = columnar(xs) ? { some: ['hashAgg'], everyReduce: ['mergeAgg'] } : {};
  const expected = canonicalSort(refSource(xs, l).distinct(l.numPartitions).collect().map(zeroKey));
  for (const master of MASTERS) {
    const label = `${master} distinct ${JSON.stringify(l)}`;
    const builtin = await builtinBoth(c, master, (fl) => source(fl, xs, l).distinct({ numPartitions: l.numPartitions }).collect(), required);
    expectSame(canonicalSort(builtin), expected, `${label}: vs reference, sorted`);
    // Spark's own definition of distinct, with lambdas.
    const lambda = await lambdaJob(c, master, (fl) =>
      source(fl, xs, l)
        .map((x) => [x, null] as [unknown, null])
        .reduceByKey((a) => a, { numPartitions: l.numPartitions })
        .map((kv) => kv[0])
        .collect(),
    );
    expectNoOperators(lambda, label);
    expectSame(builtin, lambda.value, `${label}: vs lambda, as collected`);
  }
}

describe('countByValue, countByKey and distinct: built-in count aggregation vs lambdas', () => {
  const c = useContexts();
  const values = (key: fc.Arbitrary<unknown>) => fc.array(key, { maxLength: 60 });

  it('fixed data: -0/0, NaN, ±Infinity, empty and non-ASCII strings, and a mid-task fallback', async () => {
    const nums = [-0, 0, NaN, NaN, Infinity, -Infinity, 1, 1, -0, 0.1, 5e-324, 2 ** 53, 2 ** 53 + 2];
    const strs = ['', 'a', '', '\u0000', 'é', 'e\u0301', '😀', '\uE000', '\uFFFF', '😀', 'a'];
    const mixed = ['a', 'b', 'a', '1', 1, -0, 0, null, true, false, '\uD800', '\uFFFD', 'a', 1];
    for (const xs of [nums, strs, mixed]) {
      for (const l of [{ slices: 1, numPartitions: 1 }, { slices: 3, numPartitions: 2 }, { slices: 4, coalesce: 1, numPartitions: 3 }]) {
        await checkCountByValue(c, xs, l);
        await checkDistinct(c, xs, l);
        await checkCountByKey(c, xs.map((x, i) => [x, i]), l);
      }
    }
    for (const master of MASTERS) {
      const m = await builtinBoth(c, master, (fl) => fl.parallelize(nums, 3).countByValue(), { some: ['hashAgg'] });
      expect([...m.keys()].some((k) => Object.is(k, -0)), 'a Map key is never -0').toBe(false);
      expect(m.get(0)).toBe(3);
      expect(m.get(NaN)).toBe(2);
    }
  });

  it('many distinct values and long values, over several batches', async () => {
    const rand = prng(11);
    const keys = awkwardStringKeys();
    const strs = Array.from({ length: 80_000 }, (_, i) => keys[i < keys.length ? i : rand(keys.length)]!);
    const nums = Array.from({ length: 60_000 }, (_, i) => (i % 3 === 0 ? rand(50_000) : i % 3 === 1 ? 1 + rand(5000) * Number.EPSILON : -rand(40_000) / 3));
    // (Big string batches through the reduce-side merge are covered by the reduceByKey test.)
    await checkCountByValue(c, strs, { slices: 4, coalesce: 2, numPartitions: 3 });
    await checkDistinct(c, nums, { slices: 4, coalesce: 2, numPartitions: 3 });
  });

  it('countByValue (property: strings, numbers, mixed)', async () => {
    await fc.assert(fc.asyncProperty(values(strKey), layout, (xs, l) => checkCountByValue(c, xs, l)), params);
    await fc.assert(fc.asyncProperty(values(numKey), layout, (xs, l) => checkCountByValue(c, xs, l)), params);
    await fc.assert(fc.asyncProperty(values(mixedKey), layout, (xs, l) => checkCountByValue(c, xs, l)), params);
  });

  it('countByKey (property)', async () => {
    await fc.assert(fc.asyncProperty(pairsOf(fc.oneof(strKey, numKey)), layout, (pairs, l) => checkCountByKey(c, pairs, l)), params);
  });

  it('distinct (property: strings, numbers, mixed)', async () => {
    await fc.assert(fc.asyncProperty(values(strKey), layout, (xs, l) => checkDistinct(c, xs, l)), params);
    await fc.assert(fc.asyncProperty(values(numKey), layout, (xs, l) => checkDistinct(c, xs, l)), params);
    await fc.assert(fc.asyncProperty(values(mixedKey), layout, (xs, l) => checkDistinct(c, xs, l)), params);
  });
});

// ---- stats, sum, mean -------------------------------------------------------------------------

/**
 * Spark's StatCounter (core/.../util/StatCounter.scala) in plain TypeScript: Welford's update per
 * value with math.min/math.max (NaN wins, -0 < 0), partition counters merged in partition order.
 * `sum` is kept as a running sum (what Flint reports, and PySpark's rdd.sum()).
 */
class SparkStatCounter {
  n = 0;
  mu = 0;
  m2 = 0;
  sum = 0;
  max = -Infinity;
  min = Infinity;

  add(x: number): this {
    const delta = x - this.mu;
    this.n += 1;
    this.mu += delta / this.n;
    this.m2 += delta * (x - this.mu);
    this.sum += x;
    this.max = Math.max(this.max, x);
    this.min = Math.min(this.min, x);
    return this;
  }

  merge(o: SparkStatCounter): this {
    if (this.n === 0) {
      Object.assign(this, { n: o.n, mu: o.mu, m2: o.m2, sum: o.sum, max: o.max, min: o.min });
    } else if (o.n !== 0) {
      const delta = o.mu - this.mu;
      if (o.n * 10 < this.n) this.mu = this.mu + (delta * o.n) / (this.n + o.n);
      else if (this.n * 10 < o.n) this.mu = o.mu - (delta * this.n) / (this.n + o.n);
      else this.mu = (this.mu * this.n + o.mu * o.n) / (this.n + o.n);
      this.m2 += o.m2 + (delta * delta * this.n * o.n) / (this.n + o.n);
      this.n += o.n;
      this.sum += o.sum;
      this.max = Math.max(this.max, o.max);
      this.min = Math.min(this.min, o.min);
    }
    return this;
  }

  result() {
    const variance = this.n === 0 ? NaN : this.m2 / this.n;
    const sampleVariance = this.n <= 1 ? NaN : this.m2 / (this.n - 1);
    return {
      count: this.n,
      mean: this.mu,
      stdev: Math.sqrt(variance),
      sum: this.sum,
      min: this.min,
      max: this.max,
      variance,
      sampleVariance,
      sampleStdev: Math.sqrt(sampleVariance),
    };
  }
}

function referenceStats(partitions: number[][]) {
  const total = new SparkStatCounter();
  for (const p of partitions) {
    const s = new SparkStatCounter();
    for (const x of p) s.add(x);
    total.merge(s);
  }
  return total.result();
}

async function checkStats(c: Contexts, xs: number[], l: Layout): Promise<void> {
  const required: Required = xs.length > 0 ? { some: ['stats'] } : {};
  for (const master of MASTERS) {
    const label = `${master} stats ${JSON.stringify(l)}`;
    const stats = await builtinBoth(c, master, (fl) => source(fl, xs, l).stats(), required);
    const sum = await builtinBoth(c, master, (fl) => source(fl, xs, l).sum(), required);
    const mean = await builtinBoth(c, master, (fl) => source(fl, xs, l).mean(), required);
    // The reference runs on the partitions the engine really has, in partition order.
    const parts = await source(c.wasm[master], xs, l).glom().collect();
    expectSame(parts.flat(), refSource(xs, l).collect(), `${label}: partitions`);
    const expected = referenceStats(parts);
    expectSame(stats, expected, `${label}: stats() vs Spark's StatCounter`);
    expectSame(mean, expected.mean, `${label}: mean()`);
    expectSame(sum, expected.sum, `${label}: sum()`);
    const folded = await lambdaJob(c, master, (fl) => source(fl, xs, l).fold(0, (a, b) => a + b));
    expectSame(sum, folded.value, `${label}: sum() vs fold(0, (a, b) => a + b)`);
  }
}

describe('stats, sum, mean: Welford kernel vs plain TypeScript', () => {
  const c = useContexts();
  // Decimal fractions (inexact in binary) make rounding, and so the order of operations, visible.
  const floats = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: -1000, max: 1000 }).map((i) => i / 10) },
    { weight: 3, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }) },
    { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  );
  const special = fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 1e300, -1e-300, 5e-324);

  it('finite floats where summation order matters (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(floats, { minLength: 4, maxLength: 80, size: 'medium' }), layout, (xs, l) => checkStats(c, xs, l)), params);
  });

  it('with NaN, ±Infinity and ±0 mixed in (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.oneof(floats, special), { maxLength: 60 }), layout, (xs, l) => checkStats(c, xs, l)), params);
  });

  it('many values over several batches per task, and empty partitions', async () => {
    let seed = 0x9e3779b9;
    const rand = () => ((seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
    const xs = Array.from({ length: 30_000 }, (_, i) => (rand() - 0.3) * 10 ** ((i % 13) - 4) + (i % 7 === 0 ? 1e6 : 0));
    await checkStats(c, xs, { slices: 3, numPartitions: 1 });
    await checkStats(c, xs, { slices: 8, coalesce: 2, numPartitions: 1 });
    await checkStats(c, [0.1, 0.2, 0.3], { slices: 6, numPartitions: 1 });
    await checkStats(c, [], { slices: 2, numPartitions: 1 });
  });

  // Minimal cases; '|' separates partitions.
  it.each([
    { name: 'm2 merge [1.2, 6.7 | 1.7, 8.9]', xs: [1.2, 6.7, 1.7, 8.9], slices: 2 },
    { name: 'm2 merge [3.2, 1.7 | 0.1, 2.6]', xs: [3.2, 1.7, 0.1, 2.6], slices: 2 },
    { name: 'min [0, -0]', xs: [0, -0], slices: 1 },
    { name: 'max [-0, 0]', xs: [-0, 0], slices: 1 },
    { name: 'min [0 | -0]', xs: [0, -0], slices: 2 },
    { name: 'max [-0 | 0]', xs: [-0, 0], slices: 2 },
    { name: 'NaN [1, NaN, 2]', xs: [1, NaN, 2], slices: 1 },
    { name: 'NaN [NaN, 1]', xs: [NaN, 1], slices: 1 },
  ])('fixed case: $name', async ({ xs, slices }) => {
    await checkStats(c, xs, { slices, numPartitions: 1 });
  });
});

// ---- sortByKey, sortBy ------------------------------------------------------------------------

async function checkSortByKey<K>(c: Contexts, keys: K[], slices: number, numPartitions: number, ascending: boolean): Promise<void> {
  const pairs = keys.map((k, i) => [k, i] as [K, number]);
  // n records in p partitions with n > p: some reduce partition sorts at least two records.
  const required: Required = pairs.length > numPartitions ? { some: ['radixSort'] } : {};
  const expected = RefRDD.parallelize(pairs, slices).sortByKey(ascending, numPartitions).collect();
  for (const master of MASTERS) {
    const label = `${master} sortByKey asc=${ascending} slices=${slices} n=${numPartitions}`;
    const builtin = await builtinBoth(c, master, (fl) => fl.parallelize(pairs, slices).sortByKey({ ascending, numPartitions }).collect(), required);
    expectSame(builtin, expected, `${label}: vs reference`);
    // Array keys take the comparator path (compareValues), not the radix sort.
    const comparator = await lambdaJob(c, master, (fl) =>
      fl.parallelize(pairs, slices).sortByKey({ ascending, numPartitions, keyfunc: (k) => [k] }).collect(),
    );
    expect(comparator.ops.filter((o) => o.endsWith(':radixSort')), label).toEqual([]);
    expectSame(builtin, comparator.value, `${label}: vs comparator path`);
  }
}

async function checkSortBy<T>(c: Contexts, xs: T[], slices: number, numPartitions: number, ascending: boolean): Promise<void> {
  const required: Required = xs.length > numPartitions ? { some: ['radixSort'] } : {};
  const expected = sortedBy(xs, (x) => x, !ascending);
  for (const master of MASTERS) {
    const label = `${master} sortBy asc=${ascending} slices=${slices} n=${numPartitions}`;
    const builtin = await builtinBoth(c, master, (fl) => fl.parallelize(xs, slices).sortBy((x) => x, { ascending, numPartitions }).collect(), required);
    expectSame(builtin, expected, `${label}: vs reference`);
    const comparator = await lambdaJob(c, master, (fl) => fl.parallelize(xs, slices).sortBy((x) => [x], { ascending, numPartitions }).collect());
    expect(comparator.ops.filter((o) => o.endsWith(':radixSort')), label).toEqual([]);
    expectSame(builtin, comparator.value, `${label}: vs comparator path`);
  }
}

describe('sortByKey and sortBy: radix argsort vs comparator and reference', () => {
  const c = useContexts();
  const sortArgs = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.boolean());
  const wellFormedStr = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
    { weight: 2, arbitrary: fc.string({ maxLength: 3, unit: 'binary' }) },
  );

  it('numbers with duplicates, NaN, -0 and ±Infinity: stable, -0 = 0, NaN last ascending and first descending', async () => {
    const xs = [3, NaN, -0, 0, 1, -Infinity, NaN, 0, -0, Infinity, 3, -1, 0.5, 2 ** 53, -(2 ** 53)];
    for (const ascending of [true, false]) {
      for (const [slices, n] of [[1, 1], [3, 1], [3, 2], [4, 4]] as const) {
        await checkSortByKey(c, xs, slices, n, ascending);
        await checkSortBy(c, xs, slices, n, ascending);
      }
    }
    // Spelled out: equal keys keep their input order in both directions.
    const tagged = (xs: number[]) => xs.map((x) => (Object.is(x, -0) ? '-0' : String(x)));
    const asc = await c.wasm['local[2]'].parallelize(xs, 3).sortBy((x) => x, { numPartitions: 2 }).collect();
    expect(tagged(asc)).toEqual(['-Infinity', '-9007199254740992', '-1', '-0', '0', '0', '-0', '0.5', '1', '3', '3', '9007199254740992', 'Infinity', 'NaN', 'NaN']);
    const desc = await c.wasm['local[2]'].parallelize(xs, 3).sortBy((x) => x, { ascending: false, numPartitions: 2 }).collect();
    expect(tagged(desc)).toEqual(['NaN', 'NaN', 'Infinity', '9007199254740992', '3', '3', '1', '0.5', '-0', '0', '0', '-0', '-1', '-9007199254740992', '-Infinity']);
  });

  it('strings in code point order: astral characters after U+E000–U+FFFF', async () => {
    const xs = ['\uFFFF', '😀', '\uE000', '𐀀', 'a', '', 'é', '\uFFFD', 'ｚ', '😀', 'e\u0301', '\u0000', 'A', ''];
    const order = ['', '', '\u0000', 'A', 'a', 'e\u0301', 'é', '\uE000', 'ｚ', '\uFFFD', '\uFFFF', '𐀀', '😀', '😀'];
    for (const ascending of [true, false]) {
      for (const [slices, n] of [[1, 1], [3, 2], [4, 3]] as const) {
        await checkSortByKey(c, xs, slices, n, ascending);
        await checkSortBy(c, xs, slices, n, ascending);
      }
    }
    for (const master of MASTERS) {
      expect(await builtinBoth(c, master, (fl) => fl.parallelize(xs, 3).sortBy((s) => s, { numPartitions: 2 }).collect(), { some: ['radixSort'] })).toEqual(order);
    }
  });

  it('strings with a lone surrogate take the comparator path, ordered as documented (after U+FFFF)', async () => {
    const xs = ['😀', '\uD800', '\uFFFF', 'a', '\uE000', '\uDFFF'];
    // compareValues: a lone surrogate sorts as a surrogate pair would, so by its code unit among them.
    const order = ['a', '\uE000', '\uFFFF', '\uD800', '😀', '\uDFFF'];
    for (const master of MASTERS) {
      const got = await builtinBoth(c, master, (fl) => fl.parallelize(xs, 2).sortBy((s) => s, { numPartitions: 1 }).collect(), {});
      expect(got).toEqual(order);
    }
  });

  it('long common prefixes, close numbers and many records', async () => {
    const rand = prng(3);
    // Strings that tie on their first 8/16 bytes and differ after, astral vs U+E000–U+FFFF there too.
    const tails = ['', 'a', 'b', '\u007F', '\u0080', 'é', '\uE000', '\uFFFF', '😀', '𐀀', '\uFFFD'];
    const prefixes = ['', 'abcdefg', 'abcdefgh', 'abcdefghi', 'abcdefghijklmnop', 'é'.repeat(4), 'é'.repeat(8)];
    const strs = Array.from({ length: 20_000 }, () => prefixes[rand(prefixes.length)]! + tails[rand(tails.length)]! + tails[rand(tails.length)]!);
    const nums = Array.from({ length: 20_000 }, () => {
      const r = rand(8);
      return r === 0 ? 1 + rand(16) * Number.EPSILON : r === 1 ? -(1 + rand(16) * Number.EPSILON) : r === 2 ? rand(3) * 5e-324 : r === 3 ? -rand(3) * 5e-324 : r === 4 ? 2 ** 53 + rand(8) : r === 5 ? (rand(2) ? -0 : 0) : r === 6 ? NaN : (rand(1000) - 500) / 7;
    });
    await checkSortBy(c, strs, 3, 2, true);
    await checkSortByKey(c, strs, 2, 3, false);
    await checkSortByKey(c, nums, 4, 3, true);
    await checkSortBy(c, nums, 3, 2, false);
  });

  it('sortByKey and sortBy on numbers (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(numKey, { maxLength: 50 }), sortArgs, async (xs, [slices, n, ascending]) => {
        await checkSortByKey(c, xs, slices, n, ascending);
        await checkSortBy(c, xs, slices, n, ascending);
      }),
      params,
    );
  });

  it('sortByKey and sortBy on strings (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(wellFormedStr, { maxLength: 50 }), sortArgs, async (xs, [slices, n, ascending]) => {
        await checkSortByKey(c, xs, slices, n, ascending);
        await checkSortBy(c, xs, slices, n, ascending);
      }),
      params,
    );
  });
});

// ---- fused text scans -------------------------------------------------------------------------

const utf8 = (s: string) => Uint8Array.from(Buffer.from(s, 'utf8'));
const BOM = Uint8Array.from([0xef, 0xbb, 0xbf]);

/** Lines as textFile documents them: '\n' ends a line and drops one '\r'; a leading BOM is dropped. */
function referenceLines(bytes: Uint8Array): string[] {
  let b = bytes;
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
  if (b.length === 0) return [];
  const lines = new TextDecoder('utf-8', { ignoreBOM: true }).decode(b).split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

function referenceText(bytes: Uint8Array) {
  const lines = referenceLines(bytes);
  const ws = lines.flatMap((l) => l.split(/\s+/).filter(Boolean));
  const counts = new Map<string, number>();
  for (const w of ws) counts.set(w, (counts.get(w) ?? 0) + 1);
  return { lines, words: ws, counts };
}

// Words (including characters JS \s does NOT match: U+0085, U+180E, U+200B), separators that it
// does match (ASCII, U+00A0, U+1680, U+2000–U+200A, U+2028/9, U+202F, U+205F, U+3000, U+FEFF),
// line ends, and invalid UTF-8: stray bytes, truncated sequences (some of them the beginning of a
// multi-byte space), an encoded surrogate, an overlong form, and a literal U+FFFD that the decoded
// invalid bytes collide with.
const TEXT_FRAGMENTS: Uint8Array[] = [
  ...['a', 'the', 'The', 'x1', 'word', 'é', 'e\u0301', '日本語', '😀', '\uE000', '\uFFFD', 'a\uFFFD', '\u0085', '\u180E', '\u200B', 'a'].map(utf8),
  ...[' ', '   ', '\t', '\r\n', '\n', '\n\n', '\r', '\v', '\f', '\u00A0', '\u3000', '\uFEFF', '\u2028', '\u2029', '\u202F', '\u205F', '\u1680', '\u2000', '\u200A'].map(utf8),
  ...[[0xff], [0xfe], [0xc3], [0xe3, 0x80], [0xe2, 0x80], [0xf0, 0x9f, 0x98], [0xef, 0xbb], [0xc2], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0x80], [0xe1, 0x9a]].map((b) => Uint8Array.from(b)),
];


const LAMBDA_WORDS = (line: string) => line.split(/\s+/).filter(Boolean);

async function checkTextJobs(c: Contexts, path: string, bytes: Uint8Array, minPartitions: number): Promise<void> {
  const ref = referenceText(bytes);
  const some = ref.lines.length > 0;
  for (const master of MASTERS) {
    const label = `${master} textFile(${JSON.stringify(Buffer.from(bytes).toString('hex').slice(0, 400))}, ${minPartitions})`;
    // Word count: fused scan straight into the map-side hash aggregation.
    const wordCount = await builtinBoth(
      c,
      master,
      (fl) => fl.textFile(path, minPartitions).flatMap(words).map(pairWith(1)).reduceByKey('sum').collect(),
      some ? { some: ['wordScan'], everyReduce: ['mergeAgg'] } : { everyReduce: ['mergeAgg'] },
    );
    const wordCountLambda = await lambdaJob(c, master, (fl) =>
      fl
        .textFile(path, minPartitions)
        .flatMap((line) => line.split(/\s+/).filter(Boolean))
        .map((w) => [w, 1] as [string, number])
        .reduceByKey((a, b) => a + b)
        .collect(),
    );
    expectNoOperators(wordCountLambda, `${label}: lambda word count`);
    expectSame(wordCount, wordCountLambda.value, `${label}: word count, fused vs lambda, as collected`);
    expectSame(canonicalSort(wordCount), canonicalSort([...ref.counts]), `${label}: word count vs reference`);

    // countByValue of the words: fused scan into a count aggregation.
    const counted = await builtinBoth(c, master, (fl) => fl.textFile(path, minPartitions).flatMap(words).countByValue(), some ? { some: ['wordScan'] } : {});
    expectSame([...counted], [...ref.counts], `${label}: countByValue vs reference, as returned`);
    const countedLambda = await lambdaJob(c, master, (fl) => fl.textFile(path, minPartitions).flatMap(LAMBDA_WORDS).countByValue());
    expect(countedLambda.ops.filter((o) => o.endsWith(':wordScan')), label).toEqual([]);
    expectSame([...counted], [...countedLambda.value], `${label}: countByValue, fused vs lambda words`);

    // count: a fused line count (the byte count of '\n' on the operators).
    const lines = await builtinBoth(c, master, (fl) => fl.textFile(path, minPartitions).count(), bytes.length > 0 ? { some: ['lineScan'] } : {});
    const linesLambda = await lambdaJob(c, master, (fl) => fl.textFile(path, minPartitions).filter(() => true).count());
    expectNoOperators(linesLambda, `${label}: unfused count`);
    expect(lines, `${label}: count`).toBe(ref.lines.length);
    expect(linesLambda.value, `${label}: count, unfused`).toBe(ref.lines.length);

    // The words themselves, cut by the scanner, in order.
    const ws = await builtinBoth(c, master, (fl) => fl.textFile(path, minPartitions).flatMap(words).collect(), some ? { some: ['wordScan'] } : {});
    expectSame(ws, ref.words, `${label}: flatMap(words) vs reference`);
    expect(await c.wasm[master].textFile(path, minPartitions).collect(), `${label}: lines`).toEqual(ref.lines);
  }
}

describe('fused text scans (textFile → words → count) vs lambdas on real files', () => {
  const c = useContexts();
  let dir: string;
  let fileNo = 0;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'flint-operators-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (bytes: Uint8Array) => {
    const path = join(dir, `text-${fileNo++}.txt`);
    writeFileSync(path, bytes);
    return path;
  };

  it('a file with every edge case, split inside lines', async () => {
    const text = concatBytes([
      BOM,
      utf8('the  quick\tbrown\r\n'),
      utf8('\r\n\n   \n'),
      utf8('nbsp\u00A0here ideographic\u3000space bom\uFEFFinside\r\n'),
      utf8('über straße 日本語 😀 \uE000 e\u0301 \u0085nel \u200Bzw\r'),
      Uint8Array.from([0x0a, 0x61, 0xff, 0x20, 0x61, 0xfe, 0x20]),
      utf8('a\uFFFD '),
      Uint8Array.from([0xc3, 0x20, 0xe3, 0x80, 0x20, 0xe2, 0x80, 0x0a, 0xf0, 0x9f, 0x98, 0x61, 0x20, 0xed, 0xa0, 0x80, 0x0a]),
      utf8('\ttabs\t\tand   runs   of spaces   \n'),
      utf8('the end'),
    ]);
    const path = write(text);
    const ref = referenceText(text);
    expect(ref.counts.get('a\uFFFD')).toBe(3);
    expect(ref.counts.get('the')).toBe(2);
    expect(ref.lines.length).toBe(10);
    for (const minPartitions of [1, 2, 3, 7, 16]) await checkTextJobs(c, path, text, minPartitions);
  });

  it('empty, BOM-only and newline-only files', async () => {
    for (const bytes of [new Uint8Array(0), BOM, utf8('\n'), concatBytes([BOM, utf8('\n')]), utf8('\r\n\r\n'), utf8('   ')]) {
      await checkTextJobs(c, write(bytes), bytes, 2);
    }
  });

  it('random files of words, Unicode spaces, line ends and invalid UTF-8 (property)', async () => {
    const file = fc.record({
      bom: fc.boolean(),
      parts: fc.array(fc.constantFrom(...TEXT_FRAGMENTS), { maxLength: 80 }),
      minPartitions: fc.integer({ min: 1, max: 7 }),
    });
    await fc.assert(
      fc.asyncProperty(file, async ({ bom, parts, minPartitions }) => {
        const bytes = concatBytes(bom ? [BOM, ...parts] : parts);
        await checkTextJobs(c, write(bytes), bytes, minPartitions);
      }),
      textParams,
    );
  });

  it('a larger file with a line longer than the scanner chunk (1 MiB)', async () => {
    let seed = 12345;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    const parts: Uint8Array[] = [BOM];
    const wordsPool = TEXT_FRAGMENTS.slice(0, 16);
    const spaces = [' ', ' ', ' ', '\t', '\u3000', '\u00A0', '\r\n', '\n'].map(utf8);
    let size = 0;
    while (size < 1_500_000) {
      // Long words (several fragments, now and then an invalid byte sequence) keep the word count modest.
      for (let k = 1 + rand(8); k > 0; k--) {
        const w = rand(40) === 0 ? TEXT_FRAGMENTS[TEXT_FRAGMENTS.length - 1 - rand(12)]! : wordsPool[rand(wordsPool.length)]!;
        parts.push(w);
        size += w.length;
      }
      // From 200 kB to 1.35 MB the text is one line: spaces only, no line end.
      const s = size > 200_000 && size < 1_350_000 ? utf8(rand(5) === 0 ? '\u3000' : ' ') : spaces[rand(spaces.length)]!;
      parts.push(s);
      size += s.length;
    }
    const bytes = concatBytes(parts);
    await checkTextJobs(c, write(bytes), bytes, 3);
  });
});
