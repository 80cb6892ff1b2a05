// Prefix-key radix sort (after Spark's UnsafeInMemorySorter with RadixSort).
//
// Keys are first turned into order-preserving u64 prefixes paired with their record index:
// 16-byte (prefix, index) pairs. An LSD radix sort over 8-bit digits orders the pairs; one read of
// the input fills all eight digit histograms, and a digit on which every prefix agrees (its bucket
// holds all n) costs no pass at all, so 32-bit keys take at most four passes. LSD is stable, so
// equal prefixes keep index order. When the prefix is not the whole key (byte strings), runs of
// equal prefix are finished by comparing the full keys, with the index as the last tie-break.
// Descending order complements the prefix and reverses the full-key comparison; equal keys stay in
// index order either way.
import { allocatePage, freePage, pageAddress, fail, ERR_BAD_INPUT } from './mem';
import { compareBytes } from './hash';

export const SK_U64: u32 = 0; // also: prefixes already encoded by the caller
export const SK_I64: u32 = 1;
export const SK_F64: u32 = 2;
export const SK_U32: u32 = 3;
export const SK_I32: u32 = 4;
export const SK_BYTES: u32 = 5;

const SIGN: u64 = 0x8000000000000000;

// -0 and +0 share a prefix; every NaN is the canonical NaN, which sorts after +Infinity.
// @ts-ignore: decorator
@inline export function prefixF64(bits: u64): u64 {
  const x = reinterpret<f64>(bits);
  if (x != x) bits = 0x7ff8000000000000;
  else if (x == 0) bits = 0;
  return (bits & SIGN) != 0 ? ~bits : bits | SIGN;
}

// The first 8 bytes, big-endian, zero-padded: byte order of the prefix is byte order of the key.
// @ts-ignore: decorator
@inline export function prefixBytes(p: usize, len: u32): u64 {
  if (len >= 8) return bswap<u64>(load<u64>(p));
  if (len == 0) return 0;
  return bswap<u64>(load<u64>(p) & ((<u64>1 << (<u64>len << 3)) - 1));
}

// @ts-ignore: decorator
@inline function prefixAt(kind: u32, keys: usize, offsets: usize, i: u32): u64 {
  if (kind == SK_U64) return load<u64>(keys + (<usize>i << 3));
  if (kind == SK_I64) return load<u64>(keys + (<usize>i << 3)) ^ SIGN;
  if (kind == SK_F64) return prefixF64(load<u64>(keys + (<usize>i << 3)));
  if (kind == SK_U32) return <u64>load<u32>(keys + (<usize>i << 2));
  if (kind == SK_I32) return <u64>(load<u32>(keys + (<usize>i << 2)) ^ 0x80000000);
  const a = load<u32>(offsets + (<usize>i << 2));
  return prefixBytes(keys + a, load<u32>(offsets + ((<usize>i + 1) << 2)) - a);
}

// @ts-ignore: decorator
@inline function bump(hist: usize, d: u32, p: u64): void {
  const h = hist + (<usize>d << 10) + (<usize>((p >> (<u64>d << 3)) & 0xff) << 2);
  store<u32>(h, load<u32>(h) + 1);
}

// Counts the prefix in the histogram of each of its eight bytes (unrolled: one pass of the input).
// @ts-ignore: decorator
@inline function bumpAllDigits(hist: usize, p: u64): void {
  bump(hist, 0, p);
  bump(hist, 1, p);
  bump(hist, 2, p);
  bump(hist, 3, p);
  bump(hist, 4, p);
  bump(hist, 5, p);
  bump(hist, 6, p);
  bump(hist, 7, p);
}

// @ts-ignore: decorator
@inline function encodeLoop(kind: u32, keys: usize, offsets: usize, n: u32, flip: u64, pairs: usize, hist: usize): void {
  for (let i: u32 = 0; i < n; i++) {
    const p = prefixAt(kind, keys, offsets, i) ^ flip;
    const e = pairs + (<usize>i << 4);
    store<u64>(e, p);
    store<u64>(e, <u64>i, 8);
    bumpAllDigits(hist, p);
  }
}

// Turns a histogram into starting positions.
function startPositions(hist: usize, d: u32, off: usize): void {
  let sum: u32 = 0;
  const h = hist + (<usize>d << 10);
  for (let b: u32 = 0; b < 256; b++) {
    const c = load<u32>(h + (b << 2));
    store<u32>(off + (b << 2), sum);
    sum += c;
  }
}

function scatterPairs(src: usize, dst: usize, n: u32, shift: u64, off: usize): void {
  for (let i: u32 = 0; i < n; i++) {
    const e = src + (<usize>i << 4);
    const o = off + (<usize>((load<u64>(e) >> shift) & 0xff) << 2);
    const pos = load<u32>(o);
    store<u32>(o, pos + 1);
    v128.store(dst + (<usize>pos << 4), v128.load(e));
  }
}

