// BytesToBytesMap (after Spark's unsafe map) and the hash aggregations built on it.
//
// Slots: u64 = (encoded record address << 32) | full 32-bit hash; address 0 = empty. Keeping the
// full hash in the slot lets a probe reject most non-matching slots without touching the record,
// and lets growth re-mask every entry without reading or rehashing a single key.
// Records, packed in 1 MiB pages in insertion order, 8-byte aligned:
//   [key length u32][value length u32][key bytes][value bytes]
// Iterating pages in order therefore yields keys in first-occurrence order, the same order a JS
// Map gives, which is what lets the TypeScript twins produce identical batches.
import {
  allocatePage, freePage, pageAddress, pageBytes, decodeAddress, encodeAddress, fail,
  PAGE_SIZE, ERR_BAD_INPUT, ERR_OUT_OF_MEMORY,
} from './mem';
import { hashI64, hashBytes, bytesEqual } from './hash';

export const KEY_BYTES: u32 = 0;
export const KEY_I64: u32 = 1;
export const KEY_F64: u32 = 2;

export const AGG_SUM: u32 = 0;
export const AGG_COUNT: u32 = 1;
export const AGG_MIN: u32 = 2;
export const AGG_MAX: u32 = 3;
export const AGG_MEAN: u32 = 4; // state [sum, count]: mergeable; the host divides at the end
export const AGG_STATS: u32 = 5; // state [count, sum, min, max]
export const AGG_RAW: u32 = 6; // plain map: zero-initialised fixed-width value, caller-managed

const H_SLOTS = 0;
const H_MASK = 4;
const H_COUNT = 8;
const H_SLOTS_PAGE = 12;
const H_LIST = 16;
const H_LIST_PAGE = 20;
const H_NPAGES = 24;
const H_LIST_CAP = 28;
const H_CUR_PAGE = 32;
const H_CUR_BASE = 36;
const H_CUR_USED = 40;
const H_CUR_SIZE = 44;
const H_VW = 48;
const H_KIND = 52;
const H_KEYKIND = 56;
const H_SELF = 60;
const H_KEYBYTES = 64;
const H_GROW_AT = 68;
// Inline table only (8-byte keys, aggregate kinds): see the section "8-byte keys: inline table".
const H_INLINE = 72;
const H_ORDER = 76;
const H_ORDER_PAGE = 80;
const H_ZERO_SLOT = 84;
// Word-count table only: see the section "word-count table".
const H_WORDS = 88;
const HEADER_SIZE: u32 = 128;

export const BATCH_MAGIC: u32 = 0x42414c46; // "FLAB"
export const TEXT_MAGIC: u32 = 0x54414c46; // "FLAT"
export const BATCH_HEADER: u32 = 16;
const MAX_SLOTS: u32 = 1 << 28;

export let wasNew: bool = false;
export let outLen: u32 = 0;

export function stateWidth(kind: u32, rawWidth: u32): u32 {
  if (kind == AGG_MEAN) return 16;
  if (kind == AGG_STATS) return 32;
  if (kind == AGG_RAW) return (rawWidth + 7) & ~7;
  return 8;
}

export function mapNew(keyKind: u32, kind: u32, capacityHint: u32, rawWidth: u32): usize {
  if (keyKind > KEY_F64 || kind > AGG_RAW) fail(ERR_BAD_INPUT);
  const self = allocatePage(HEADER_SIZE);
  const m = pageAddress(self);
  memory.fill(m, 0, HEADER_SIZE);
  store<u32>(m, self, H_SELF);
  store<u32>(m, keyKind, H_KEYKIND);
  store<u32>(m, kind, H_KIND);
  store<u32>(m, stateWidth(kind, rawWidth), H_VW);
  // Capacity for the hint at load 0.5: growth is cheap (no rehash) but not free at 1M keys.
  let cap: u32 = 64;
  const want = capacityHint > (MAX_SLOTS >> 1) ? MAX_SLOTS : capacityHint << 1;
  while (cap < want) cap <<= 1;
  if (keyKind != KEY_BYTES && kind != AGG_RAW) {
    inlineNew(m, cap);
    return m;
  }
  const sp = allocatePage(<u64>cap << 3);
  const slots = pageAddress(sp);
  memory.fill(slots, 0, cap << 3);
  store<u32>(m, slots, H_SLOTS);
  store<u32>(m, sp, H_SLOTS_PAGE);
  store<u32>(m, cap - 1, H_MASK);
  store<u32>(m, cap >> 1, H_GROW_AT);
  const lp = allocatePage(4096);
  store<u32>(m, pageAddress(lp), H_LIST);
  store<u32>(m, lp, H_LIST_PAGE);
  store<u32>(m, 4096 >> 3, H_LIST_CAP);
  return m;
}

export function mapFree(m: usize): void {
  if (load<u32>(m, H_INLINE) != 0 || load<u32>(m, H_WORDS) != 0) {
    // Only a word table has record pages (its long keys); an inline table's list page is 0.
    const list = <usize>load<u32>(m, H_LIST);
    const n = load<u32>(m, H_NPAGES);
    for (let i: u32 = 0; i < n; i++) freePage(load<u32>(list + (<usize>i << 3)));
    freePage(load<u32>(m, H_LIST_PAGE));
    freePage(load<u32>(m, H_ORDER_PAGE));
    freePage(load<u32>(m, H_SLOTS_PAGE));
    freePage(load<u32>(m, H_SELF));
    return;
  }
  const list = <usize>load<u32>(m, H_LIST);
  const n = load<u32>(m, H_NPAGES);
  for (let i: u32 = 0; i < n; i++) freePage(load<u32>(list + (<usize>i << 3)));
  freePage(load<u32>(m, H_LIST_PAGE));
  freePage(load<u32>(m, H_SLOTS_PAGE));
  freePage(load<u32>(m, H_SELF));
}

// Bytes of every page the map owns (the pages mapFree releases): what it holds of linear memory.
export function mapBytes(m: usize): u64 {
  let total: u64 = 0;
  const list = <usize>load<u32>(m, H_LIST);
  const n = load<u32>(m, H_NPAGES);
  for (let i: u32 = 0; i < n; i++) total += pageBytes(load<u32>(list + (<usize>i << 3)));
  total += pageBytes(load<u32>(m, H_LIST_PAGE));
  total += pageBytes(load<u32>(m, H_ORDER_PAGE));
  total += pageBytes(load<u32>(m, H_SLOTS_PAGE));
  total += pageBytes(load<u32>(m, H_SELF));
  return total;
}

export function mapCount(m: usize): u32 {
  return load<u32>(m, H_COUNT);
}

