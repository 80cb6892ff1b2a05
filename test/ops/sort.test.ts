import { describe, expect, test, beforeAll } from 'vitest';
import fc from 'fast-check';
import { createTwinOps } from '../../host/ops/twins.js';
import { f64Prefix, bytesPrefix } from '../../host/ops/prefix.js';
import type { FlintOps, PackedBytes, SortableNumbers } from '../../host/ops/types.js';
import type { WasmOps } from '../../host/ops/wasm-ops.js';
import { loadWasmOps, packed } from './helpers.js';

let wasm: WasmOps;
const twin = createTwinOps();
const impls = () => [wasm, twin] as FlintOps[];

beforeAll(async () => {
  wasm = await loadWasmOps();
});

/** Reference: a stable comparator sort of indices; equal keys keep index order both ways. */
function naiveArgsort<T>(keys: ArrayLike<T>, cmp: (a: T, b: T) => number, descending = false): number[] {
  const idx = Array.from({ length: keys.length }, (_, i) => i);
  return idx.sort((a, b) => (descending ? -1 : 1) * cmp(keys[a]!, keys[b]!) || a - b);
}

// NaN after everything, -0 equal to +0.
const cmpNumber = (a: number, b: number) => (a !== a ? (b !== b ? 0 : 1) : b !== b ? -1 : a < b ? -1 : a > b ? 1 : 0);
const cmpBig = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
const cmpBytes = (a: Uint8Array, b: Uint8Array) => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
};

const specialDouble = fc.oneof(fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 5e-324, -5e-324, 1, -1), fc.double(), fc.integer({ min: -3, max: 3 }));

function check(keys: SortableNumbers, cmp: (a: never, b: never) => number): void {
  for (const descending of [false, true]) {
    const ref = naiveArgsort(keys as unknown as ArrayLike<never>, cmp, descending);
    for (const ops of impls()) expect(Array.from(ops.sortNumbers(keys, { descending }))).toEqual(ref);
  }
}

describe('prefix encodings', () => {
  test('f64 prefixes preserve order', () => {
    fc.assert(
      fc.property(specialDouble, specialDouble, (a, b) => {
        const [ah, al] = f64Prefix(a);
        const [bh, bl] = f64Prefix(b);
        const c = ah - bh || al - bl;
        expect(Math.sign(c)).toBe(Math.sign(cmpNumber(a, b)));
      }),
      { numRuns: 500 },
    );
  });
  test('byte prefixes never contradict byte order', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), fc.uint8Array({ maxLength: 12 }), (a, b) => {
        const [ah, al] = bytesPrefix(a, 0, a.length);
        const [bh, bl] = bytesPrefix(b, 0, b.length);
        const c = ah - bh || al - bl;
        if (c !== 0) expect(Math.sign(c)).toBe(Math.sign(cmpBytes(a, b)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('radix sort of numbers', () => {
  test('f64 keys: -0 = +0, NaN last, ±Infinity', () => {
    fc.assert(fc.property(fc.array(specialDouble, { maxLength: 80 }), (xs) => check(Float64Array.from(xs), cmpNumber)), { numRuns: 150 });
  });
  test('signed and unsigned 64-bit keys', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 60 }), fc.boolean(), (xs, small) => {
        const ys = small ? xs.map((x) => x % 5n) : xs;
        check(BigInt64Array.from(ys), cmpBig);
        check(BigUint64Array.from(ys, (y) => BigInt.asUintN(64, y)), cmpBig);
      }),
      { numRuns: 120 },
    );
  });
  test('32-bit keys', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 60 }), (xs) => {
        check(Int32Array.from(xs), cmpNumber);
        check(Uint32Array.from(xs), cmpNumber);
      }),
      { numRuns: 120 },
    );
  });
  test('sorted, reverse-sorted, one distinct key, all distinct', () => {
    const n = 20_000;
    const cases = [
      Float64Array.from({ length: n }, (_, i) => i),
      Float64Array.from({ length: n }, (_, i) => n - i),
      new Float64Array(n).fill(7),
      Float64Array.from({ length: n }, (_, i) => ((i * 7919) % n) - n / 2 + 0.5),
    ];
    for (const keys of cases) check(keys, cmpNumber);
    check(BigUint64Array.from({ length: n }, (_, i) => BigInt(i) << 40n), cmpBig);
  });
  test('radixSortPrefixes sorts prefixes as unsigned', () => {
    const p = BigUint64Array.from([3n, 2n ** 64n - 1n, 0n, 3n, 2n ** 63n]);
    for (const ops of impls()) {
      expect(Array.from(ops.radixSortPrefixes(p))).toEqual([2, 0, 3, 4, 1]);
      expect(Array.from(ops.radixSortPrefixes(p, { descending: true }))).toEqual([1, 4, 0, 3, 2]);
      expect(ops.radixSortPrefixes(new BigUint64Array(0)).length).toBe(0);
    }
  });
});