// The last pass of a sort that needs no tie-break writes indices only: a quarter of the bytes.
function scatterIndices(src: usize, out: usize, n: u32, shift: u64, off: usize): void {
  for (let i: u32 = 0; i < n; i++) {
    const e = src + (<usize>i << 4);
    const o = off + (<usize>((load<u64>(e) >> shift) & 0xff) << 2);
    const pos = load<u32>(o);
    store<u32>(o, pos + 1);
    store<u32>(out + (<usize>pos << 2), load<u32>(e, 8));
  }
}

let cmpKeys: usize = 0;
let cmpOffsets: usize = 0;
let cmpDesc: bool = false;

// Full-key order of two pairs with equal prefixes; index breaks ties so the sort stays stable.
function pairLess(a: usize, b: usize): bool {
  const ia = load<u32>(a, 8);
  const ib = load<u32>(b, 8);
  const oa = load<u32>(cmpOffsets + (<usize>ia << 2));
  const ob = load<u32>(cmpOffsets + (<usize>ib << 2));
  let c = compareBytes(cmpKeys + oa, load<u32>(cmpOffsets + ((<usize>ia + 1) << 2)) - oa,
    cmpKeys + ob, load<u32>(cmpOffsets + ((<usize>ib + 1) << 2)) - ob);
  if (cmpDesc) c = -c;
  return c < 0 || (c == 0 && ia < ib);
}

function insertionSort(base: usize, lo: u32, hi: u32): void {
  for (let i = lo + 1; i < hi; i++) {
    const x = v128.load(base + (<usize>i << 4));
    v128.store(scratch, x);
    let j = i;
    while (j > lo && pairLess(scratch, base + ((<usize>j - 1) << 4))) {
      v128.store(base + (<usize>j << 4), v128.load(base + ((<usize>j - 1) << 4)));
      j--;
    }
    v128.store(base + (<usize>j << 4), x);
  }
}

const scratch = memory.data(16, 16);

// Bottom-up merge sort of pairs [lo, hi), using tmp's same range as the other buffer.
function mergeSort(base: usize, tmp: usize, lo: u32, hi: u32): void {
  const RUN: u32 = 16;
  for (let s = lo; s < hi; s += RUN) insertionSort(base, s, min(s + RUN, hi));
  let src = base;
  let dst = tmp;
  for (let w = RUN; w < hi - lo; w <<= 1) {
    for (let s = lo; s < hi; s += w << 1) {
      const mid = min(s + w, hi);
      const end = min(s + (w << 1), hi);
      let i = s;
      let j = mid;
      let k = s;
      while (i < mid && j < end) {
        if (pairLess(src + (<usize>j << 4), src + (<usize>i << 4))) {
          v128.store(dst + (<usize>k << 4), v128.load(src + (<usize>j << 4)));
          j++;
        } else {
          v128.store(dst + (<usize>k << 4), v128.load(src + (<usize>i << 4)));
          i++;
        }
        k++;
      }
      if (i < mid) memory.copy(dst + (<usize>k << 4), src + (<usize>i << 4), (<usize>(mid - i)) << 4);
      else if (j < end) memory.copy(dst + (<usize>k << 4), src + (<usize>j << 4), (<usize>(end - j)) << 4);
    }
    const t = src;
    src = dst;
    dst = t;
  }
  if (src != base) memory.copy(base + (<usize>lo << 4), src + (<usize>lo << 4), (<usize>(hi - lo)) << 4);
}

/**
 * Sorts n keys and returns the page number of a u32[n] array holding the sorted record indices.
 * kind SK_BYTES: key i is keys[offsets[i], offsets[i+1]) (offsets relative to keys).
 */
