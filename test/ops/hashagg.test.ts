import { describe, expect, test, beforeAll } from 'vitest';
import fc from 'fast-check';
import { FlintError } from '../../host/errors.js';
import { createTwinOps } from '../../host/ops/twins.js';
import { decodeAggBatch } from '../../host/ops/batch.js';
import type { AggKind, FlintOps, PackedBytes } from '../../host/ops/types.js';
import type { WasmOps } from '../../host/ops/wasm-ops.js';
import { loadWasmOps, sameBytes, sameFloats, packed } from './helpers.js';

const KINDS: AggKind[] = ['sum', 'count', 'min', 'max', 'mean', 'stats'];
let wasm: WasmOps;
let colliding: WasmOps;
const twin = createTwinOps();

beforeAll(async () => {
  wasm = await loadWasmOps();
  colliding = await loadWasmOps({ hashMask: 0 });
});

/** Spelled-out reference: group values per key in first-occurrence order, then fold each group. */
function naiveAgg<K>(keys: K[], values: ArrayLike<number>, kind: AggKind, id: (k: K) => unknown): { keys: K[]; values: number[] } {
  const groups = new Map<unknown, { key: K; xs: number[] }>();
  keys.forEach((k, i) => {
    const g = groups.get(id(k));
    if (g) g.xs.push(values[i]!);
    else groups.set(id(k), { key: k, xs: [values[i]!] });
  });
  const outKeys: K[] = [];
  const out: number[] = [];
  for (const { key, xs } of groups.values()) {
    outKeys.push(key);
    let sum = 0;
    for (const x of xs) sum += x;
    const min = xs.reduce((a, b) => Math.min(a, b));
    const max = xs.reduce((a, b) => Math.max(a, b));
    // The first value starts the sum (not 0 + x): -0 stays -0 and the sum order matches.
    sum = xs.slice(1).reduce((a, b) => a + b, xs[0]!);
    if (kind === 'sum') out.push(sum);
    else if (kind === 'count') out.push(xs.length);
    else if (kind === 'min') out.push(min);
    else if (kind === 'max') out.push(max);
    else if (kind === 'mean') out.push(sum / xs.length);
    else out.push(xs.length, sum, min, max, sum / xs.length);
  }
  return { keys: outKeys, values: out };
}

const specialDouble = fc.oneof(
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 1, -1, 0.1, 1e308, -5e-324),
  fc.double(),
  fc.integer({ min: -50, max: 50 }),
);

function unpackBytes(p: PackedBytes): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < p.offsets.length; i++) out.push(Array.from(p.bytes.subarray(p.offsets[i]!, p.offsets[i + 1]!)).join(','));
  return out;
}

describe('hash aggregation, i64 keys', () => {
  test('matches the twin and the reference', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((k) => k % 7n), specialDouble), { maxLength: 60 }),
        fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 20 }),
        fc.constantFrom(...KINDS),
        (rows, extra, kind) => {
          const all = [...rows.map(([k]) => k), ...extra];
          const keys = BigInt64Array.from(all);
          const values = Float64Array.from([...rows.map(([, v]) => v), ...extra.map((k) => Number(k % 1000n))]);
          const ref = naiveAgg(Array.from(keys), values, kind, (k) => k);
          for (const ops of [wasm, colliding, twin] as FlintOps[]) {
            const r = ops.hashAggI64(keys, values, kind);
            expect(Array.from(r.keys)).toEqual(ref.keys);
            expect(sameFloats(r.values, ref.values)).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  test('one distinct key and all distinct keys', () => {
    const n = 5000;
    const one = new BigInt64Array(n).fill(42n);
    const distinct = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 0x1_0000_0001n);
    const values = Float64Array.from({ length: n }, (_, i) => (i % 13) - 6);
    for (const keys of [one, distinct]) {
      const ref = naiveAgg(Array.from(keys), values, 'stats', (k) => k);
      for (const ops of [wasm, colliding, twin] as FlintOps[]) {
        const r = ops.hashAggI64(keys, values, 'stats');
        expect(Array.from(r.keys)).toEqual(ref.keys);
        expect(sameFloats(r.values, ref.values)).toBe(true);
      }
    }
  });

  test('batches from both implementations are byte-identical', () => {
    const keys = BigInt64Array.from({ length: 3000 }, (_, i) => BigInt((i * 7919) % 1009));
    const values = Float64Array.from({ length: 3000 }, (_, i) => i * 0.5);
    for (const kind of KINDS) expect(wasm.hashAggI64(keys, values, kind).batch).toEqual(twin.hashAggI64(keys, values, kind).batch);
  });
});