export function mapCapacity(m: usize): u32 {
  return load<u32>(m, H_MASK) + 1;
}

export function mapPages(m: usize): u32 {
  return load<u32>(m, H_NPAGES);
}

function pushPage(m: usize, page: u32, used: u32): void {
  let n = load<u32>(m, H_NPAGES);
  let cap = load<u32>(m, H_LIST_CAP);
  if (n == cap) {
    const np = allocatePage(<u64>cap << 4);
    const nl = pageAddress(np);
    memory.copy(nl, <usize>load<u32>(m, H_LIST), cap << 3);
    freePage(load<u32>(m, H_LIST_PAGE));
    store<u32>(m, nl, H_LIST);
    store<u32>(m, np, H_LIST_PAGE);
    store<u32>(m, cap << 1, H_LIST_CAP);
  }
  const e = <usize>load<u32>(m, H_LIST) + (<usize>n << 3);
  store<u32>(e, page);
  store<u32>(e, used, 4);
  store<u32>(m, n + 1, H_NPAGES);
}

let recAddr: u32 = 0;

// Appends a record and returns its linear address (its encoded address is left in `recAddr`).
function newRecord(m: usize, klen: u32, vlen: u32): usize {
  const size64 = (<u64>8 + klen + vlen + 7) & ~(<u64>7);
  if (size64 >= <u64>0x80000000) fail(ERR_OUT_OF_MEMORY);
  const size = <u32>size64;
  let page = load<u32>(m, H_CUR_PAGE);
  let used = load<u32>(m, H_CUR_USED);
  if (page == 0 || size > load<u32>(m, H_CUR_SIZE) - used) {
    if (size > PAGE_SIZE) {
      // A record larger than a page gets a page of its own, closed at once so that the next
      // record opens a fresh page after it and page order stays insertion order.
      page = allocatePage(size);
      pushPage(m, page, size);
      store<u32>(m, size, H_CUR_SIZE);
    } else {
      page = allocatePage(PAGE_SIZE);
      pushPage(m, page, 0);
      store<u32>(m, PAGE_SIZE, H_CUR_SIZE);
    }
    store<u32>(m, page, H_CUR_PAGE);
    store<u32>(m, pageAddress(page), H_CUR_BASE);
    used = 0;
  }
  const rec = <usize>load<u32>(m, H_CUR_BASE) + used;
  recAddr = encodeAddress(page, used);
  used += size;
  store<u32>(m, used, H_CUR_USED);
  store<u32>(<usize>load<u32>(m, H_LIST) + ((<usize>load<u32>(m, H_NPAGES) - 1) << 3), used, 4);
  store<u32>(rec, klen);
  store<u32>(rec, vlen, 4);
  store<u32>(m, load<u32>(m, H_KEYBYTES) + klen, H_KEYBYTES);
  return rec;
}

function growSlots(m: usize): void {
  const oldCap = load<u32>(m, H_MASK) + 1;
  if (oldCap >= MAX_SLOTS) fail(ERR_OUT_OF_MEMORY);
  const cap = oldCap << 1;
  const mask = cap - 1;
  const np = allocatePage(<u64>cap << 3);
  const slots = pageAddress(np);
  memory.fill(slots, 0, <usize>cap << 3);
  const old = <usize>load<u32>(m, H_SLOTS);
  for (let i: u32 = 0; i < oldCap; i++) {
    const s = load<u64>(old + (<usize>i << 3));
    if ((s >> 32) == 0) continue;
    let idx = <u32>s & mask;
    while (load<u64>(slots + (<usize>idx << 3)) != 0) idx = (idx + 1) & mask;
    store<u64>(slots + (<usize>idx << 3), s);
  }
  freePage(load<u32>(m, H_SLOTS_PAGE));
  store<u32>(m, slots, H_SLOTS);
  store<u32>(m, np, H_SLOTS_PAGE);
  store<u32>(m, mask, H_MASK);
  store<u32>(m, cap >> 1, H_GROW_AT);
}

// @ts-ignore: decorator
@inline function fillSlot(m: usize, idx: u32, h: u32): void {
  store<u64>(<usize>load<u32>(m, H_SLOTS) + (<usize>idx << 3), (<u64>recAddr << 32) | <u64>h);
  const count = load<u32>(m, H_COUNT) + 1;
  store<u32>(m, count, H_COUNT);
  if (count > load<u32>(m, H_GROW_AT)) growSlots(m);
}

// @ts-ignore: decorator
@inline function initState(v: usize, kind: u32, x: f64): void {
  if (kind == AGG_SUM || kind == AGG_MIN || kind == AGG_MAX) {
    store<f64>(v, x);
  } else if (kind == AGG_COUNT) {
    store<f64>(v, 1.0);
  } else if (kind == AGG_MEAN) {
    store<f64>(v, x);
    store<f64>(v, 1.0, 8);
  } else if (kind == AGG_STATS) {
    store<f64>(v, 1.0);
    store<f64>(v, x, 8);
    store<f64>(v, x, 16);
    store<f64>(v, x, 24);
  }
}

// min/max are wasm f64.min/f64.max: NaN wins and -0 < +0, exactly Math.min/Math.max.
// @ts-ignore: decorator
@inline function updateState(v: usize, kind: u32, x: f64): void {
  if (kind == AGG_SUM) {
    store<f64>(v, load<f64>(v) + x);
  } else if (kind == AGG_COUNT) {
    store<f64>(v, load<f64>(v) + 1.0);
  } else if (kind == AGG_MIN) {
    store<f64>(v, min<f64>(load<f64>(v), x));
  } else if (kind == AGG_MAX) {
    store<f64>(v, max<f64>(load<f64>(v), x));
  } else if (kind == AGG_MEAN) {
    store<f64>(v, load<f64>(v) + x);
    store<f64>(v, load<f64>(v, 8) + 1.0, 8);
  } else if (kind == AGG_STATS) {
    store<f64>(v, load<f64>(v) + 1.0);
    store<f64>(v, load<f64>(v, 8) + x, 8);
    store<f64>(v, min<f64>(load<f64>(v, 16), x), 16);
    store<f64>(v, max<f64>(load<f64>(v, 24), x), 24);
  }
}

