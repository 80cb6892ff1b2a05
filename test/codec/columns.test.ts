import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { decodeColumnFields, decodeColumns, encodeColumns, encodeNumberColumns, encodePairColumns, isColumnBlock } from '../../host/codec/columns.js';
import { decodeRecords, decodeRecordsConcat, encodeRecords } from '../../host/codec/records.js';
import { BlockBuilder } from '../../host/codec/block-builder.js';
import { frame, framesIn } from '../../host/memory/frames.js';

/** Equality that tells -0 from 0 and NaN from everything but NaN. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number') return Object.is(a, b);
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a !== null && typeof a === 'object') {
    if (b === null || typeof b !== 'object' || Array.isArray(b)) return false;
    const ka = Object.keys(a);
    return same(ka, Object.keys(b)) && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

const number = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 53, 0.5),
);
const string = fc.oneof(fc.string(), fc.string({ unit: 'grapheme-ascii' }), fc.constantFrom('', 'é', '😀', '\uD800', 'a\uDC00', 'x'.repeat(300)));
const field = fc.oneof(number, string);
/** Records of the column shapes, and a few that break them. */
const record = fc.oneof(
  { weight: 4, arbitrary: number },
  { weight: 4, arbitrary: string },
  { weight: 6, arbitrary: fc.tuple(field, field) },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, true, 1n, [1], [1, 2, 3], { a: 1 }, [null, 1], [1, undefined]) },
);
/** A partition's batches: runs of one shape that switch shape at random, now and then broken. */
const shapedBatch = fc
  .tuple(fc.constantFrom<'n' | 's' | 'nn' | 'sn' | 'ns' | 'ss'>('n', 's', 'nn', 'sn', 'ns', 'ss'), fc.integer({ min: 0, max: 300 }), fc.array(record, { maxLength: 2 }), fc.nat())
  .chain(([shape, len, strays, at]) => {
    const one = (k: string) => (k === 'n' ? number : fc.string({ unit: 'grapheme-ascii' }));
    const r = shape.length === 1 ? one(shape) : fc.tuple(one(shape[0]!), one(shape[1]!));
    return fc.array(r as fc.Arbitrary<unknown>, { minLength: len, maxLength: len }).map((xs) => {
      const out = [...xs];
      if (strays.length > 0) out.splice(at % (out.length + 1), 0, ...strays);
      return out;
    });
  });

const msgpack = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: true, int64AsType: 'bigint', structuredClone: false });