describe('hash aggregation, f64 keys', () => {
  test('-0 is +0 and NaN is one key, as in a JS Map', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(specialDouble, specialDouble), { maxLength: 60 }), fc.constantFrom(...KINDS), (rows, kind) => {
        const keys = Float64Array.from(rows.map(([k]) => k));
        const values = Float64Array.from(rows.map(([, v]) => v));
        const ref = naiveAgg(Array.from(keys), values, kind, (k) => (k === 0 ? 0 : k));
        for (const ops of [wasm, colliding, twin] as FlintOps[]) {
          const r = ops.hashAggI64(keys, values, kind);
          expect(sameFloats(r.keys, ref.keys.map((k) => (k === 0 ? 0 : k)))).toBe(true);
          expect(sameFloats(r.values, ref.values)).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('hash aggregation, byte keys', () => {
  const key = fc.oneof(
    fc.uint8Array({ maxLength: 20 }), // arbitrary bytes: invalid UTF-8 included
    fc.constantFrom(new Uint8Array(0), new Uint8Array([0]), new Uint8Array([0, 0]), new Uint8Array([0xff])),
    fc.string({ unit: 'grapheme', maxLength: 6 }).map((s) => new TextEncoder().encode(s)),
    fc.constantFrom('a', 'abcdefgh', 'abcdefghi', 'é', '日本語').map((s) => new TextEncoder().encode(s)),
  );
  test('matches the twin and the reference', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, specialDouble), { maxLength: 50 }), fc.constantFrom(...KINDS), (rows, kind) => {
        const keys = packed(rows.map(([k]) => k));
        const values = Float64Array.from(rows.map(([, v]) => v));
        const ref = naiveAgg(rows.map(([k]) => Array.from(k).join(',')), values, kind, (k) => k);
        for (const ops of [wasm, colliding, twin] as FlintOps[]) {
          const r = ops.hashAggBytes(keys, values, kind);
          expect(unpackBytes(r.keys)).toEqual(ref.keys);
          expect(sameFloats(r.values, ref.values)).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  test('strings, including non-ASCII', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 4 }), { maxLength: 40 }), (keys) => {
        const values = Float64Array.from(keys, (_, i) => i);
        const ref = naiveAgg(keys, values, 'sum', (k) => k);
        for (const ops of [wasm, colliding, twin] as FlintOps[]) {
          const r = ops.hashAggStrings(keys, values, 'sum');
          expect(r.keys).toEqual(ref.keys);
          expect(sameFloats(r.values, ref.values)).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });

  test('keys longer than a page keep first-occurrence order', () => {
    const big = (n: number, fill: number) => new Uint8Array(n).fill(fill);
    const rows = [big(1.5 * 2 ** 20, 1), new Uint8Array([1]), big(3 * 2 ** 20, 2), big(1.5 * 2 ** 20, 1), new Uint8Array([2]), big(3 * 2 ** 20, 2), big(2 ** 20, 3)];
    rows[3]![100] = 9; // same length as rows[0], different content
    const keys = packed(rows);
    const values = Float64Array.from(rows, (_, i) => i + 1);
    for (const ops of [wasm, colliding, twin] as FlintOps[]) {
      const r = ops.hashAggBytes(keys, values, 'sum');
      expect(Array.from(r.values)).toEqual([1, 2, 3 + 6, 4, 5, 7]);
      expect(r.keys.offsets[1]).toBe(1.5 * 2 ** 20);
      expect(r.keys.bytes[r.keys.offsets[3]! + 100]).toBe(9);
    }
  });

  test('growth across many pages and slot-array doublings', () => {
    const n = 120_000;
    const words = Array.from({ length: n }, (_, i) => `key-${(i * 7) % 90_000}-${'x'.repeat(i % 17)}`);
    const values = Float64Array.from({ length: n }, (_, i) => i % 5);
    const a = wasm.hashAggStrings(words, values, 'mean');
    const b = twin.hashAggStrings(words, values, 'mean');
    expect(a.keys.length).toBe(b.keys.length);
    expect(a.keys.every((k, i) => k === b.keys[i])).toBe(true);
    expect(sameFloats(a.values, b.values)).toBe(true);
    expect(sameBytes(a.batch, b.batch)).toBe(true);
    const agg = wasm.createAggregator('bytes', 'count');
    const enc = new TextEncoder();
    agg.addBytes(packed(words.map((w) => enc.encode(w))), values);
    expect(wasm.exports.map_pages((agg as unknown as { m: number }).m)).toBeGreaterThan(3);
    expect(agg.size).toBe(b.keys.length);
    agg.release();
    wasm.resetTask();
  });
});

describe('aggregators and batches', () => {
  test('feeding in batches and merging partial batches equals one pass', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: -100, max: 100 })), { maxLength: 80 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(...KINDS),
        (rows, parts, kind) => {
          const keys = BigInt64Array.from(rows, ([k]) => BigInt(k));
          const values = Float64Array.from(rows, ([, v]) => v);
          for (const ops of [wasm, twin] as FlintOps[]) {
            const whole = ops.hashAggI64(keys, values, kind);
            const size = Math.ceil(rows.length / parts) || 1;
            const agg = ops.createAggregator('i64', kind);
            const batches: Uint8Array[] = [];
            for (let i = 0; i < rows.length; i += size) {
              agg.addNumeric(keys.subarray(i, i + size), values.subarray(i, i + size));
              batches.push(ops.hashAggI64(keys.subarray(i, i + size), values.subarray(i, i + size), kind).batch);
            }
            expect(agg.finish()).toEqual(whole.batch);
            if (batches.length > 0) {
              // Integer values: partial sums are exact, so merged state equals the one-pass state.
              const merged = decodeAggBatch(ops.mergeAggBatches(batches));
              const one = decodeAggBatch(whole.batch);
              expect(Array.from(merged.keys as BigInt64Array)).toEqual(Array.from(one.keys as BigInt64Array));
              expect(sameFloats(merged.state, one.state)).toBe(true);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  test('merging byte-key batches matches the twin', () => {
    const enc = new TextEncoder();
    const words = ['a', 'b', 'a', '', 'ccccccccccccc', 'b', 'é'].map((w) => enc.encode(w));
    const keys = packed(words);
    const values = Float64Array.from(words, (_, i) => i);
    const parts = [wasm.hashAggBytes(keys, values, 'stats').batch, twin.hashAggBytes(keys, values, 'min').batch];
    expect(() => wasm.mergeAggBatches(parts)).toThrow(FlintError);
    const same = [wasm.hashAggBytes(keys, values, 'stats').batch, twin.hashAggBytes(keys, values, 'stats').batch];
    expect(wasm.mergeAggBatches(same)).toEqual(twin.mergeAggBatches(same));
  });

  test('wrong inputs are FlintErrors', () => {
    for (const ops of [wasm, twin] as FlintOps[]) {
      expect(() => ops.hashAggI64(new BigInt64Array(2), new Float64Array(3), 'sum')).toThrow(FlintError);
      expect(() => ops.hashAggI64(new BigInt64Array(2), new Float64Array(2), 'median' as AggKind)).toThrow(FlintError);
      const agg = ops.createAggregator('i64', 'sum');
      expect(() => agg.addNumeric(new Float64Array(1), new Float64Array(1))).toThrow(FlintError);
      agg.release();
    }
  });

  test('an aggregator does not survive resetTask', () => {
    const agg = wasm.createAggregator('f64', 'sum');
    agg.addNumeric(new Float64Array([1]), new Float64Array([1]));
    wasm.resetTask();
    expect(() => agg.finish()).toThrow(/reset/);
  });
});

describe('memory', () => {
  test('1,000 tasks in one instance keep linear memory bounded', async () => {
    const ops = await loadWasmOps();
    const keys = BigInt64Array.from({ length: 20_000 }, (_, i) => BigInt(i % 3000));
    const values = new Float64Array(20_000).fill(1);
    const words = new TextEncoder().encode('the quick brown fox jumps over the lazy dog '.repeat(200));
    const task = (i: number) => {
      // Some work through a long-lived aggregator (the engine's pattern), some one-shot calls.
      const agg = ops.createAggregator('i64', KINDS[i % KINDS.length]!);
      agg.addNumeric(keys, values);
      agg.addNumeric(keys.subarray(0, 1000 + i), values.subarray(0, 1000 + i));
      agg.finish();
      ops.sortNumbers(keys.subarray(0, 2000 + i));
      ops.wordCount(words);
      ops.resetTask();
    };
    for (let i = 0; i < 10; i++) task(i);
    const after10 = ops.memoryBytes();
    for (let i = 10; i < 1000; i++) task(i);
    expect(ops.memoryBytes()).toBe(after10);
    expect(ops.heapUsed()).toBe(0);
  });

  test('one-shot operations while an aggregator is open free their own pages', async () => {
    const ops = await loadWasmOps();
    const agg = ops.createAggregator('i64', 'sum');
    agg.addNumeric(BigInt64Array.from([1n, 2n]), Float64Array.from([1, 2]));
    const text = new TextEncoder().encode('a b c a');
    const keys = Float64Array.from({ length: 5000 }, (_, i) => (i * 31) % 977);
    const oneRound = () => {
      ops.sortNumbers(keys);
      ops.sortStrings(['b', 'a']);
      ops.wordCount(text);
      ops.words(text);
      ops.hashAggI64(keys, keys, 'max');
    };
    oneRound();
    const used = ops.heapUsed();
    const pages = ops.livePages();
    for (let i = 0; i < 50; i++) oneRound();
    expect(ops.heapUsed()).toBe(used);
    expect(ops.livePages()).toBe(pages);
    expect(Array.from(decodeAggBatch(agg.finish()).state)).toEqual([1, 2]);
    expect(ops.livePages()).toBe(0);
  });

  test('memory.grow failure is OUT_OF_MEMORY and the instance stays usable', async () => {
    const ops = await loadWasmOps({ memoryLimit: 8 * 2 ** 20 });
    const keys = BigInt64Array.from({ length: 400_000 }, (_, i) => BigInt(i));
    const values = new Float64Array(keys.length);
    let err: unknown;
    try {
      ops.hashAggI64(keys, values, 'sum');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FlintError);
    expect((err as FlintError).code).toBe('OUT_OF_MEMORY');
    expect(ops.hashAggI64(keys.subarray(0, 1000), values.subarray(0, 1000), 'count').keys.length).toBe(1000);
  });
});