describe('sort of byte strings', () => {
  const enc = new TextEncoder();
  test('strings in code point order, ties by full key past the 8-byte prefix', () => {
    const str = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.string({ unit: fc.constantFrom('a', 'b', 'é', '\u{1F600}', '\uFFFF', '\0'), maxLength: 14 }),
      fc.string({ unit: fc.constantFrom('x', 'y'), maxLength: 4 }).map((s) => 'shared-prefix/' + s),
    );
    fc.assert(
      fc.property(fc.array(str, { maxLength: 60 }), fc.boolean(), (xs, descending) => {
        const ref = naiveArgsort(xs.map((s) => enc.encode(s)), cmpBytes, descending);
        // Code point order, spelled out differently: compare arrays of code points.
        const cp = naiveArgsort(xs.map((s) => Array.from(s, (c) => c.codePointAt(0)!)), (a, b) => {
          for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
          return a.length - b.length;
        }, descending);
        expect(cp).toEqual(ref);
        for (const ops of impls()) expect(Array.from(ops.sortStrings(xs, { descending }))).toEqual(ref);
      }),
      { numRuns: 150 },
    );
  });
  test('raw bytes: empty keys, invalid UTF-8, long shared prefixes', () => {
    const key = fc.oneof(
      fc.uint8Array({ maxLength: 10 }),
      fc.uint8Array({ maxLength: 4 }).map((t) => Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, ...t])),
      fc.constantFrom(new Uint8Array(0), Uint8Array.from([0]), Uint8Array.from([0xff, 0xfe])),
    );
    fc.assert(
      fc.property(fc.array(key, { maxLength: 60 }), fc.boolean(), (xs, descending) => {
        const ref = naiveArgsort(xs, cmpBytes, descending);
        for (const ops of impls()) expect(Array.from(ops.sortBytes(packed(xs), { descending }))).toEqual(ref);
      }),
      { numRuns: 150 },
    );
  });
  test('a long run of equal prefixes goes through the merge sort', () => {
    const xs = Array.from({ length: 5000 }, (_, i) => `same-8b-${(i * 7919) % 1500}`);
    for (const descending of [false, true]) {
      const ref = naiveArgsort(xs.map((s) => enc.encode(s)), cmpBytes, descending);
      for (const ops of impls()) expect(Array.from(ops.sortStrings(xs, { descending }))).toEqual(ref);
    }
  });
  test('a PackedBytes slice whose offsets do not start at 0', () => {
    const all = packed(['zz', 'b', 'a', 'c'].map((s) => enc.encode(s)));
    const slice = { bytes: all.bytes, offsets: all.offsets.subarray(1) };
    for (const ops of impls()) expect(Array.from(ops.sortBytes(slice))).toEqual([1, 0, 2]);
  });
});

/** An f64 column of the operators holding `values`, sorted in place: [sorted?, its first n values]. */
function sortInColumn(ops: FlintOps, values: Float64Array, descending: boolean): [boolean, Float64Array] {
  const col = ops.createF64Column();
  try {
    col.reserve(Math.max(1, values.length), 0);
    col.view().set(values);
    const sorted = col.sort(values.length, { descending });
    return [sorted, col.view().slice(0, values.length)];
  } finally {
    col.release();
  }
}

describe('F64Column.sort: numbers sorted themselves in the operators\' memory', () => {
  test('the values in the stable order, in place, every NaN canonical; false (values untouched) when a -0 is there', () => {
    const canonical = new Uint8Array(Float64Array.of(NaN).buffer).join();
    fc.assert(
      fc.property(fc.array(specialDouble, { maxLength: 300 }), fc.boolean(), fc.boolean(), (xs, descending, noisyNaN) => {
        const values = Float64Array.from(xs);
        // A NaN with other bits than JavaScript's own (a payload, the sign).
        if (noisyNaN && values.length > 0) new DataView(values.buffer).setBigUint64(0, 0xfff8000000000123n, true);
        const before = values.slice();
        const hasMinusZero = Array.from(values).some((x) => Object.is(x, -0));
        const ref = naiveArgsort(values, cmpNumber, descending).map((i) => values[i]!);
        for (const ops of impls()) {
          const [sorted, got] = sortInColumn(ops, before, descending);
          expect(sorted).toBe(!hasMinusZero);
          if (!sorted) {
            expect(new Uint8Array(got.buffer).join()).toEqual(new Uint8Array(before.buffer).join());
            continue;
          }
          expect(Array.from(got)).toEqual(ref);
          for (let i = 0; i < got.length; i++) if (got[i] !== got[i]) expect(new Uint8Array(got.buffer, i * 8, 8).join()).toEqual(canonical);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('a large random array through every radix pass', () => {
    const values = Float64Array.from({ length: 100_000 }, (_, i) => Math.sin(i * 12.9898) * 1e6 * (i % 7 === 0 ? 1e-300 : 1));
    for (const descending of [false, true]) {
      const ref = Array.from(values).sort((a, b) => (descending ? b - a : a - b));
      for (const ops of impls()) {
        const [sorted, got] = sortInColumn(ops, values, descending);
        expect(sorted).toBe(true);
        expect(Array.from(got)).toEqual(ref);
      }
    }
  });
});

describe('F64Column', () => {
  test('keeps its values across growth and other operators growing the memory', () => {
    for (const ops of impls()) {
      const col = ops.createF64Column();
      col.reserve(4, 0);
      col.view().set([3, 1, 2, 0.5]);
      col.reserve(100_000, 4);
      expect(Array.from(col.view().subarray(0, 4))).toEqual([3, 1, 2, 0.5]);
      // Another operator's allocation may move linear memory: the column is read again after it.
      ops.sortNumbers(new Float64Array(300_000).map((_, i) => -i));
      expect(Array.from(col.view().subarray(0, 4))).toEqual([3, 1, 2, 0.5]);
      expect(col.sort(4)).toBe(true);
      expect(Array.from(col.view().subarray(0, 4))).toEqual([0.5, 1, 2, 3]);
      col.release();
    }
  });
});