// @ts-ignore: decorator
@inline function mergeState(v: usize, kind: u32, s: usize): void {
  if (kind == AGG_SUM || kind == AGG_COUNT) {
    store<f64>(v, load<f64>(v) + load<f64>(s));
  } else if (kind == AGG_MIN) {
    store<f64>(v, min<f64>(load<f64>(v), load<f64>(s)));
  } else if (kind == AGG_MAX) {
    store<f64>(v, max<f64>(load<f64>(v), load<f64>(s)));
  } else if (kind == AGG_MEAN) {
    store<f64>(v, load<f64>(v) + load<f64>(s));
    store<f64>(v, load<f64>(v, 8) + load<f64>(s, 8), 8);
  } else if (kind == AGG_STATS) {
    store<f64>(v, load<f64>(v) + load<f64>(s));
    store<f64>(v, load<f64>(v, 8) + load<f64>(s, 8), 8);
    store<f64>(v, min<f64>(load<f64>(v, 16), load<f64>(s, 16)), 16);
    store<f64>(v, max<f64>(load<f64>(v, 24), load<f64>(s, 24)), 24);
  }
}

// Same key for -0 and +0 and for every NaN, as a JS Map sees them (SameValueZero).
// @ts-ignore: decorator
@inline export function normF64Bits(k: u64): u64 {
  const x = reinterpret<f64>(k);
  if (x != x) return 0x7ff8000000000000;
  if (x == 0) return 0;
  return k;
}

// ---- 8-byte keys: inline table --------------------------------------------------------------
//
// Aggregations over i64/f64 keys keep keys and states in the table itself: a row then costs one
// cache miss instead of two (slot, then record), which is most of the time once the table
// outgrows the caches. Entries come in buckets of four, [4 keys ^ KEY_FLIP][4 states], 64 bytes
// (one cache line) for one-f64 states; a key word of zero is an empty entry. A row compares its
// key with the four keys of its home bucket at once (SIMD), so the only branch is "found in the
// home bucket", which at load ≤ 0.5 is nearly always true and so well predicted; probing keys one
// by one mispredicts on every row whose key is not in its home slot (measured on D1, 1000 keys
// all in L1: 90 ms of kernel time per 10M rows one by one, 72 ms bucketed). Buckets fill in entry
// order and a full one spills into the next (linear probing over buckets).
// An order array holds, per key in first-occurrence order, full hash << 32 | entry. Inserts append
// to it (sequential writes, no cache miss), growth walks it to re-place every entry from its
// stored hash (no key is rehashed) and rewrites the entry numbers, and the output walks it, so
// rows come out in first-occurrence order, the order a JS Map gives. The one key that flips to
// zero (i64 min; a normalised f64 key is never -0) is told apart from an empty entry by
// H_ZERO_SLOT (its entry + 1, or 0).
// AGG_RAW maps hand out value addresses that must survive growth, so they keep using records.
const KEY_FLIP: u64 = 0x8000000000000000;

// Tables bigger than this (entries) no longer sit in L2; rows then go through in groups.
const BIG_TABLE_MASK: u32 = (1 << 16) - 1;
const GROUP: u32 = 64;
const groupHashes = memory.data(<i32>(GROUP * 4), 16);
// Loads whose only purpose is to pull a line into cache are folded into this so they stay live.
export let touched: u32 = 0;

// @ts-ignore: decorator
@inline function bucketBytes(vw: u32): u32 {
  return 32 + (vw << 2);
}

function inlineNew(m: usize, cap: u32): void {
  store<u32>(m, 1, H_INLINE);
  // The order array holds a u64 (hash << 32 | entry) per key.
  slotTableNew(m, cap, <u64>(cap >> 2) * bucketBytes(load<u32>(m, H_VW)), ((<u64>cap >> 1) + 1) << 3);
}

/**
 * Zeroed slots starting on a cache line, and the append-only order array, for `cap` entries.
 * Growth runs once the count passes cap / 2, after that key's order entry has been appended.
 */
function slotTableNew(m: usize, cap: u32, slotBytes: u64, orderBytes: u64): void {
  // 64 bytes more, to start the slots on a cache line.
  const sp = allocatePage(slotBytes + 64);
  const slots = (pageAddress(sp) + 63) & ~(<usize>63);
  memory.fill(slots, 0, <usize>slotBytes);
  const op = allocatePage(orderBytes);
  store<u32>(m, slots, H_SLOTS);
  store<u32>(m, sp, H_SLOTS_PAGE);
  store<u32>(m, pageAddress(op), H_ORDER);
  store<u32>(m, op, H_ORDER_PAGE);
  store<u32>(m, cap - 1, H_MASK);
  store<u32>(m, cap >> 1, H_GROW_AT);
}

// @ts-ignore: decorator
@inline function keyAt(slots: usize, entry: u32, bb: u32): usize {
  return slots + <usize>(entry >> 2) * bb + ((<usize>entry & 3) << 3);
}

// @ts-ignore: decorator
@inline function stateAt(slots: usize, entry: u32, bb: u32, vw: u32): usize {
  return slots + <usize>(entry >> 2) * bb + 32 + (<usize>entry & 3) * vw;
}

function inlineGrow(m: usize): void {
  const oldCap = load<u32>(m, H_MASK) + 1;
  if (oldCap >= MAX_SLOTS) fail(ERR_OUT_OF_MEMORY);
  const vw = load<u32>(m, H_VW);
  const bb = bucketBytes(vw);
  const count = load<u32>(m, H_COUNT);
  const oldSlots = <usize>load<u32>(m, H_SLOTS);
  const oldOrder = <usize>load<u32>(m, H_ORDER);
  const oldSp = load<u32>(m, H_SLOTS_PAGE);
  const oldOp = load<u32>(m, H_ORDER_PAGE);
  inlineNew(m, oldCap << 1);
  const slots = <usize>load<u32>(m, H_SLOTS);
  const order = <usize>load<u32>(m, H_ORDER);
  const emask = load<u32>(m, H_MASK);
  let zero: u32 = 0;
  let t: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    // Entries move in first-occurrence order, so both tables are read at random: touching a
    // group's old and new buckets ahead lets those misses overlap.
    if ((i & (GROUP - 1)) == 0) {
      const end = min(count, i + GROUP);
      for (let j = i; j < end; j++) {
        const w = load<u64>(oldOrder + (<usize>j << 3));
        t ^= load<u32>(keyAt(oldSlots, <u32>w, bb)) ^ load<u32>(slots + <usize>(<u32>(w >> 32) & (emask >> 2)) * bb);
      }
    }
    const w = load<u64>(oldOrder + (<usize>i << 3));
    const h = <u32>(w >> 32);
    const from = <u32>w;
    const key = load<u64>(keyAt(oldSlots, from, bb));
    let e = (h & (emask >> 2)) << 2;
    while (load<u64>(keyAt(slots, e, bb)) != 0 || e + 1 == zero) e = (e + 1) & emask;
    if (key == 0) zero = e + 1;
    store<u64>(keyAt(slots, e, bb), key);
    const src = stateAt(oldSlots, from, bb, vw);
    const dst = stateAt(slots, e, bb, vw);
    for (let o: u32 = 0; o < vw; o += 8) store<u64>(dst + o, load<u64>(src + o));
    store<u64>(order + (<usize>i << 3), (w & 0xffffffff00000000) | <u64>e);
  }
  touched ^= t;
  store<u32>(m, zero, H_ZERO_SLOT);
  freePage(oldOp);
  freePage(oldSp);
}

