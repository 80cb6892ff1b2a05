// Flint's WebAssembly operators. Everything works on raw linear memory through the page allocator
// in mem.ts; there is no GC and the module imports nothing (release build). Pointers cross the
// boundary as u32 (the host reads them with `>>> 0`); a failure traps after setting `lastError`.
import * as mem from './mem';
import * as hash from './hash';
import * as map from './map';
import * as scan from './scan';
import * as sort from './sort';
import * as stats from './stats';

export function abi_version(): u32 {
  return 1;
}

// ---- allocator ----
export function page_alloc(size: u32): u32 {
  return mem.allocatePage(<u64>size);
}
export function page_free(page: u32): void {
  mem.freePage(page);
}
export function page_base(page: u32): u32 {
  return <u32>mem.pageAddress(page);
}
export function page_size(page: u32): u32 {
  return mem.pageBytes(page);
}
export function reset_task(): void {
  mem.resetTask();
}
export function heap_used(): u32 {
  return mem.heapUsed();
}
export function live_pages(): u32 {
  return mem.livePageCount();
}
export function last_error(): u32 {
  return mem.lastError;
}
/** Caps linear memory (bytes, as f64 so values ≥ 2^31 need no BigInt); growth past it fails. */
export function set_memory_limit(bytes: f64): void {
  mem.setMemoryLimit(<u64>bytes);
}
// Reading the cache-touching accumulators here keeps the optimizer from deleting those loads.
export function touched_sink(): u32 {
  return map.touched ^ scan.touched;
}
export function set_hash_mask(mask: u32): void {
  hash.setHashMask(mask);
}

// ---- BytesToBytesMap and hash aggregation ----
export function map_new(keyKind: u32, kind: u32, capacityHint: u32, rawWidth: u32): u32 {
  return <u32>map.mapNew(keyKind, kind, capacityHint, rawWidth);
}
/** A COUNT (or SUM of 1s) map over words with short keys inline (map.ts, "word-count table"):
 * word_count feeds it; map_output, map_output_text, map_count, map_capacity, map_pages and map_free
 * accept it. */
export function word_map_new(capacityHint: u32, kind: u32): u32 {
  return <u32>map.wordMapNew(capacityHint, kind);
}
export function map_free(m: u32): void {
  map.mapFree(m);
}
export function map_count(m: u32): u32 {
  return map.mapCount(m);
}
export function map_capacity(m: u32): u32 {
  return map.mapCapacity(m);
}
/** Bytes of linear memory the map holds (f64: it may pass 2 GiB). */
export function map_bytes(m: u32): f64 {
  return <f64>map.mapBytes(m);
}
export function map_pages(m: u32): u32 {
  return map.mapPages(m);
}
export function map_upsert(m: u32, key: u32, keyLen: u32): u32 {
  return <u32>map.mapUpsert(m, key, keyLen);
}
export function map_find(m: u32, key: u32, keyLen: u32): u32 {
  return <u32>map.mapFind(m, key, keyLen);
}
export function agg_i64(m: u32, keys: u32, values: u32, n: u32): void {
  map.aggI64(m, keys, values, n);
}
export function agg_bytes(m: u32, bytes: u32, offsets: u32, values: u32, n: u32): void {
  map.aggBytes(m, bytes, offsets, values, n);
}
export function agg_merge(m: u32, batch: u32): void {
  map.aggMerge(m, batch);
}
/** Returns the page holding the output batch; its length is `out_len()`. */
export function map_output(m: u32): u32 {
  return map.mapOutput(m);
}
export function map_output_text(m: u32): u32 {
  return map.mapOutputText(m);
}
export function out_len(): u32 {
  return map.outLen;
}

// ---- scanning ----
export function word_count(m: u32, text: u32, len: u32): void {
  scan.wordCount(m, text, len);
}
export function word_spans(text: u32, len: u32, out: u32): u32 {
  return scan.wordSpans(text, len, out);
}
export function count_byte(text: u32, len: u32, b: u32): u32 {
  return scan.countByte(text, len, <u8>b);
}
export function line_spans(text: u32, len: u32, out: u32): u32 {
  return scan.lineSpans(text, len, out);
}

// ---- statistics ----
export function stats_f64(state: u32, values: u32, n: u32): void {
  stats.statsF64(state, values, n);
}

// ---- sorting ----
export function sort_keys(kind: u32, keys: u32, offsets: u32, n: u32, desc: u32): u32 {
  return sort.sortKeys(kind, keys, offsets, n, desc);
}
export function sort_f64(values: u32, n: u32, desc: u32): u32 {
  return sort.sortF64(values, n, desc);
}
