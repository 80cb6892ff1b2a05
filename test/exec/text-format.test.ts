/** The line saveAsTextFile writes for a record: readable, and nothing lost. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatLine } from '../../host/exec/text-format.js';
import { FlintError } from '../../host/errors.js';

/** Equality that tells apart -0, NaN, bigint and number, typed array kinds, Date, Map, Set and key order. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a === 'number') return Object.is(a, b);
  if (typeof a !== 'object' || a === null || b === null) return a === b;
  const kind = (x: object) => (Array.isArray(x) ? 'Array' : Object.getPrototypeOf(x) === null ? 'Object' : (x.constructor as { name: string }).name);
  if (kind(a) !== kind(b as object)) return false;
  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime());
  if (a instanceof Map || a instanceof Set || ArrayBuffer.isView(a)) {
    return same(Array.from(a as Iterable<unknown>), Array.from(b as Iterable<unknown>));
  }
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => same(x, (b as unknown[])[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b as object);
  return same(ka, kb) && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const leaf = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.double(),
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 1, '1', 1n, 'undefined', 'null', 'NaN', '-0', 'true'),
  fc.bigInt(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.date({ noInvalidDate: false }),
  fc.uint8Array({ maxLength: 4 }),
  fc.int8Array({ maxLength: 4 }),
  fc.float64Array({ maxLength: 3 }),
  fc.bigInt64Array({ maxLength: 3 }),
);
const { record } = fc.letrec<{ record: unknown }>((tie) => ({
  record: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('record'), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie('record'), { maxKeys: 4 }),
    fc.array(fc.tuple(tie('record'), tie('record')), { maxLength: 3 }).map((entries) => new Map(entries)),
    fc.array(tie('record'), { maxLength: 4 }).map((xs) => new Set(xs)),
  ),
}));
// Records made of JSON values only, -0 included (JSON.parse reads -0 back).
const jsonValue = fc.jsonValue().map((v) => v as unknown);
const jsonContainer = fc.oneof(fc.array(fc.oneof(jsonValue, fc.constant(-0))), fc.dictionary(fc.string({ unit: 'binary' }), jsonValue));

describe('formatLine', () => {
  it('writes each record type readably', () => {
    const cases: Array<[unknown, string]> = [
      ['plain text', 'plain text'],
      ['', ''],
      [42, '42'],
      [-0, '-0'],
      [2.5e-7, '2.5e-7'],
      [NaN, 'NaN'],
      [-Infinity, '-Infinity'],
      [2n ** 70n, '1180591620717411303424'],
      [true, 'true'],
      [null, 'null'],
      [undefined, 'undefined'],
      [new Uint8Array([104, 105, 0xe2, 0x82, 0xac]), 'hi€'],
      [new Date(Date.UTC(2024, 1, 29, 12, 30)), '2024-02-29T12:30:00.000Z'],
      [new Date(NaN), 'Invalid Date'],
      [['word', 3], '["word",3]'],
      [{ a: [true, null], 'b c': 'x"y' }, '{"a":[true,null],"b c":"x\\"y"}'],
      [new Map<unknown, unknown>([['a', 1], [2, [3n]]]), 'Map {"a" => 1, 2 => [3n]}'],
      [new Set([1, 'x', new Date(0)]), 'Set {1, "x", 1970-01-01T00:00:00.000Z}'],
      [new Map(), 'Map {}'],
      [[undefined, -0, NaN, 1n, 'undefined'], '[undefined,-0,NaN,1n,"undefined"]'],
      [{ k: undefined }, '{"k":undefined}'],
      [[new Uint8Array([1, 2]), new Float64Array([0.5, -0])], '[Uint8Array [1,2],Float64Array [0.5,-0]]'],
      [new BigInt64Array([-5n]), 'BigInt64Array [-5n]'],
      [[new Map([['k', new Set([1])]])], '[Map {"k" => Set {1}}]'],
      [['lone \uD800', 'line\nbreak'], '["lone \\ud800","line\\nbreak"]'],
    ];
    for (const [value, line] of cases) expect(formatLine(value)).toBe(line);
  });

  it('JSON values read back with JSON.parse, top-level numbers and bigints with Number and BigInt', () => {
    fc.assert(
      fc.property(jsonContainer, (r) => {
        expect(same(JSON.parse(formatLine(r)), r)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.double(), fc.bigInt(), fc.string({ unit: 'binary' }), (x, b, s) => {
        expect(Object.is(Number(formatLine(x)), x)).toBe(true);
        expect(BigInt(formatLine(b))).toBe(b);
        expect(formatLine(s)).toBe(s);
      }),
    );
  });

  it('different values inside a record never give the same line', () => {
    fc.assert(
      fc.property(record, record, (a, b) => {
        expect(formatLine([a]) === formatLine([b])).toBe(same(a, b));
        expect(formatLine([a])).toBe(formatLine([structuredClone(a)]));
      }),
      { numRuns: 2000 },
    );
    const lookalikes: unknown[] = [1, -0, 0, 1n, '1', [1], new Set([1]), new Int8Array([1]), new Uint8Array([1]), { 0: 1 }, new Map([[0, 1]]),
      undefined, 'undefined', null, 'null', NaN, 'NaN', new Date(0), '1970-01-01T00:00:00.000Z', true, 'true'];
    const lines = lookalikes.map((x) => formatLine([x]));
    expect(new Set(lines).size).toBe(lookalikes.length);
  });

  it('refuses what is not a record, naming it', () => {
    class Point {
      x = 1;
    }
    for (const bad of [new Point(), [1, { f: () => 1 }], Symbol('s')]) {
      let err: unknown;
      try {
        formatLine(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FlintError);
      expect((err as FlintError).code).toBe('UNSUPPORTED_RECORD');
    }
  });
});
