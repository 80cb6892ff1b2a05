/**
 * Quantiles as Spark's taskSummary computes them: for quantile q over n sorted values, the value at
 * index min(floor(q * n), n - 1). Large inputs use selection instead of a sort (linear instead of
 * n log n), because a running 100,000-task stage is summarised again on every live update.
 */

/** Below this a typed-array sort is as fast as selection and simpler. */
const SORT_BELOW = 4096;

export function quantileIndices(n: number, qs: readonly number[]): number[] {
  return qs.map((q) => Math.max(0, Math.min(Math.floor(q * n), n - 1)));
}

/** `values[0..n)` is reordered. Returns one value per quantile (NaN for every one when n is 0). */
export function quantilesInPlace(values: Float64Array, n: number, qs: readonly number[]): number[] {
  if (n === 0) return qs.map(() => Number.NaN);
  const indices = quantileIndices(n, qs);
  const view = values.subarray(0, n);
  if (n < SORT_BELOW) {
    view.sort();
    return indices.map((i) => view[i]!);
  }
  // Select the wanted ranks in increasing order; each selection leaves everything below its rank
  // on its left, so the next one only searches to the right of it.
  const order = [...new Set(indices)].sort((a, b) => a - b);
  let lo = 0;
  const found = new Map<number, number>();
  for (const k of order) {
    select(view, lo, n - 1, k);
    found.set(k, view[k]!);
    lo = k;
  }
  return indices.map((i) => found.get(i)!);
}

/** Hoare's selection: afterwards a[k] is the k-th smallest of a[lo..hi], smaller ones before it. */
function select(a: Float64Array, lo: number, hi: number, k: number): void {
  while (hi > lo) {
    // Median of three as the pivot keeps sorted and reversed inputs linear.
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < a[lo]!) swap(a, mid, lo);
    if (a[hi]! < a[lo]!) swap(a, hi, lo);
    if (a[hi]! < a[mid]!) swap(a, hi, mid);
    const pivot = a[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}