// State address of normalised key k (hash h), or 0; with insert, an absent key is added with a
// zero state (empty entries are always zero). Sets wasNew.
function inlineFind(m: usize, k: u64, h: u32, insert: bool): usize {
  const ks = k ^ KEY_FLIP;
  const vw = load<u32>(m, H_VW);
  const bb = bucketBytes(vw);
  const slots = <usize>load<u32>(m, H_SLOTS);
  const emask = load<u32>(m, H_MASK);
  const zero = load<u32>(m, H_ZERO_SLOT);
  let e = (h & (emask >> 2)) << 2;
  while (true) {
    const sk = load<u64>(keyAt(slots, e, bb));
    if (sk == 0 && e + 1 != zero) break;
    if (sk == ks) {
      wasNew = false;
      return stateAt(slots, e, bb, vw);
    }
    e = (e + 1) & emask;
  }
  if (!insert) return 0;
  wasNew = true;
  store<u64>(keyAt(slots, e, bb), ks);
  if (ks == 0) store<u32>(m, e + 1, H_ZERO_SLOT);
  const n = load<u32>(m, H_COUNT);
  store<u64>(<usize>load<u32>(m, H_ORDER) + (<usize>n << 3), (<u64>h << 32) | <u64>e);
  store<u32>(m, n + 1, H_COUNT);
  if (n + 1 > load<u32>(m, H_GROW_AT)) {
    inlineGrow(m);
    const v = inlineFind(m, k, h, false);
    wasNew = true;
    return v;
  }
  return stateAt(slots, e, bb, vw);
}

// A row whose key is not in its home bucket: an insert, a spilled key, or the key that flips to
// zero. Returns true (the table may have moved).
function inlineRowSlow(m: usize, k: u64, h: u32, x: f64, kind: u32): bool {
  const v = inlineFind(m, k, h, true);
  if (wasNew) initState(v, kind, x);
  else updateState(v, kind, x);
  return true;
}

// One row against the table; returns true when the table may have moved.
// @ts-ignore: decorator
@inline function inlineRow(m: usize, slots: usize, bmask: u32, k: u64, h: u32, x: f64, kind: u32): bool {
  const vw = stateWidth(kind, 0);
  const ks = k ^ KEY_FLIP;
  const b = slots + <usize>(h & bmask) * bucketBytes(vw);
  const kv = i64x2.splat(ks);
  const hit = i64x2.bitmask(i64x2.eq(v128.load(b), kv)) | (i64x2.bitmask(i64x2.eq(v128.load(b, 16), kv)) << 2);
  // ks == 0 would match empty entries: that key always takes the careful path.
  if (hit != 0 && ks != 0) {
    updateState(b + 32 + <usize>ctz(hit) * vw, kind, x);
    return false;
  }
  return inlineRowSlow(m, k, h, x, kind);
}

// @ts-ignore: decorator
@inline function aggI64Loop(m: usize, keys: usize, vals: usize, n: u32, kind: u32, f64keys: bool): void {
  const bb = bucketBytes(stateWidth(kind, 0));
  let slots = <usize>load<u32>(m, H_SLOTS);
  let mask = load<u32>(m, H_MASK);
  let i: u32 = 0;
  while (i < n) {
    if (mask <= BIG_TABLE_MASK) {
      // Small table: everything is in cache and the plain loop is fastest, until it outgrows that.
      while (i < n) {
        let k = load<u64>(keys + (<usize>i << 3));
        if (f64keys) k = normF64Bits(k);
        const x = load<f64>(vals + (<usize>i << 3));
        i++;
        if (inlineRow(m, slots, mask >> 2, k, hashI64(k), x, kind)) {
          slots = <usize>load<u32>(m, H_SLOTS);
          mask = load<u32>(m, H_MASK);
          if (mask > BIG_TABLE_MASK) break;
        }
      }
      continue;
    }
    // Large table: a row's bucket is a cache (and TLB) miss. Hashing a group, touching its buckets
    // in a loop that does nothing else, then probing lets those misses overlap instead of queueing
    // one behind the other (wasm has no prefetch instruction; loads whose values are discarded do
    // the job). On D2 (1M keys) kernel time went from 350 to 260 ms; hashing inside the touch loop,
    // as before, gained nothing: the reorder window then holds too few rows to overlap many misses.
    const g = min(GROUP, n - i);
    const bmask = mask >> 2;
    for (let j: u32 = 0; j < g; j++) {
      let k = load<u64>(keys + ((<usize>i + j) << 3));
      if (f64keys) k = normF64Bits(k);
      store<u32>(groupHashes + (<usize>j << 2), hashI64(k));
    }
    // Nothing but the loads here: the fewer instructions per row, the more misses in flight.
    let t: u32 = 0;
    for (let j: u32 = 0; j < g; j++) t ^= load<u32>(slots + <usize>(load<u32>(groupHashes + (<usize>j << 2)) & bmask) * bb);
    touched ^= t;
    for (let j: u32 = 0; j < g; j++) {
      let k = load<u64>(keys + ((<usize>i + j) << 3));
      if (f64keys) k = normF64Bits(k);
      const x = load<f64>(vals + ((<usize>i + j) << 3));
      if (inlineRow(m, slots, bmask, k, load<u32>(groupHashes + (<usize>j << 2)), x, kind)) {
        slots = <usize>load<u32>(m, H_SLOTS);
        mask = load<u32>(m, H_MASK);
      }
    }
    i += g;
  }
}

