/**
 * Order-preserving 64-bit sort prefixes, the TypeScript twins of assembly/sort.ts. A prefix is
 * kept as two u32 halves (hi, lo) so that comparisons stay on small integers instead of BigInt.
 * Descending order complements both halves.
 */
import type { PackedBytes, SortableNumbers } from './types.js';

export interface Prefixes {
  hi: Uint32Array;
  lo: Uint32Array;
}

const f64 = new Float64Array(1);
const f64Bits = new Uint32Array(f64.buffer);

/** -0 and +0 share a prefix, every NaN sorts after +Infinity. */
export function f64Prefix(x: number): [hi: number, lo: number] {
  if (x !== x) return [0xfff80000, 0];
  if (x === 0) return [0x80000000, 0];
  f64[0] = x;
  const lo = f64Bits[0]!;
  const hi = f64Bits[1]!;
  return hi >= 0x80000000 ? [~hi >>> 0, ~lo >>> 0] : [(hi | 0x80000000) >>> 0, lo];
}

/** First 8 bytes, big-endian, zero-padded. */
export function bytesPrefix(b: Uint8Array, start: number, end: number): [hi: number, lo: number] {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 8; i++) {
    const v = start + i < end ? b[start + i]! : 0;
    if (i < 4) hi = (hi << 8) | v;
    else lo = (lo << 8) | v;
  }
  return [hi >>> 0, lo >>> 0];
}

export function numberPrefixes(keys: SortableNumbers, descending: boolean): Prefixes {
  const n = keys.length;
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  if (keys instanceof Float64Array) {
    for (let i = 0; i < n; i++) [hi[i], lo[i]] = f64Prefix(keys[i]!);
  } else if (keys instanceof BigInt64Array || keys instanceof BigUint64Array) {
    const words = new Uint32Array(keys.buffer, keys.byteOffset, n * 2);
    const sign = keys instanceof BigInt64Array ? 0x80000000 : 0;
    for (let i = 0; i < n; i++) {
      lo[i] = words[2 * i]!;
      hi[i] = (words[2 * i + 1]! ^ sign) >>> 0;
    }
  } else if (keys instanceof Int32Array) {
    for (let i = 0; i < n; i++) lo[i] = (keys[i]! ^ 0x80000000) >>> 0;
  } else {
    lo.set(keys);
  }
  if (descending) complement(hi, lo);
  return { hi, lo };
}

export function bytesPrefixes(keys: PackedBytes, descending: boolean): Prefixes {
  const n = keys.offsets.length - 1;
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  for (let i = 0; i < n; i++) [hi[i], lo[i]] = bytesPrefix(keys.bytes, keys.offsets[i]!, keys.offsets[i + 1]!);
  if (descending) complement(hi, lo);
  return { hi, lo };
}

function complement(hi: Uint32Array, lo: Uint32Array): void {
  for (let i = 0; i < hi.length; i++) {
    hi[i] = ~hi[i]! >>> 0;
    lo[i] = ~lo[i]! >>> 0;
  }
}

/** Unsigned byte order, shorter first on a common prefix. */
export function compareByteRanges(b: Uint8Array, s1: number, e1: number, s2: number, e2: number): number {
  const n = Math.min(e1 - s1, e2 - s2);
  for (let i = 0; i < n; i++) {
    const d = b[s1 + i]! - b[s2 + i]!;
    if (d !== 0) return d;
  }
  return (e1 - s1) - (e2 - s2);
}
