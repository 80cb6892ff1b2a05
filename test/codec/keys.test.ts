import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KeyMap, canonicalKeyBytes, hashKey, hashPartition, keysEqual, murmur3 } from '../../host/codec/keys.js';
import { FlintError } from '../../host/errors.js';

/** Keys drawn from a small pool so that equal keys (and -0/0, NaN, 1/1n) meet often. */
const { key } = fc.letrec((tie) => ({
  key: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(0, -0, 1, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 1n, 0n, -1n, 2n ** 80n, true, false, null, undefined),
    fc.constantFrom('', 'a', 'b', 'ab', '\u0000', '\u0000c', '\u0000s', 'é', '😀', '\uD800', '\uFFFD', 's1:a', 'd1;'),
    fc.integer({ min: -3, max: 3 }),
    fc.string({ maxLength: 3 }),
    fc.uint8Array({ maxLength: 3, max: 2 }),
    fc.array(tie('key'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('key'), { maxKeys: 3 }),
  ),
}));

/** A copy built separately, with object keys in another insertion order. */
function rebuild(k: unknown): unknown {
  if (Array.isArray(k)) return k.map(rebuild);
  if (k instanceof Uint8Array) return Uint8Array.from(k);
  if (k !== null && typeof k === 'object') {
    const out: Record<string, unknown> = {};
    for (const name of Object.keys(k).reverse()) out[name] = rebuild((k as Record<string, unknown>)[name]);
    return out;
  }
  if (k === 0) return -0;
  return k;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe('canonicalKeyBytes / hashKey', () => {
  it('is murmur3_x86_32 with seed 42', () => {
    // Reference vectors of MurmurHash3_x86_32.
    const enc = new TextEncoder();
    expect(murmur3(new Uint8Array(0), 0, 0)).toBe(0);
    expect(murmur3(new Uint8Array(0), 0, 1)).toBe(0x514e28b7);
    expect(murmur3(enc.encode('hello'), 5, 0)).toBe(0x248bfa47);
    expect(murmur3(enc.encode('Hello, world!'), 13, 1234)).toBe(0xfaf6cdb3);
    expect(murmur3(enc.encode('The quick brown fox jumps over the lazy dog'), 43, 0x9747b28c)).toBe(0x2fa826cd);
  });

  it('merges -0/0 and all NaNs, keeps 1 and 1n apart', () => {
    expect(hex(canonicalKeyBytes(-0))).toBe(hex(canonicalKeyBytes(0)));
    const otherNaN = new Float64Array(new Uint32Array([1, 0x7ff00000]).buffer)[0]!;
    expect(Number.isNaN(otherNaN)).toBe(true);
    expect(hex(canonicalKeyBytes(otherNaN))).toBe(hex(canonicalKeyBytes(NaN)));
    expect(hashKey(otherNaN)).toBe(hashKey(NaN));
    expect(hex(canonicalKeyBytes(1))).not.toBe(hex(canonicalKeyBytes(1n)));
    expect(keysEqual(1, 1n)).toBe(false);
    expect(hex(canonicalKeyBytes('\uD800'))).not.toBe(hex(canonicalKeyBytes('\uFFFD')));
    expect(hex(canonicalKeyBytes(['a', 'b']))).not.toBe(hex(canonicalKeyBytes(['ab'])));
    expect(hex(canonicalKeyBytes({ b: 1, a: 2 }))).toBe(hex(canonicalKeyBytes({ a: 2, b: 1 })));
    expect(hex(canonicalKeyBytes('abc'))).toBe('06616263ff');
  });

  it('string and number fast paths equal the hash of the canonical bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: fc.integer({ min: 0xd7f0, max: 0xe010 }).map((c) => String.fromCharCode(c)) }), fc.double(), fc.integer()), (k) => {
        const bytes = canonicalKeyBytes(k);
        expect(hashKey(k)).toBe(murmur3(bytes, bytes.length, 42));
      }),
      { numRuns: 1000 },
    );
    // Well-formed strings encode as UTF-8.
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        const bytes = canonicalKeyBytes(s);
        expect(hex(bytes)).toBe('06' + hex(new TextEncoder().encode(s)) + 'ff');
      }),
    );
  });

  it('hashes are non-negative 32-bit integers and partitions are in range', () => {
    fc.assert(
      fc.property(key, fc.integer({ min: 1, max: 1000 }), (k, n) => {
        const h = hashKey(k);
        expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
        const p = hashPartition(k, n);
        expect(p >= 0 && p < n).toBe(true);
      }),
    );
  });

  it('equal-by-value keys give equal bytes and hashes; different keys give different bytes (property)', () => {
    fc.assert(
      fc.property(key, key, (a, b) => {
        const c = rebuild(a);
        expect(keysEqual(a, c)).toBe(true);
        expect(hex(canonicalKeyBytes(c))).toBe(hex(canonicalKeyBytes(a)));
        expect(hashKey(c)).toBe(hashKey(a));
        expect(hex(canonicalKeyBytes(a)) === hex(canonicalKeyBytes(b))).toBe(keysEqual(a, b));
        expect(keysEqual(a, b)).toBe(keysEqual(b, a));
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects unsupported keys', () => {
    for (const bad of [new Date(0), new Map(), new Set(), () => 1, Symbol('s'), new Float64Array(1), [new Date(0)]]) {
      expect(() => canonicalKeyBytes(bad)).toThrow(FlintError);
      expect(() => hashKey(bad)).toThrow(/Unsupported key/);
    }
    expect(() => new KeyMap().set(new Date(0), 1)).toThrow(FlintError);
  });
});

describe('KeyMap', () => {
  it('maps by value, keeps the first key and insertion order', () => {
    const m = new KeyMap<number>();
    m.set(['a', 1], 1).set('x', 2).set(-0, 3).set(NaN, 4).set({ b: 1, a: 2 }, 5).set(new Uint8Array([1]), 6).set(1n, 7).set('\u0000s', 8);
    m.set(['a', 1], 10).set(0, 30).set(0 / 0, 40).set({ a: 2, b: 1 }, 50).set(Uint8Array.of(1), 60);
    expect(m.size).toBe(8);
    expect(m.get(['a', 1])).toBe(10);
    expect(m.get(1)).toBeUndefined();
    expect(m.get(1n)).toBe(7);
    expect(m.get('\u0000s')).toBe(8);
    expect(m.has({ a: 2, b: 1 })).toBe(true);
    expect([...m.keys()]).toEqual([['a', 1], 'x', 0, NaN, { b: 1, a: 2 }, new Uint8Array([1]), 1n, '\u0000s']);
    expect([...m.values()]).toEqual([10, 2, 30, 40, 50, 60, 7, 8]);
    expect(m.delete(['a', 1])).toBe(true);
    expect(m.delete(['a', 1])).toBe(false);
    expect(m.get(['a', 1])).toBeUndefined();
    m.set(['a', 1], 11);
    expect([...m.entries()].at(-1)).toEqual([['a', 1], 11]);
  });

  it('agrees with a naive reference implementation (property)', () => {
    const op = fc.oneof(
      fc.tuple(fc.constant('set' as const), key, fc.integer()),
      fc.tuple(fc.constant('delete' as const), key, fc.constant(0)),
      fc.tuple(fc.constant('get' as const), key, fc.constant(0)),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const m = new KeyMap<number>();
        const ref: Array<[unknown, number]> = [];
        const find = (k: unknown) => ref.findIndex(([x]) => keysEqual(x, k));
        for (const [kind, k, v] of ops) {
          const i = find(k);
          if (kind === 'set') {
            m.set(k, v);
            if (i >= 0) ref[i]![1] = v;
            else ref.push([k, v]);
          } else if (kind === 'delete') {
            expect(m.delete(k)).toBe(i >= 0);
            if (i >= 0) ref.splice(i, 1);
          } else {
            expect(m.get(k)).toBe(i >= 0 ? ref[i]![1] : undefined);
            expect(m.has(k)).toBe(i >= 0);
          }
        }
        expect(m.size).toBe(ref.length);
        const entries = [...m.entries()];
        expect(entries.length).toBe(ref.length);
        entries.forEach(([k, v], i) => {
          expect(keysEqual(k, ref[i]![0])).toBe(true);
          expect(v).toBe(ref[i]![1]);
        });
      }),
      { numRuns: 1000 },
    );
  });
});
