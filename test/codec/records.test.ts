import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RecordBlockWriter, decodeRecords, decodeValue, encodeEnvValue, encodeRecords, encodeValue, encodeValueShared } from '../../host/codec/records.js';
import { FlintError } from '../../host/errors.js';

/** Deep equality that distinguishes -0, NaN, bigint vs number, Uint8Array vs Buffer, and key order. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a === 'number') return Object.is(a, b);
  if (typeof a !== 'object' || a === null || b === null) return a === b;
  // A null-prototype object is a plain object; it decodes with Object.prototype.
  const plain = (p: unknown) => p === Object.prototype || p === null;
  const pa = Object.getPrototypeOf(a);
  const pb = Object.getPrototypeOf(b);
  if (pa !== pb && !(plain(pa) && plain(pb))) return false;
  if (Array.isArray(a)) {
    const y = b as unknown[];
    return a.length === y.length && a.every((x, i) => i in y === i in a && same(x, y[i]));
  }
  if (ArrayBuffer.isView(a)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array((b as ArrayBufferView).buffer, (b as ArrayBufferView).byteOffset, (b as ArrayBufferView).byteLength);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime());
  if (a instanceof Map || a instanceof Set) return same([...a], [...(b as Map<unknown, unknown>)]);
  const ka = Object.keys(a);
  const kb = Object.keys(b as object);
  return same(ka, kb) && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const samples: unknown[] = [
  0, -0, 1, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 60, 2 ** 53 + 2, -(2 ** 53) - 2, 2 ** 32, 2 ** 40 + 1, Number.MAX_VALUE, Number.MIN_VALUE,
  5n, 0n, -5n, 2n ** 63n, -(2n ** 63n), 2n ** 64n, 2n ** 200n + 7n, -(2n ** 130n),
  '', 'hello', 'é', '😀', 'a\uD800b', '\uDC00', 'x'.repeat(70000), '\uD800'.repeat(3000),
  true, false, null, undefined,
  [], [undefined, null, -0], { a: undefined, b: [undefined] }, { z: 1, a: 2, m: 3 }, { '2': 'x', '1': 'y', b: 1 },
  new Uint8Array([]), new Uint8Array([0, 1, 255]), new Float64Array([-0, NaN]), new Int32Array([-1]), new BigInt64Array([-5n]),
  new Date(0), new Date(1700000000123), new Date(-1e12),
  new Map<unknown, unknown>([['a', 1], [2, ['b']], [-0, 'negzero'], ['\uD800', { x: -0 }]]), new Set([1, 'two', '\uDBFF', [3]]),
  ['word', 1], [['k', 2], { v: [1n, new Uint8Array([9])] }],
  Object.assign(Object.create(null), { nullProto: true }),
];

describe('records', () => {
  it('round-trips every supported kind of value exactly', () => {
    const decoded = decodeRecords(encodeRecords(samples));
    expect(decoded.length).toBe(samples.length);
    samples.forEach((s, i) => expect(same(decoded[i], s), `sample ${i}`).toBe(true));
    samples.forEach((s, i) => expect(same(decodeValue(encodeValue(s)), s), `sample ${i}`).toBe(true));
  });

  it('keeps large integers as numbers and bigints as bigints', () => {
    const [a, b, c, d] = decodeRecords(encodeRecords([2 ** 60, 2 ** 53 + 2, 5n, 2n ** 70n]));
    expect(typeof a).toBe('number');
    expect(a).toBe(2 ** 60);
    expect(b).toBe(2 ** 53 + 2);
    expect(c).toBe(5n);
    expect(d).toBe(2n ** 70n);
  });

  it('decodes Uint8Array as a plain Uint8Array, also from a Buffer block and a Buffer record', () => {
    const bytes = encodeRecords([new Uint8Array([1, 2]), Buffer.from([3, 4])]);
    expect(bytes.constructor).toBe(Uint8Array);
    for (const src of [bytes, Buffer.from(bytes)]) {
      const [x, y] = decodeRecords(src) as Uint8Array[];
      expect(x!.constructor).toBe(Uint8Array);
      expect(y!.constructor).toBe(Uint8Array);
      expect([...x!, ...y!]).toEqual([1, 2, 3, 4]);
    }
  });

  it('blocks own their ArrayBuffer (transferable)', () => {
    const b = encodeRecords([1, 2, 3]);
    expect(b.byteOffset).toBe(0);
    expect(b.buffer.byteLength).toBe(b.byteLength);
  });

  it('rejects unsupported records naming the type and where', () => {
    class Point {
      x = 1;
    }
    const cases: Array<[unknown[], RegExp]> = [
      [[1, () => 2], /record 1: the record is a function/],
      [[['k', Symbol('s')]], /record 0: the value at \[1\] is a symbol/],
      [[{ a: { b: [new Point()] } }], /the value at \.a\.b\[0\] is a Point instance/],
      [[new WeakMap()], /is a WeakMap instance/],
      [[new Map([['k', () => 1]])], /<map value 0> is a function/],
    ];
    for (const [records, re] of cases) {
      let err: FlintError | undefined;
      try {
        encodeRecords(records);
      } catch (e) {
        err = e as FlintError;
      }
      expect(err?.code).toBe('UNSUPPORTED_RECORD');
      expect(err?.message).toMatch(re);
    }
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(() => encodeRecords([cyclic])).toThrow(/cyclic/);
    expect(() => encodeValue(Symbol('x'))).toThrow(FlintError);
    expect(() => new RecordBlockWriter().add(() => 1)).toThrow(/record 0: the record is a function/);
  });

  it('RecordBlockWriter produces the same records as encodeRecords', () => {
    for (const batchSize of [1, 3, 512]) {
      const w = new RecordBlockWriter({ batchSize });
      for (const s of samples) w.add(s);
      expect(w.length).toBe(samples.length);
      expect(w.byteLength).toBeGreaterThan(samples.length);
      const size = w.byteLength;
      const block = w.finish();
      expect(block.byteLength).toBe(size);
      const out = decodeRecords(block);
      expect(out.length).toBe(samples.length);
      out.forEach((r, i) => expect(same(r, samples[i])).toBe(true));
    }
    const empty = new RecordBlockWriter();
    expect(decodeRecords(empty.finish())).toEqual([]);
    expect(decodeRecords(encodeRecords([]))).toEqual([]);
  });

  it('rejects corrupt blocks with a FlintError', () => {
    expect(() => decodeRecords(new Uint8Array([0xdd, 0, 0, 0, 9, 1]))).toThrow(FlintError);
    expect(() => decodeRecords(encodeValue('not a block'))).toThrow(/not an array/);
  });

  const key = fc.string().filter((k) => k !== '__proto__');
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.double(),
      fc.integer(),
      fc.constantFrom(-0, 2 ** 60, 2 ** 53 + 2, NaN),
      fc.bigInt(),
      fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }),
      fc.string({ unit: 'binary' }),
      fc.string({ unit: fc.integer({ min: 0xd7f0, max: 0xe010 }).map((c) => String.fromCharCode(c)) }),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.uint8Array(),
      fc.array(tie('value'), { maxLength: 5 }),
      fc.dictionary(key, tie('value'), { maxKeys: 5 }),
      fc.date({ noInvalidDate: true }),
      fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map((e) => new Map(e)),
      fc.array(tie('value'), { maxLength: 3 }).map((e) => new Set(e)),
    ),
  }));

  it('round-trips arbitrary supported values (property)', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 20 }), (records) => {
        const out = decodeRecords(encodeRecords(records));
        expect(out.length).toBe(records.length);
        records.forEach((r, i) => expect(same(out[i], r)).toBe(true));
        const w = new RecordBlockWriter({ batchSize: 4 });
        for (const r of records) w.add(r);
        const out2 = decodeRecords(w.finish());
        records.forEach((r, i) => expect(same(out2[i], r)).toBe(true));
      }),
      { numRuns: 300 },
    );
  });
});

describe('env values', () => {
  it('round-trip RegExps with source, flags and lastIndex, which records still refuse', () => {
    const re = /a.c/gimsuy;
    re.lastIndex = 7;
    const back = decodeValue(encodeEnvValue({ list: [re, new Map([['k', /x/]])] })) as { list: [RegExp, Map<string, RegExp>] };
    expect(back.list[0]).toBeInstanceOf(RegExp);
    expect([back.list[0].source, back.list[0].flags, back.list[0].lastIndex]).toEqual(['a.c', 'gimsuy', 7]);
    expect(back.list[1].get('k')).toEqual(/x/);
    for (const v of samples) expect(same(decodeValue(encodeEnvValue(v)), v)).toBe(true);
    expect(() => encodeRecords([/x/])).toThrow(/a RegExp instance/);
  });
});

describe('shared encodings', () => {
  it('keep their bytes while later values are encoded, small and large', () => {
    // Larger than the codec's output buffer, so that it is replaced while earlier views live.
    const values: unknown[] = [{ t: 'task', n: 1 }, 'x'.repeat(5000), { big: new Uint8Array(64 << 10).fill(7) }, [1, -0, 2n]];
    const kept = Array.from({ length: 40 }, (_, i) => {
      const v = values[i % values.length];
      return { v, bytes: encodeValueShared(v), copy: encodeValue(v) };
    });
    for (const { bytes, copy } of kept) {
      expect(bytes.constructor).toBe(Uint8Array);
      expect(Buffer.compare(bytes, copy)).toBe(0);
    }
    expect(decodeValue(kept[3]!.bytes)).toEqual(values[3]);
  });
});
