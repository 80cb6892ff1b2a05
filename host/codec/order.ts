import { FlintError } from '../errors.js';
import { compareStrings } from './keys.js';
import { describeType } from './records.js';

/**
 * The total order of records used by sortBy, sortByKey, takeOrdered, top, max and min.
 *
 * Types rank: undefined < null < booleans < numbers and bigints < strings < Uint8Array < arrays
 * < plain objects. Within a rank:
 * - booleans: false < true;
 * - numbers and bigints compare numerically with each other (exactly, without rounding a bigint
 *   to a double); -0 equals 0; NaN sorts after every other number and equals NaN.
 *   NOTE: `1` and `1n` compare EQUAL here but are DIFFERENT keys for keysEqual/KeyMap/hashKey:
 *   the order is numeric, key identity is typed. For keys of one kind (all numbers or all bigints)
 *   compareValues(a, b) === 0 exactly when keysEqual(a, b);
 * - strings in Unicode code point order (= the order of their UTF-8 bytes), not UTF-16 code unit
 *   order; a lone surrogate sorts as a surrogate pair would (after U+FFFF);
 * - Uint8Array bytewise, a proper prefix first; arrays lexicographically, a proper prefix first;
 * - plain objects by their entries sorted by key: key, then value, pair by pair, fewer entries
 *   first on a common prefix.
 * Date, Map, Set and other typed arrays have no place in this order and are rejected.
 *
 * Caution for callers: `Array.prototype.sort` moves `undefined` elements to the end WITHOUT calling
 * the comparator, so sorting raw values with `xs.sort(compareValues)` puts undefined last. Sort
 * records by an extracted key held in a wrapper (e.g. `[key, record]` pairs) instead.
 */

const R_UNDEFINED = 0;
const R_NULL = 1;
const R_BOOLEAN = 2;
const R_NUMBER = 3;
const R_STRING = 4;
const R_BYTES = 5;
const R_ARRAY = 6;
const R_OBJECT = 7;

function rank(v: unknown): number {
  switch (typeof v) {
    case 'undefined':
      return R_UNDEFINED;
    case 'boolean':
      return R_BOOLEAN;
    case 'number':
    case 'bigint':
      return R_NUMBER;
    case 'string':
      return R_STRING;
    case 'object': {
      if (v === null) return R_NULL;
      if (Array.isArray(v)) return R_ARRAY;
      if (v instanceof Uint8Array) return R_BYTES;
      const proto = Object.getPrototypeOf(v);
      if (proto === Object.prototype || proto === null) return R_OBJECT;
      throw unorderable(v);
    }
    default:
      throw unorderable(v);
  }
}

function unorderable(v: unknown): FlintError {
  return new FlintError(
    'UNSUPPORTED_RECORD',
    `Cannot order ${describeType(v)}: sort keys must be numbers, bigint, strings, booleans, null, ` +
      'undefined, Uint8Array, or arrays / plain objects of those (for a Date use date.getTime()).',
  );
}

function compareNumberBigInt(n: number, b: bigint): number {
  if (n !== n) return 1;
  if (n === Infinity) return 1;
  if (n === -Infinity) return -1;
  const fl = Math.floor(n);
  const bf = BigInt(fl);
  if (bf < b) return -1;
  if (bf > b) return 1;
  return fl === n ? 0 : 1;
}

function compareNumbers(a: number | bigint, b: number | bigint): number {
  if (typeof a === 'number') {
    if (typeof b === 'number') {
      if (a < b) return -1;
      if (a > b) return 1;
      if (a === b) return 0; // includes -0 vs 0
      const an = a !== a;
      const bn = b !== b;
      return an === bn ? 0 : an ? 1 : -1;
    }
    return compareNumberBigInt(a, b);
  }
  if (typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  const c = compareNumberBigInt(b, a);
  return c === 0 ? 0 : -c;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function compareObjects(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const ka = Object.keys(a).sort(compareStrings);
  const kb = Object.keys(b).sort(compareStrings);
  const n = ka.length < kb.length ? ka.length : kb.length;
  for (let i = 0; i < n; i++) {
    const c = compareStrings(ka[i]!, kb[i]!);
    if (c !== 0) return c < 0 ? -1 : 1;
    const d = compareValues(a[ka[i]!], b[kb[i]!]);
    if (d !== 0) return d;
  }
  return ka.length === kb.length ? 0 : ka.length < kb.length ? -1 : 1;
}

/** A total order over records: negative, zero or positive like a sort comparator (always -1, 0 or 1). */
export function compareValues(a: unknown, b: unknown): number {
  const ta = typeof a;
  // Fast paths for the common homogeneous cases.
  if (ta === 'number' && typeof b === 'number') return compareNumbers(a as number, b);
  if (ta === 'string' && typeof b === 'string') {
    if (a === b) return 0;
    const c = compareStrings(a as string, b);
    return c < 0 ? -1 : 1;
  }
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case R_UNDEFINED:
    case R_NULL:
      return 0;
    case R_BOOLEAN:
      return a === b ? 0 : a ? 1 : -1;
    case R_NUMBER:
      return compareNumbers(a as number | bigint, b as number | bigint);
    case R_STRING: {
      const c = compareStrings(a as string, b as string);
      return c === 0 ? 0 : c < 0 ? -1 : 1;
    }
    case R_BYTES:
      return compareBytes(a as Uint8Array, b as Uint8Array);
    case R_ARRAY: {
      const x = a as unknown[];
      const y = b as unknown[];
      const n = x.length < y.length ? x.length : y.length;
      for (let i = 0; i < n; i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
    }
    default:
      return compareObjects(a as Record<string, unknown>, b as Record<string, unknown>);
  }
}