describe('column blocks', () => {
  it('round-trip exactly what they take, and take only uniform numbers, ASCII strings and pairs of those', () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(record, { maxLength: 50 }), shapedBatch), (records) => {
        const block = encodeColumns(records);
        if (block) {
          expect(isColumnBlock(block)).toBe(true);
          expect(same(decodeColumns(block), records)).toBe(true);
        }
        // Whatever encodeRecords picks, decodeRecords gives back the records (columns or msgpack).
        expect(same(decodeRecords(encodeRecords(records)), records)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('are chosen for uniform batches and never for mixed ones', () => {
    expect(encodeColumns([1, 2.5, -0, NaN])).not.toBeNull();
    expect(encodeColumns(['a', 'bc', ''])).not.toBeNull();
    expect(encodeColumns([['a', 1], ['b', 2]])).not.toBeNull();
    expect(encodeColumns([[1, 'x'], [2, 'y']])).not.toBeNull();
    expect(encodeColumns([[1.5, 2], [3, 4]])).not.toBeNull();
    expect(encodeColumns([])).toBeNull();
    expect(encodeColumns([1, 'a'])).toBeNull();
    expect(encodeColumns(['a', 'é'])).toBeNull();
    expect(encodeColumns(['\uD800'])).toBeNull();
    expect(encodeColumns([['a', 1], ['b', 2, 3]])).toBeNull();
    expect(encodeColumns([['a', 1], ['b', null]])).toBeNull();
    expect(encodeColumns([[1, 1], 1])).toBeNull();
    expect(encodeColumns([1n])).toBeNull();
    // Small integers take 4 bytes a row; -0 keeps the column f64.
    expect(encodeColumns([1, 2, 3, 4])!.byteLength).toBe(8 + 16);
    expect(encodeColumns([1, 2, 3, -0])!.byteLength).toBe(8 + 32);
    // String lengths take 1, 2 or 4 bytes as the longest needs.
    for (const long of ['', 'y'.repeat(255), 'y'.repeat(256), 'y'.repeat(70_000)]) {
      const records = [['a', 1], [long, 2], ['', -0]];
      expect(same(decodeColumns(encodeColumns(records)!), records)).toBe(true);
    }
  });

  it('never start like a MessagePack array, so blocks of both kinds mix in one stream', () => {
    fc.assert(
      fc.property(fc.array(fc.array(record, { maxLength: 20 }), { maxLength: 5 }), (batches) => {
        for (const b of batches) expect(isColumnBlock(new Uint8Array(msgpack.pack(b)))).toBe(false);
      }),
    );
  });

  it('decode from frames at any alignment, mixed with msgpack frames, in order', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(shapedBatch, fc.array(record, { maxLength: 30 })), { maxLength: 8 }), (batches) => {
        const frames = batches.map((b) => frame(encodeRecords(b)));
        const size = frames.reduce((n, f) => n + f.byteLength, 0);
        // Shifted by 3 bytes: the views must not assume the frame's alignment.
        const shifted = new Uint8Array(size + 3).subarray(3);
        let o = 0;
        for (const f of frames) {
          shifted.set(f, o);
          o += f.byteLength;
        }
        const back = [...framesIn(shifted)].map(decodeRecords);
        expect(same(back, batches.map((b) => [...b]))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('encodes two columns of keys and values as the block of their pairs, or not at all', () => {
    fc.assert(
      fc.property(shapedBatch, fc.array(fc.oneof(field, record), { maxLength: 2 }), (batch, strays) => {
        // Pairs of any shape (stray records become pairs with a broken half), keys and values apart.
        const pairs = [...batch, ...strays].map((r) => (Array.isArray(r) && r.length === 2 ? r : [r, r]));
        const keys = pairs.map((p) => p[0]);
        const values = pairs.map((p) => p[1]);
        const direct = encodePairColumns(keys, values);
        const viaPairs = encodeColumns(pairs);
        expect(direct === null ? null : [...direct]).toEqual(viaPairs === null ? null : [...viaPairs]);
        if (direct) expect(decodeColumns(direct)).toEqual(pairs);
      }),
      { numRuns: 300 },
    );
  });
});


describe('number columns written without records', () => {
  it('plain and pair blocks are the bytes encodeRecords gives; a SAME block decodes as [x, x] pairs', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(number, number), { minLength: 1, maxLength: 80 }), (rows) => {
        const keys = Float64Array.from(rows, (r) => r[0]);
        const values = Float64Array.from(rows, (r) => r[1]);
        const n = rows.length;
        expect(encodeNumberColumns(n, keys)).toEqual(encodeRecords(rows.map((r) => r[0])));
        expect(encodeNumberColumns(n, keys, values)).toEqual(encodeRecords(rows.map((r) => [r[0], r[1]])));
        const sameBlock = encodeNumberColumns(n, keys, 'same');
        const fields = decodeColumnFields(sameBlock);
        expect(fields.same).toBe(true);
        expect(same(decodeRecords(sameBlock), rows.map((r) => [r[0], r[0]]))).toBe(true);
        // One column: a pair block of them would hold two.
        expect(sameBlock.byteLength).toBeLessThan(encodeNumberColumns(n, keys, keys).byteLength);
      }),
    );
  });

  it('decodeRecordsConcat is the concatenation of every block decoded', () => {
    const block = fc.oneof(
      fc.constant(null),
      fc.array(record, { maxLength: 30 }).map((rs) => encodeRecords(rs)),
      fc.array(number, { minLength: 1, maxLength: 30 }).map((xs) => encodeNumberColumns(xs.length, Float64Array.from(xs), 'same')),
    );
    fc.assert(
      fc.property(fc.array(block, { maxLength: 6 }), (blocks) => {
        const expected = blocks.flatMap((b) => (b ? decodeRecords(b) : []));
        expect(same(decodeRecordsConcat(blocks), expected)).toBe(true);
      }),
    );
  });
});

/** Where two byte strings first differ (their shorter length if one is the other's start), or -1. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

describe('a block gathered batch by batch', () => {
  const gathered = (batches: unknown[][]) => {
    const b = new BlockBuilder();
    for (const batch of batches) b.add(batch);
    return { rows: b.rows, bytes: b.finish() };
  };

  it('is the block encodeRecords gives for all the records, whatever shapes the batches switch between', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(shapedBatch, fc.array(record, { maxLength: 30 })), { maxLength: 8 }), (batches) => {
        const all = batches.flat();
        const { rows, bytes } = gathered(batches);
        expect(rows).toBe(all.length);
        expect(bytes).toEqual(encodeRecords(all));
      }),
    );
  });

  it('across its chunks: numbers that stop being int32, pairs, and a record of another shape after many rows', () => {
    const ints = Array.from({ length: 70_000 }, (_, i) => i - 35_000);
    const doubles = [...ints.slice(0, 66_000), 0.5, ...ints.slice(66_001)];
    const pairs = ints.map((x, i) => [x, i % 3 === 0 ? -0 : i * 1.5]);
    for (const records of [ints, doubles, pairs, [...ints, 'a string'], [...pairs, [1, 'x']], [...doubles, [1, 2]]]) {
      const batches: unknown[][] = [];
      for (let i = 0; i < records.length; i += 4096) batches.push(records.slice(i, i + 4096));
      expect(firstDifference(gathered(batches).bytes, encodeRecords(records))).toBe(-1);
    }
    // Int32 numbers travel in 4 bytes a row, and one double makes the column f64.
    expect(gathered([ints]).bytes.byteLength).toBe(8 + 4 * ints.length);
    expect(gathered([doubles]).bytes.byteLength).toBe(8 + 8 * doubles.length);
  });
});
