import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quantilesInPlace } from '../../host/ui/quantiles.js';

/** Spark's rule, computed the obvious way: sort, then the value at min(floor(q * n), n - 1). */
function byLongHand(values: number[], qs: number[]): number[] {
  const sorted = values.slice().sort((a, b) => a - b);
  return qs.map((q) => sorted[Math.min(Math.floor(q * sorted.length), sorted.length - 1)]!);
}

describe('quantiles', () => {
  const qs = [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1];

  it('match the sorted-index rule of Spark for small and large inputs (selection above 4,096 values)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, min: -1e9, max: 1e9 }), { minLength: 1, maxLength: 9000 }), (values) => {
        const buf = Float64Array.from(values);
        // -0 and 0 are the same quantile; which of them a sort or a selection puts first is not.
        const zero = (xs: number[]) => xs.map((x) => (x === 0 ? 0 : x));
        expect(zero(quantilesInPlace(buf, values.length, qs))).toEqual(zero(byLongHand(values, qs)));
      }),
      { numRuns: 60 },
    );
  });

  it('handle many equal values and sorted or reversed runs without going quadratic', () => {
    const n = 200_000;
    for (const make of [(i: number) => i, (i: number) => n - i, (i: number) => i % 3]) {
      const values = Array.from({ length: n }, (_, i) => make(i));
      // Quadratic selection over 200,000 values would take minutes: the test's timeout catches it.
      expect(quantilesInPlace(Float64Array.from(values), n, qs)).toEqual(byLongHand(values, qs));
    }
  });

  it('give NaN for an empty input', () => {
    expect(quantilesInPlace(new Float64Array(0), 0, [0, 0.5])).toEqual([NaN, NaN]);
  });
});