// One function per aggregate and key kind, not one that inlines all twelve loops: V8 allocates
// registers per function, and in the huge one it spilled inside the hot loop (D1 kernel time 72 ms
// per 10M rows there, 57 ms split). Binaryen does not inline functions that contain loops.
function aggSumI(m: usize, keys: usize, vals: usize, n: u32): void {
  aggI64Loop(m, keys, vals, n, AGG_SUM, false);
}
function aggSumF(m: usize, keys: usize, vals: usize, n: u32): void {
  aggI64Loop(m, keys, vals, n, AGG_SUM, true);
}
function aggCountI(m: usize, keys: usize, vals: usize, n: u32): void {
  aggI64Loop(m, keys, vals, n, AGG_COUNT, false);
}
function aggCountF(m: usize, keys: usize, vals: usize, n: u32): void {
  aggI64Loop(m, keys, vals, n, AGG_COUNT, true);
}
function aggMinI(m: usize, keys: usize, vals: usize, n: u32): void {
  aggI64Loop(m, keys, vals, n, AGG_MIN, false);
}
function aggMinF(m: usize, keys: usize, vals: usize, n: u32): void {
  aggI64Loop(m, keys, vals, n, AGG_MIN, true);
}
function aggMaxI(m: usize, keys: usize, vals: usize, n: u32): void {
  aggI64Loop(m, keys, vals, n, AGG_MAX, false);
}
function aggMaxF(m: usize, keys: usize, vals: usize, n: u32): void {
  aggI64Loop(m, keys, vals, n, AGG_MAX, true);
}
function aggMeanI(m: usize, keys: usize, vals: usize, n: u32): void {
  aggI64Loop(m, keys, vals, n, AGG_MEAN, false);
}
function aggMeanF(m: usize, keys: usize, vals: usize, n: u32): void {
  aggI64Loop(m, keys, vals, n, AGG_MEAN, true);
}
function aggStatsI(m: usize, keys: usize, vals: usize, n: u32): void {
  aggI64Loop(m, keys, vals, n, AGG_STATS, false);
}
function aggStatsF(m: usize, keys: usize, vals: usize, n: u32): void {
  aggI64Loop(m, keys, vals, n, AGG_STATS, true);
}

/** Aggregates n rows of 8-byte keys (i64, or f64 when the map's key kind is F64) and f64 values. */
export function aggI64(m: usize, keys: usize, vals: usize, n: u32): void {
  const kind = load<u32>(m, H_KIND);
  if (load<u32>(m, H_INLINE) == 0) fail(ERR_BAD_INPUT);
  if (load<u32>(m, H_KEYKIND) == KEY_F64) {
    if (kind == AGG_SUM) aggSumF(m, keys, vals, n);
    else if (kind == AGG_COUNT) aggCountF(m, keys, vals, n);
    else if (kind == AGG_MIN) aggMinF(m, keys, vals, n);
    else if (kind == AGG_MAX) aggMaxF(m, keys, vals, n);
    else if (kind == AGG_MEAN) aggMeanF(m, keys, vals, n);
    else if (kind == AGG_STATS) aggStatsF(m, keys, vals, n);
    else fail(ERR_BAD_INPUT);
  } else if (load<u32>(m, H_KEYKIND) == KEY_I64) {
    if (kind == AGG_SUM) aggSumI(m, keys, vals, n);
    else if (kind == AGG_COUNT) aggCountI(m, keys, vals, n);
    else if (kind == AGG_MIN) aggMinI(m, keys, vals, n);
    else if (kind == AGG_MAX) aggMaxI(m, keys, vals, n);
    else if (kind == AGG_MEAN) aggMeanI(m, keys, vals, n);
    else if (kind == AGG_STATS) aggStatsI(m, keys, vals, n);
    else fail(ERR_BAD_INPUT);
  } else fail(ERR_BAD_INPUT);
}

// Writes an inline table's rows in first-occurrence order (the order array's):
// states (vw bytes each) at sp and, when kp != 0, keys at kp; with text != 0, the key bytes plus
// a space (9 bytes each) at text instead.
function inlineOutput(m: usize, sp: usize, kp: usize, text: usize): void {
  const vw = load<u32>(m, H_VW);
  const bb = bucketBytes(vw);
  const slots = <usize>load<u32>(m, H_SLOTS);
  const order = <usize>load<u32>(m, H_ORDER);
  const rows = load<u32>(m, H_COUNT);
  const outW: u32 = text != 0 ? 8 : vw;
  for (let r: u32 = 0; r < rows; r++) {
    const e = <u32>load<u64>(order + (<usize>r << 3));
    const key = load<u64>(keyAt(slots, e, bb)) ^ KEY_FLIP;
    const from = stateAt(slots, e, bb, vw);
    const to = sp + <usize>r * outW;
    for (let o: u32 = 0; o < outW; o += 8) store<u64>(to + o, load<u64>(from + o));
    if (text != 0) {
      store<u64>(text + <usize>r * 9, key);
      store<u8>(text + <usize>r * 9, 0x20, 8);
    } else {
      store<u64>(kp + (<usize>r << 3), key);
    }
  }
}

// ---- byte keys ------------------------------------------------------------------------------

function insertBytes(m: usize, idx: u32, h: u32, kptr: usize, klen: u32): usize {
  const vw = load<u32>(m, H_VW);
  const rec = newRecord(m, klen, vw);
  memory.copy(rec + 8, kptr, klen);
  fillSlot(m, idx, h);
  return rec + 8 + klen;
}

/** Finds or inserts a byte key; returns the value address and sets `wasNew`. */
// @ts-ignore: decorator
@inline export function upsertBytes(m: usize, kptr: usize, klen: u32, h: u32): usize {
  const slots = <usize>load<u32>(m, H_SLOTS);
  const mask = load<u32>(m, H_MASK);
  let idx = h & mask;
  while (true) {
    const s = load<u64>(slots + (<usize>idx << 3));
    const addr = <u32>(s >> 32);
    if (addr == 0) {
      wasNew = true;
      return insertBytes(m, idx, h, kptr, klen);
    }
    if (<u32>s == h) {
      const rec = decodeAddress(addr);
      if (load<u32>(rec) == klen && bytesEqual(rec + 8, kptr, klen)) {
        wasNew = false;
        return rec + 8 + klen;
      }
    }
    idx = (idx + 1) & mask;
  }
  return 0;
}

// @ts-ignore: decorator
@inline function aggBytesLoop(m: usize, bytes: usize, offsets: usize, vals: usize, n: u32, kind: u32): void {
  let start = load<u32>(offsets);
  for (let i: u32 = 0; i < n; i++) {
    const end = load<u32>(offsets + ((<usize>i + 1) << 2));
    const kptr = bytes + start;
    const klen = end - start;
    start = end;
    const x = load<f64>(vals + (<usize>i << 3));
    const v = upsertBytes(m, kptr, klen, hashBytes(kptr, klen));
    if (wasNew) initState(v, kind, x);
    else updateState(v, kind, x);
  }
}

/**
 * Aggregates n rows of byte keys: key i is bytes[offsets[i] - offsets[0], offsets[i+1] - offsets[0])
 * (offsets are rebased so that a host can pass a slice of a larger offsets array unchanged).
 */
