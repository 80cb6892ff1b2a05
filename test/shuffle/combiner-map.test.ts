// CombinerMap keeps a key → slot index and combiners in slot order: it must give back what a KeyMap
// of combiners (what it was before) gives, keys as KeyMap gives them, in the same order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyMap } from '../../host/codec/keys.js';
import { ExecutorMemory } from '../../host/memory/memory-manager.js';
import { CombinerMap } from '../../host/shuffle/combiner-map.js';

const key = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.integer({ min: -3000, max: 3000 }),
  // Non-negative integers that come dense only after a while: hashed first, then moved to direct slots.
  fc.integer({ min: 0, max: 20000 }),
  fc.integer({ min: 1000, max: 1100 }).map((i) => i * 4),
  fc.constantFrom(2 ** 31, 2 ** 32 - 1, 2 ** 32, 1023, 1024, 1025, -1),
  fc.double(),
  fc.integer().map((i) => i * 2 ** 20),
  fc.constantFrom(0, -0, NaN, 0.5, Infinity),
  fc.constantFrom('a', 'b', '', '\0s', '\0x', '\ud800', '\udc00a', 'é', 'e\u0301', '😀'),
  // Many distinct strings (the string index grows), any code units, some long.
  fc.string({ maxLength: 3, unit: 'binary' }),
  fc.string({ maxLength: 40, unit: 'grapheme' }),
  fc.integer({ min: 0, max: 5000 }).map((i) => `w${i}`),
  fc.constantFrom(null, undefined, true, false, 1n),
  fc.constantFrom([1, 2], [1, -0], { a: 1 }, ['a']),
);

function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number') return Object.is(a, b);
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a !== null && typeof a === 'object') return a === b;
  return a === b;
}

/** A summing CombinerMap fed `pairs` gives what a Map summing them gives, in the same order. */
function expectSumsOf(pairs: Array<[string | number, number]>): void {
  const sum = { createCombiner: (v: unknown) => v, mergeValue: (c: unknown, v: unknown) => (c as number) + (v as number), mergeCombiners: (a: unknown, b: unknown) => (a as number) + (b as number) };
  const memory = new ExecutorMemory(1 << 30, false).task(1);
  const m = new CombinerMap('test', memory, sum, null);
  const ref = new Map<unknown, number>();
  for (const [k, v] of pairs) {
    m.addValue(k, v);
    ref.set(k, (ref.get(k) ?? 0) + v);
  }
  expect([...m.entries()]).toEqual([...ref.entries()]);
  memory.close();
}

describe('CombinerMap', () => {
  it('combines like a KeyMap of combiners, in first-seen order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.integer()), { maxLength: 3000 }), fc.boolean(), (records, combiners) => {
        const agg = { createCombiner: (v: unknown) => [v], mergeValue: (c: unknown, v: unknown) => [...(c as unknown[]), v], mergeCombiners: (a: unknown, b: unknown) => [...(a as unknown[]), ...(b as unknown[])] };
        const memory = new ExecutorMemory(1 << 30, false).task(1);
        const m = new CombinerMap('test', memory, agg, null);
        const ref = new KeyMap<unknown>();
        for (const [k, v] of records) {
          if (combiners) m.addCombiner(k, [v]);
          else m.addValue(k, v);
          const c = ref.get(k);
          ref.set(k, c === undefined && !ref.has(k) ? [v] : [...(c as unknown[]), v]);
        }
        m.endBatch();
        expect(m.size).toBe(ref.size);
        expect(same([...m.entries()], [...ref.entries()])).toBe(true);
        expect(same([...m.drain()].flat(), [...ref.entries()])).toBe(true);
        expect(m.size).toBe(0);
        memory.close();
      }),
      { numRuns: 300 },
    );
  });

  it('finds every one of many string keys after its index grew, whatever their code units', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ maxLength: 12, unit: 'binary' }), { minLength: 1500, maxLength: 3000 }), fc.integer({ min: 1, max: 3 }), (keys, rounds) => {
        expectSumsOf(Array.from({ length: rounds }, () => keys.map((k, i) => [k, i] as [string, number])).flat());
      }),
      { numRuns: 10 },
    );
  });

  it('finds every integer key after direct slots grew over keys that were hashed before', () => {
    const keys = fc.oneof(fc.integer({ min: 0, max: 6000 }), fc.integer({ min: -50, max: 50 }), fc.double({ min: 0, max: 6000 }), fc.constantFrom(-0, NaN, 2 ** 40));
    // A key hashed while the keys were sparse (3000), then direct slots growing over it (at 2500).
    const example = [3000, ...Array.from({ length: 800 }, (_, i) => i), 2500, 3000, 1e9, 3000];
    fc.assert(
      fc.property(fc.oneof(fc.constant(example), fc.array(keys, { minLength: 300, maxLength: 4000 })), (ks) => {
        expectSumsOf(ks.map((k, i) => [k, i] as [number, number]));
      }),
      { numRuns: 40 },
    );
  });
});