export function sortKeys(kind: u32, keys: usize, offsets: usize, n: u32, desc: u32): u32 {
  if (kind > SK_BYTES) fail(ERR_BAD_INPUT);
  const outPage = allocatePage(<u64>n << 2);
  const out = pageAddress(outPage);
  if (n == 0) return outPage;
  const pa = allocatePage(<u64>n << 4);
  const pb = allocatePage(<u64>n << 4);
  const ph = allocatePage(8 * 1024 + 1024);
  let a = pageAddress(pa);
  let b = pageAddress(pb);
  const hist = pageAddress(ph);
  const off = hist + 8 * 1024;
  memory.fill(hist, 0, 8 * 1024);
  const flip: u64 = desc != 0 ? 0xffffffffffffffff : 0;
  if (kind == SK_U64) encodeLoop(SK_U64, keys, offsets, n, flip, a, hist);
  else if (kind == SK_I64) encodeLoop(SK_I64, keys, offsets, n, flip, a, hist);
  else if (kind == SK_F64) encodeLoop(SK_F64, keys, offsets, n, flip, a, hist);
  else if (kind == SK_U32) encodeLoop(SK_U32, keys, offsets, n, flip, a, hist);
  else if (kind == SK_I32) encodeLoop(SK_I32, keys, offsets, n, flip, a, hist);
  else encodeLoop(SK_BYTES, keys, offsets, n, flip, a, hist);

  const p0 = load<u64>(a);
  let digits: u32 = 0; // bit d set: digit d needs a pass
  for (let d: u32 = 0; d < 8; d++) {
    const c = load<u32>(hist + (<usize>d << 10) + (<usize>((p0 >> (<u64>d << 3)) & 0xff) << 2));
    if (c != n) digits |= 1 << d;
  }
  const lastDigit: i32 = digits == 0 ? -1 : 31 - <i32>clz<u32>(digits);
  for (let d: u32 = 0; d < 8; d++) {
    if ((digits & (1 << d)) == 0) continue;
    startPositions(hist, d, off);
    if (<i32>d == lastDigit && kind != SK_BYTES) {
      scatterIndices(a, out, n, <u64>d << 3, off);
    } else {
      scatterPairs(a, b, n, <u64>d << 3, off);
      const t = a;
      a = b;
      b = t;
    }
  }
  if (kind == SK_BYTES) {
    cmpKeys = keys;
    cmpOffsets = offsets;
    cmpDesc = desc != 0;
    let i: u32 = 0;
    while (i < n) {
      const p = load<u64>(a + (<usize>i << 4));
      let j = i + 1;
      while (j < n && load<u64>(a + (<usize>j << 4)) == p) j++;
      if (j - i > 1) {
        if (j - i <= 16) insertionSort(a, i, j);
        else mergeSort(a, b, i, j);
      }
      i = j;
    }
  }
  if (kind == SK_BYTES || lastDigit < 0) {
    for (let i: u32 = 0; i < n; i++) store<u32>(out + (<usize>i << 2), load<u32>(a + (<usize>i << 4), 8));
  }
  freePage(ph);
  freePage(pb);
  freePage(pa);
  return outPage;
}

function scatterU64(src: usize, dst: usize, n: u32, shift: u64, off: usize): void {
  for (let i: u32 = 0; i < n; i++) {
    const p = load<u64>(src + (<usize>i << 3));
    const o = off + (<usize>((p >> shift) & 0xff) << 2);
    const pos = load<u32>(o);
    store<u32>(o, pos + 1);
    store<u64>(dst + (<usize>pos << 3), p);
  }
}

/**
 * Sorts n f64 values in place in key order (sortKeys' SK_F64 order: NaN after +Infinity, every NaN
 * the canonical one) with no index beside them: half the bytes per pass of the argsort. Equal values
 * are indistinguishable, so stability is moot, except between -0 and +0, which the order holds equal
 * but records tell apart: with a -0 among the values nothing is done and 0 is returned (the caller
 * takes the stable argsort); 1 once sorted.
 */
export function sortF64(values: usize, n: u32, desc: u32): u32 {
  for (let i: u32 = 0; i < n; i++) {
    if (load<u64>(values + (<usize>i << 3)) == SIGN) return 0;
  }
  if (n < 2) {
    if (n == 1 && reinterpret<f64>(load<u64>(values)) != reinterpret<f64>(load<u64>(values))) store<u64>(values, 0x7ff8000000000000);
    return 1;
  }
  const pb = allocatePage(<u64>n << 3);
  const ph = allocatePage(8 * 1024 + 1024);
  let a = values;
  let b = pageAddress(pb);
  const hist = pageAddress(ph);
  const off = hist + 8 * 1024;
  memory.fill(hist, 0, 8 * 1024);
  const flip: u64 = desc != 0 ? 0xffffffffffffffff : 0;
  for (let i: u32 = 0; i < n; i++) {
    const e = a + (<usize>i << 3);
    const p = prefixF64(load<u64>(e)) ^ flip;
    store<u64>(e, p);
    bumpAllDigits(hist, p);
  }
  const p0 = load<u64>(a);
  for (let d: u32 = 0; d < 8; d++) {
    const c = load<u32>(hist + (<usize>d << 10) + (<usize>((p0 >> (<u64>d << 3)) & 0xff) << 2));
    if (c == n) continue;
    startPositions(hist, d, off);
    scatterU64(a, b, n, <u64>d << 3, off);
    const t = a;
    a = b;
    b = t;
  }
  // Back from prefixes to values (into the caller's array when an odd number of passes left them in tmp).
  for (let i: u32 = 0; i < n; i++) {
    const p = load<u64>(a + (<usize>i << 3)) ^ flip;
    store<u64>(values + (<usize>i << 3), (p & SIGN) != 0 ? p ^ SIGN : ~p);
  }
  freePage(ph);
  freePage(pb);
  return 1;
}
