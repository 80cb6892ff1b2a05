/**
 * Sorting records by key for sortByKey and sortBy. Keys that are all numbers or all strings are
 * sorted by the operators' prefix radix sort (a stable argsort: f64 order with -0 = +0 and NaN
 * last, or UTF-8 byte order, which is the code point order of compareValues); any other keys take
 * the comparator path. Both are stable in either direction, so equal keys keep their input order.
 */
import { compareValues } from '../codec/order.js';
import type { FlintOps } from '../ops/types.js';
import { utf8Safe } from './agg-batches.js';

export function sortRecordsByKey<T>(
  records: T[],
  keyOf: (record: T) => unknown,
  ascending: boolean,
  ops: FlintOps,
  used: (operator: string) => void,
): T[] {
  const n = records.length;
  if (n < 2) return records;
  const order = nativeOrder(records, keyOf, !ascending, ops);
  if (order) {
    used('radixSort');
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = records[order[i]!]!;
    return out;
  }
  const sign = ascending ? 1 : -1;
  // Wrapped so that undefined keys take part in the comparison (sort moves bare undefined last).
  const keyed = records.map((x) => ({ k: keyOf(x), x }));
  keyed.sort((a, b) => sign * compareValues(a.k, b.k));
  return keyed.map((r) => r.x);
}

function nativeOrder<T>(records: T[], keyOf: (record: T) => unknown, descending: boolean, ops: FlintOps): Uint32Array | null {
  const n = records.length;
  const k0 = keyOf(records[0]!);
  if (typeof k0 === 'number') {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const k = keyOf(records[i]!);
      if (typeof k !== 'number') return null;
      keys[i] = k;
    }
    return ops.sortNumbers(keys, { descending });
  }
  if (typeof k0 === 'string') {
    const keys = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const k = keyOf(records[i]!);
      if (typeof k !== 'string' || !utf8Safe(k)) return null;
      keys[i] = k;
    }
    return ops.sortStrings(keys, { descending });
  }
  return null;
}