export function aggBytes(m: usize, bytes: usize, offsets: usize, vals: usize, n: u32): void {
  if (load<u32>(m, H_KEYKIND) != KEY_BYTES || load<u32>(m, H_WORDS) != 0) fail(ERR_BAD_INPUT);
  const base = bytes - <usize>load<u32>(offsets);
  const kind = load<u32>(m, H_KIND);
  if (kind == AGG_SUM) aggBytesLoop(m, base, offsets, vals, n, AGG_SUM);
  else if (kind == AGG_COUNT) aggBytesLoop(m, base, offsets, vals, n, AGG_COUNT);
  else if (kind == AGG_MIN) aggBytesLoop(m, base, offsets, vals, n, AGG_MIN);
  else if (kind == AGG_MAX) aggBytesLoop(m, base, offsets, vals, n, AGG_MAX);
  else if (kind == AGG_MEAN) aggBytesLoop(m, base, offsets, vals, n, AGG_MEAN);
  else if (kind == AGG_STATS) aggBytesLoop(m, base, offsets, vals, n, AGG_STATS);
  else fail(ERR_BAD_INPUT);
}

/** Plain map access for AGG_RAW maps: returns the value address (zeroed when new). */
export function mapUpsert(m: usize, kptr: usize, klen: u32): usize {
  if (load<u32>(m, H_WORDS) != 0) fail(ERR_BAD_INPUT);
  const keyKind = load<u32>(m, H_KEYKIND);
  if (keyKind != KEY_BYTES && klen != 8) fail(ERR_BAD_INPUT);
  let k: u64 = 0;
  if (keyKind == KEY_I64) k = load<u64>(kptr);
  else if (keyKind == KEY_F64) k = normF64Bits(load<u64>(kptr));
  const h = keyKind == KEY_BYTES ? hashBytes(kptr, klen) : hashI64(k);
  if (load<u32>(m, H_INLINE) != 0) return inlineFind(m, k, h, true);
  if (keyKind != KEY_BYTES) {
    // 8-byte keys live in the same record format; reuse the byte path on the normalised key.
    store<u64>(scratchKey, k);
    kptr = scratchKey;
  }
  const v = upsertBytes(m, kptr, klen, h);
  if (wasNew && load<u32>(m, H_KIND) == AGG_RAW) memory.fill(v, 0, load<u32>(m, H_VW));
  return v;
}

/** Returns the value address of a key, or 0. */
export function mapFind(m: usize, kptr: usize, klen: u32): usize {
  if (load<u32>(m, H_WORDS) != 0) fail(ERR_BAD_INPUT);
  const keyKind = load<u32>(m, H_KEYKIND);
  if (keyKind != KEY_BYTES && klen != 8) return 0;
  let h: u32;
  if (keyKind == KEY_BYTES) {
    h = hashBytes(kptr, klen);
  } else {
    let k = load<u64>(kptr);
    if (keyKind == KEY_F64) k = normF64Bits(k);
    store<u64>(scratchKey, k);
    kptr = scratchKey;
    h = hashI64(k);
    if (load<u32>(m, H_INLINE) != 0) {
      return inlineFind(m, k, h, false);
    }
  }
  const slots = <usize>load<u32>(m, H_SLOTS);
  const mask = load<u32>(m, H_MASK);
  let idx = h & mask;
  while (true) {
    const s = load<u64>(slots + (<usize>idx << 3));
    const addr = <u32>(s >> 32);
    if (addr == 0) return 0;
    if (<u32>s == h) {
      const rec = decodeAddress(addr);
      if (load<u32>(rec) == klen && bytesEqual(rec + 8, kptr, klen)) return rec + 8 + klen;
    }
    idx = (idx + 1) & mask;
  }
  return 0;
}

const scratchKey = memory.data(16);

/**
 * Folds a batch produced by `mapOutput` (same key kind and aggregate) into the map: the reduce side
 * of a shuffle, or combining partial results.
 */
export function aggMerge(m: usize, batch: usize): void {
  if (load<u32>(m, H_WORDS) != 0) fail(ERR_BAD_INPUT);
  const keyKind = load<u32>(m, H_KEYKIND);
  const kind = load<u32>(m, H_KIND);
  const vw = load<u32>(m, H_VW);
  if (load<u32>(batch) != BATCH_MAGIC || <u32>load<u8>(batch, 5) != keyKind || <u32>load<u8>(batch, 6) != kind
    || (<u32>load<u8>(batch, 7)) << 3 != vw) fail(ERR_BAD_INPUT);
  const rows = load<u32>(batch, 8);
  const state = batch + BATCH_HEADER;
  const keys = state + <usize>rows * vw;
  const inline = load<u32>(m, H_INLINE) != 0;
  for (let i: u32 = 0; i < rows; i++) {
    let kptr: usize;
    let klen: u32;
    let h: u32;
    if (keyKind == KEY_BYTES) {
      const offs = keys;
      const kbytes = keys + ((<usize>rows + 1) << 2);
      const a = load<u32>(offs + (<usize>i << 2));
      kptr = kbytes + a;
      klen = load<u32>(offs + ((<usize>i + 1) << 2)) - a;
      h = hashBytes(kptr, klen);
    } else {
      kptr = keys + (<usize>i << 3);
      klen = 8;
      h = hashI64(load<u64>(kptr));
    }
    const s = state + <usize>i * vw;
    const v = inline ? inlineFind(m, load<u64>(kptr), h, true) : upsertBytes(m, kptr, klen, h);
    if (wasNew) memory.copy(v, s, vw);
    else if (kind == AGG_SUM) mergeState(v, AGG_SUM, s);
    else if (kind == AGG_COUNT) mergeState(v, AGG_COUNT, s);
    else if (kind == AGG_MIN) mergeState(v, AGG_MIN, s);
    else if (kind == AGG_MAX) mergeState(v, AGG_MAX, s);
    else if (kind == AGG_MEAN) mergeState(v, AGG_MEAN, s);
    else if (kind == AGG_STATS) mergeState(v, AGG_STATS, s);
    else fail(ERR_BAD_INPUT);
  }
}

// ---- output ---------------------------------------------------------------------------------

/**
 * Writes the map as a binary batch into a new page and returns the page number (`outLen` = bytes):
 *   0 magic u32 | 4 version u8 | 5 key kind u8 | 6 aggregate u8 | 7 state width in f64s u8
 *   8 rows u32  | 12 key bytes u32 | 16 state f64[rows * width]
 *   then 8-byte keys u64[rows], or byte keys as offsets u32[rows + 1] followed by the key bytes.
 * Rows are in page order (first occurrence). Little-endian, self-contained, ready to be a shuffle
 * block or a result.
 */
