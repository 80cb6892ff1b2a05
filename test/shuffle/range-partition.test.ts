import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { partitionFunction, rangePartitionOf } from '../../host/shuffle/partition-fn.js';

const key = fc.oneof(
  fc.double(),
  fc.integer({ min: -50, max: 50 }),
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity),
  fc.string({ maxLength: 4 }),
  fc.constantFrom('\uD800', '\uFFFF', '😀', 'é', ''),
  fc.constantFrom(null, undefined, true, false, 3n, -2n, [1], [1, 'a'], { a: 1 }),
);
const noInstantiate = () => {
  throw new Error('no closures here');
};

describe('range partitioning', () => {
  it('bounds of one type search like compareValues for every key', () => {
    const bounds = fc.oneof(
      fc.array(fc.oneof(fc.double({ noNaN: true }), fc.integer({ min: -50, max: 50 }), fc.constantFrom(0, -0)), { maxLength: 9 }),
      fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('\uD800', '\uFFFF', '😀', 'é')), { maxLength: 9 }),
      fc.array(key, { maxLength: 9 }),
    );
    fc.assert(
      fc.property(bounds, fc.array(key, { maxLength: 40 }), fc.boolean(), fc.integer({ min: 1, max: 12 }), (b, keys, ascending, n) => {
        // Bounds come sorted from determineBounds; unsorted ones must still agree with the general search.
        const f = partitionFunction({ kind: 'range', numPartitions: n, bounds: b, ascending }, 0, noInstantiate);
        for (const k of keys) expect(f(k)).toBe(rangePartitionOf(k, b, ascending, n));
      }),
      { numRuns: 500 },
    );
  });
});
