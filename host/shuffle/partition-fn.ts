/**
 * Executor-side partitioning: turns a partitioner descriptor into the function a map task applies
 * to every record's key.
 */
import { compareStrings, hashPartition } from '../codec/keys.js';
import { compareValues } from '../codec/order.js';
import type { PartitionerDesc } from '../plan/plan.js';

export type PartitionFn = (key: unknown) => number;

export function partitionFunction(
  desc: PartitionerDesc,
  mapPartition: number,
  instantiate: (spec: import('../codec/closure-spec.js').ClosureSpec) => Function,
): PartitionFn {
  const n = desc.numPartitions;
  switch (desc.kind) {
    case 'hash':
      return n === 1 ? () => 0 : (key) => hashPartition(key, n);
    case 'range':
      return rangePartition(desc.bounds, desc.ascending, n);
    case 'custom': {
      const f = instantiate(desc.f) as (key: unknown) => unknown;
      return (key) => {
        const p = f(key);
        if (typeof p !== 'number' || !Number.isInteger(p)) {
          throw new TypeError(`partitionFunc returned ${String(p)} for key ${String(key)}; expected an integer`);
        }
        return ((p % n) + n) % n;
      };
    }
    case 'roundRobin': {
      // Spark starts each map partition at a position derived from its index.
      let next = (mapPartition * 2654435761) % n;
      return () => {
        const p = next;
        next = next + 1 === n ? 0 : next + 1;
        return p;
      };
    }
  }
}

/** A range partitioner whose bounds are all numbers (not NaN), as an f64 array. */
export interface NumberRange {
  bounds: Float64Array;
  ascending: boolean;
}

/**
 * A range partitioner when its bounds are all numbers, the case where a number key is placed by `>`
 * alone (rangePartition below); null for any other partitioner.
 */
export function numberRange(desc: PartitionerDesc): NumberRange | null {
  if (desc.kind !== 'range' || !desc.bounds.every((b) => typeof b === 'number' && b === b)) return null;
  return { bounds: Float64Array.from(desc.bounds as number[]), ascending: desc.ascending };
}

/** Binary search over sorted range bounds: partition i holds keys in (bounds[i-1], bounds[i]]. */
export function rangePartitionOf(key: unknown, bounds: readonly unknown[], ascending: boolean, n: number): number {
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareValues(key, bounds[mid]) > 0) lo = mid + 1;
    else hi = mid;
  }
  const p = Math.min(lo, n - 1);
  return ascending ? p : n - 1 - p;
}

/**
 * Bounds that are all numbers (not NaN) or all strings are searched with `>` or compareStrings for
 * keys of their type, which is compareValues' order there (-0 = 0, NaN after every number, code
 * points); any other key takes compareValues.
 */
function rangePartition(bounds: unknown[], ascending: boolean, n: number): PartitionFn {
  const general = (key: unknown) => rangePartitionOf(key, bounds, ascending, n);
  const m = bounds.length;
  const place = (lo: number) => {
    const p = lo < n - 1 ? lo : n - 1;
    return ascending ? p : n - 1 - p;
  };
  if (m > 0 && bounds.every((b) => typeof b === 'number' && b === b)) {
    const nb = Float64Array.from(bounds as number[]);
    return (key) => {
      if (typeof key !== 'number') return general(key);
      if (key !== key) return place(m);
      let lo = 0;
      let hi = m;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (key > nb[mid]!) lo = mid + 1;
        else hi = mid;
      }
      return place(lo);
    };
  }
  if (m > 0 && bounds.every((b) => typeof b === 'string')) {
    const sb = bounds as string[];
    return (key) => {
      if (typeof key !== 'string') return general(key);
      let lo = 0;
      let hi = m;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareStrings(key, sb[mid]!) > 0) lo = mid + 1;
        else hi = mid;
      }
      return place(lo);
    };
  }
  return general;
}