export function mapOutput(m: usize): u32 {
  const words = load<u32>(m, H_WORDS) != 0;
  const rows = load<u32>(m, H_COUNT);
  const vw = load<u32>(m, H_VW);
  const keyKind = load<u32>(m, H_KEYKIND);
  const inline = load<u32>(m, H_INLINE) != 0;
  const keyBytes = inline ? rows << 3 : load<u32>(m, H_KEYBYTES);
  const stateLen = <u64>rows * vw;
  let total = <u64>BATCH_HEADER + stateLen;
  if (keyKind == KEY_BYTES) total += ((<u64>rows + 1) << 2) + keyBytes;
  else total += <u64>rows << 3;
  if (total >= <u64>0x80000000) fail(ERR_OUT_OF_MEMORY);
  // 16 bytes more for a word table: short keys are copied 16 bytes at a time (see wordKeysOut).
  const op = allocatePage(words ? total + 16 : total);
  const out = pageAddress(op);
  store<u32>(out, BATCH_MAGIC);
  store<u8>(out, 1, 4);
  store<u8>(out, <u8>keyKind, 5);
  store<u8>(out, <u8>load<u32>(m, H_KIND), 6);
  store<u8>(out, <u8>(vw >> 3), 7);
  store<u32>(out, rows, 8);
  store<u32>(out, keyBytes, 12);
  let sp = out + BATCH_HEADER;
  let kp = sp + <usize>stateLen;
  let bp = kp + ((<usize>rows + 1) << 2);
  if (words) {
    wordOutput(m, sp, kp, bp);
    outLen = <u32>total;
    return op;
  }
  if (inline) {
    inlineOutput(m, sp, kp, 0);
    outLen = <u32>total;
    return op;
  }
  let koff: u32 = 0;
  const list = <usize>load<u32>(m, H_LIST);
  const np = load<u32>(m, H_NPAGES);
  for (let p: u32 = 0; p < np; p++) {
    const base = pageAddress(load<u32>(list + (<usize>p << 3)));
    const used = load<u32>(list + (<usize>p << 3), 4);
    let off: u32 = 0;
    while (off < used) {
      const rec = base + off;
      const klen = load<u32>(rec);
      const vlen = load<u32>(rec, 4);
      memory.copy(sp, rec + 8 + klen, vlen);
      sp += vlen;
      if (keyKind == KEY_BYTES) {
        store<u32>(kp, koff);
        kp += 4;
        memory.copy(bp + koff, rec + 8, klen);
        koff += klen;
      } else {
        store<u64>(kp, load<u64>(rec, 8));
        kp += 8;
      }
      off += (8 + klen + vlen + 7) & ~7;
    }
  }
  if (keyKind == KEY_BYTES) store<u32>(kp, koff);
  outLen = <u32>total;
  return op;
}

/**
 * Word-count output of a word table: 0 magic u32 | 4 rows u32 | 8 text length u32 | 12 pad |
 * 16 counts f64[rows], then every key followed by one space. Keys are words, which never contain an
 * ASCII space, so the host decodes all of them with a single TextDecoder call and one split.
 */
export function mapOutputText(m: usize): u32 {
  if (load<u32>(m, H_WORDS) == 0) fail(ERR_BAD_INPUT);
  return wordOutputText(m);
}

export function pageCountOf(m: usize): u32 {
  return load<u32>(m, H_NPAGES);
}

// ---- word-count table -----------------------------------------------------------------------
//
// A COUNT map over words that keeps short keys in the slot itself. In the byte map every word
// costs two dependent cache misses (slot, then record); the tail of a 100k-word vocabulary sits in
// L3, so those misses were most of word_count's time. Slots are 32 bytes, half a cache line:
//   0 key bytes 0-7 | 8 key bytes 8-15 (zero padded) | 16 hash u32 | 20 length u32 | 24 count f64
// A key longer than 16 bytes lives in a record page as in the byte map, and bytes 8-11 of its slot
// hold the record's encoded address. Length 0 marks an empty slot (words are never empty). Hash and
// length compare as one u64, and a short key as two more, so a probe never leaves its slot.
// An order array of slot numbers, one per key in first-occurrence order, is appended to by inserts
// (sequential, no cache miss) and rewritten by growth, which re-places slots from their stored
// hashes; the output walks it, so words come out in first-occurrence order, as the byte map's do.
const W_SLOT_SHIFT: u32 = 5;
export const W_INLINE: u32 = 16;

/** `kind` is AGG_COUNT or AGG_SUM: counting words and summing their 1s keep the same state. */
export function wordMapNew(capacityHint: u32, kind: u32): usize {
  if (kind != AGG_COUNT && kind != AGG_SUM) fail(ERR_BAD_INPUT);
  const self = allocatePage(HEADER_SIZE);
  const m = pageAddress(self);
  memory.fill(m, 0, HEADER_SIZE);
  store<u32>(m, self, H_SELF);
  store<u32>(m, KEY_BYTES, H_KEYKIND);
  store<u32>(m, kind, H_KIND);
  store<u32>(m, 8, H_VW);
  store<u32>(m, 1, H_WORDS);
  let cap: u32 = 64;
  const want = capacityHint > (MAX_SLOTS >> 1) ? MAX_SLOTS : capacityHint << 1;
  while (cap < want) cap <<= 1;
  wordTableNew(m, cap);
  const lp = allocatePage(4096);
  store<u32>(m, pageAddress(lp), H_LIST);
  store<u32>(m, lp, H_LIST_PAGE);
  store<u32>(m, 4096 >> 3, H_LIST_CAP);
  return m;
}

function wordTableNew(m: usize, cap: u32): void {
  // The order array holds a u32 slot number per key.
  slotTableNew(m, cap, <u64>cap << W_SLOT_SHIFT, ((<u64>cap >> 1) + 1) << 2);
}

function wordGrow(m: usize): void {
  const oldCap = load<u32>(m, H_MASK) + 1;
  if (oldCap >= MAX_SLOTS) fail(ERR_OUT_OF_MEMORY);
  const count = load<u32>(m, H_COUNT);
  const oldSlots = <usize>load<u32>(m, H_SLOTS);
  const oldOrder = <usize>load<u32>(m, H_ORDER);
  const oldSp = load<u32>(m, H_SLOTS_PAGE);
  const oldOp = load<u32>(m, H_ORDER_PAGE);
  wordTableNew(m, oldCap << 1);
  const slots = <usize>load<u32>(m, H_SLOTS);
  const order = <usize>load<u32>(m, H_ORDER);
  const mask = load<u32>(m, H_MASK);
  for (let i: u32 = 0; i < count; i++) {
    const from = oldSlots + (<usize>load<u32>(oldOrder + (<usize>i << 2)) << W_SLOT_SHIFT);
    let idx = load<u32>(from, 16) & mask;
    while (load<u32>(slots + (<usize>idx << W_SLOT_SHIFT), 20) != 0) idx = (idx + 1) & mask;
    const to = slots + (<usize>idx << W_SLOT_SHIFT);
    v128.store(to, v128.load(from));
    v128.store(to, v128.load(from, 16), 16);
    store<u32>(order + (<usize>i << 2), idx);
  }
  freePage(oldOp);
  freePage(oldSp);
}

// Fills empty slot idx with a count of 1; returns true when that grew (moved) the table.
function wordClaim(m: usize, idx: u32, k0: u64, k1: u64, meta: u64): bool {
  const s = <usize>load<u32>(m, H_SLOTS) + (<usize>idx << W_SLOT_SHIFT);
  store<u64>(s, k0);
  store<u64>(s, k1, 8);
  store<u64>(s, meta, 16);
  store<f64>(s, 1.0, 24);
  const n = load<u32>(m, H_COUNT);
  store<u32>(<usize>load<u32>(m, H_ORDER) + (<usize>n << 2), idx);
  store<u32>(m, n + 1, H_COUNT);
  store<u32>(m, load<u32>(m, H_KEYBYTES) + <u32>(meta >> 32), H_KEYBYTES);
  if (n + 1 > load<u32>(m, H_GROW_AT)) {
    wordGrow(m);
    return true;
  }
  return false;
}

export function wordSlots(m: usize): usize {
  return <usize>load<u32>(m, H_SLOTS);
}

export function wordMask(m: usize): u32 {
  return load<u32>(m, H_MASK);
}

export function isWordMap(m: usize): bool {
  return load<u32>(m, H_WORDS) != 0;
}

/**
 * Counts one occurrence of a word of at most W_INLINE bytes, given as its zero-padded bytes k0, k1,
 * its length n and hash h. Returns true when the table moved (slots and mask must be reloaded).
 */
// @ts-ignore: decorator
@inline export function wordAddShort(m: usize, slots: usize, mask: u32, k0: u64, k1: u64, n: u32, h: u32): bool {
  const meta = (<u64>n << 32) | <u64>h;
  let idx = h & mask;
  let grew = false;
  while (true) {
    const s = slots + (<usize>idx << W_SLOT_SHIFT);
    const sm = load<u64>(s, 16);
    if (((sm ^ meta) | (load<u64>(s) ^ k0) | (load<u64>(s, 8) ^ k1)) == 0) {
      store<f64>(s, load<f64>(s, 24) + 1.0, 24);
      break;
    }
    if ((sm >> 32) == 0) {
      grew = wordClaim(m, idx, k0, k1, meta);
      break;
    }
    idx = (idx + 1) & mask;
  }
  return grew;
}

/** Counts one occurrence of a word longer than W_INLINE bytes; returns true (the table may move). */
export function wordAddLong(m: usize, p: usize, n: u32, h: u32): bool {
  const slots = <usize>load<u32>(m, H_SLOTS);
  const mask = load<u32>(m, H_MASK);
  const meta = (<u64>n << 32) | <u64>h;
  let idx = h & mask;
  while (true) {
    const s = slots + (<usize>idx << W_SLOT_SHIFT);
    const sm = load<u64>(s, 16);
    if (sm == meta && bytesEqual(decodeAddress(load<u32>(s, 8)) + 8, p, n)) {
      store<f64>(s, load<f64>(s, 24) + 1.0, 24);
      return true;
    }
    if ((sm >> 32) == 0) break;
    idx = (idx + 1) & mask;
  }
  const rec = newRecord(m, n, 0);
  memory.copy(rec + 8, p, n);
  // newRecord counted the key bytes already; wordClaim counts them again.
  store<u32>(m, load<u32>(m, H_KEYBYTES) - n, H_KEYBYTES);
  wordClaim(m, idx, load<u64>(p), <u64>recAddr, meta);
  return true;
}

// mapOutput's rows for a word table, in first-occurrence order: counts at sp, key offsets at kp,
// key bytes at bp (the page has 16 bytes of slack past the last key for the v128 copies).
function wordOutput(m: usize, sp: usize, kp: usize, bp: usize): void {
  const rows = load<u32>(m, H_COUNT);
  const slots = <usize>load<u32>(m, H_SLOTS);
  const order = <usize>load<u32>(m, H_ORDER);
  let koff: u32 = 0;
  for (let r: u32 = 0; r < rows; r++) {
    const s = slots + (<usize>load<u32>(order + (<usize>r << 2)) << W_SLOT_SHIFT);
    const klen = load<u32>(s, 20);
    store<f64>(sp + (<usize>r << 3), load<f64>(s, 24));
    store<u32>(kp + (<usize>r << 2), koff);
    if (klen <= W_INLINE) v128.store(bp + koff, v128.load(s));
    else memory.copy(bp + koff, decodeAddress(load<u32>(s, 8)) + 8, klen);
    koff += klen;
  }
  store<u32>(kp + (<usize>rows << 2), koff);
}

// mapOutputText for a word table: the same rows, keys joined by spaces.
function wordOutputText(m: usize): u32 {
  const rows = load<u32>(m, H_COUNT);
  const keyBytes = load<u32>(m, H_KEYBYTES);
  const textLen = <u64>keyBytes + rows;
  const total = <u64>16 + (<u64>rows << 3) + textLen;
  if (total >= <u64>0x80000000) fail(ERR_OUT_OF_MEMORY);
  // 16 bytes more: short keys are copied 16 bytes at a time and the next key overwrites the excess.
  const op = allocatePage(total + 16);
  const out = pageAddress(op);
  store<u32>(out, TEXT_MAGIC);
  store<u32>(out, rows, 4);
  store<u32>(out, <u32>textLen, 8);
  store<u32>(out, 0, 12);
  let cp = out + 16;
  let tp = cp + (<usize>rows << 3);
  const slots = <usize>load<u32>(m, H_SLOTS);
  const order = <usize>load<u32>(m, H_ORDER);
  for (let r: u32 = 0; r < rows; r++) {
    const s = slots + (<usize>load<u32>(order + (<usize>r << 2)) << W_SLOT_SHIFT);
    const klen = load<u32>(s, 20);
    store<f64>(cp, load<f64>(s, 24));
    cp += 8;
    if (klen <= W_INLINE) v128.store(tp, v128.load(s));
    else memory.copy(tp, decodeAddress(load<u32>(s, 8)) + 8, klen);
    tp += klen;
    store<u8>(tp, 0x20);
    tp++;
  }
  outLen = <u32>total;
  return op;
}
