/**
 * Built-in aggregations ('sum' | 'min' | 'max' | 'count') on the operators of host/ops: records become
 * columns (UTF-8 key bytes or f64 keys, f64 values), the hash aggregation combines them, and its
 * binary batch (ops/batch.ts) is the shuffle block: raw key bytes and fixed-width values, no
 * per-record encoding. Batches whose keys are neither all strings nor all numbers, or whose values
 * are not numbers, fall back to the record path, which gives the same answer (and the same error).
 *
 * Engine convention: a 'bytes' batch holds strings as UTF-8 and an 'f64' batch holds numbers.
 */
import { BATCH_MAGIC, decodeAggBatch, encodeAggBatch, type DecodedBatch } from '../ops/batch.js';
import { decodeKey, packStrings } from '../ops/text.js';
import type { HashAggregator, PackedBytes } from '../ops/types.js';

export type BuiltinAggName = 'sum' | 'min' | 'max' | 'count';
export type ColumnKeyKind = 'bytes' | 'f64';

export interface Columns {
  keyKind: ColumnKeyKind;
  keys: PackedBytes | Float64Array;
  values: Float64Array;
}

const isWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;

/** True for a string UTF-8 can carry exactly (no lone surrogates). */
export function utf8Safe(s: string): boolean {
  if (isWellFormed) return isWellFormed.call(s);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c > 0xdbff || i + 1 >= s.length) return false;
    const d = s.charCodeAt(++i);
    if (d < 0xdc00 || d > 0xdfff) return false;
  }
  return true;
}

// Key bytes of the last batch: reused, since the aggregator copies them into its own memory at once.
let scratch = new Uint8Array(1 << 16);
const encoder = new TextEncoder();

/**
 * Columns of a batch of [key, value] records, or null when they do not fit: keys must be all strings
 * (UTF-8 safe) or all numbers, and values numbers unless `valuesUsed` is false ('count'). The key
 * bytes are valid until the next call.
 */
export function pairColumns(records: readonly unknown[], valuesUsed: boolean): Columns | null {
  return columns(records, true, valuesUsed);
}

/** Columns of plain values counted by themselves (countByValue), or null; as pairColumns. */
export function valueColumns(records: readonly unknown[]): Columns | null {
  return columns(records, false, false);
}

function columns(records: readonly unknown[], pairs: boolean, valuesUsed: boolean): Columns | null {
  const n = records.length;
  if (n === 0) return null;
  const values = new Float64Array(n);
  const keyOf = (r: unknown): unknown => (!pairs ? r : Array.isArray(r) && r.length === 2 ? r[0] : undefined);
  const valueOf = (r: unknown): unknown => (r as unknown[])[1];
  const k0 = keyOf(records[0]);
  if (typeof k0 === 'string') {
    const offsets = new Uint32Array(n + 1);
    let bytes = scratch;
    let at = 0;
    for (let i = 0; i < n; i++) {
      const r = records[i];
      const k = keyOf(r);
      if (typeof k !== 'string') return null;
      const len = k.length;
      if (at + len * 3 > bytes.length) {
        const grown = new Uint8Array(Math.max(bytes.length * 2, at + len * 3));
        grown.set(bytes.subarray(0, at));
        bytes = scratch = grown;
      }
      // ASCII keys (the common case) are written char by char: no call, no subarray per key.
      let j = 0;
      while (j < len) {
        const c = k.charCodeAt(j);
        if (c >= 0x80) break;
        bytes[at + j] = c;
        j++;
      }
      if (j === len) at += len;
      else {
        if (!utf8Safe(k)) return null;
        at += encoder.encodeInto(k, bytes.subarray(at)).written;
      }
      offsets[i + 1] = at;
      if (valuesUsed) {
        const v = valueOf(r);
        if (typeof v !== 'number') return null;
        values[i] = v;
      }
    }
    return { keyKind: 'bytes', keys: { bytes: bytes.subarray(0, at), offsets }, values };
  }
  if (typeof k0 === 'number') {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const r = records[i];
      const k = keyOf(r);
      if (typeof k !== 'number') return null;
      keys[i] = k;
      if (valuesUsed) {
        const v = valueOf(r);
        if (typeof v !== 'number') return null;
        values[i] = v;
      }
    }
    return { keyKind: 'f64', keys, values };
  }
  return null;
}

export function addColumns(agg: HashAggregator, cols: Columns): void {
  if (cols.keyKind === 'bytes') agg.addBytes(cols.keys as PackedBytes, cols.values);
  else agg.addNumeric(cols.keys as Float64Array, cols.values);
}

export function isAggBatch(block: Uint8Array): boolean {
  return block.byteLength >= 16 && (block[0]! | (block[1]! << 8) | (block[2]! << 16) | (block[3]! << 24)) >>> 0 === BATCH_MAGIC;
}

/** The keys of a decoded batch as JS values (strings or numbers), in row order. */
export function batchKeys(d: DecodedBatch): unknown[] {
  const out = new Array<unknown>(d.rows);
  if (d.keyKind === 'bytes') {
    const { bytes, offsets } = d.keys as PackedBytes;
    // One decode for all keys: when every byte became one UTF-16 unit (ASCII, or invalid bytes
    // that each became U+FFFD), byte offsets are string offsets and each key is a slice of it.
    const all = decodeKey(bytes);
    if (all.length === bytes.length) {
      for (let i = 0; i < d.rows; i++) out[i] = all.slice(offsets[i]!, offsets[i + 1]!);
    } else {
      for (let i = 0; i < d.rows; i++) out[i] = decodeKey(bytes.subarray(offsets[i]!, offsets[i + 1]!));
    }
  } else if (d.keyKind === 'f64') {
    const keys = d.keys as Float64Array;
    for (let i = 0; i < d.rows; i++) out[i] = keys[i]!;
  } else {
    const keys = d.keys as BigInt64Array;
    for (let i = 0; i < d.rows; i++) out[i] = keys[i]!;
  }
  return out;
}

/** [key, combined value] records of a batch of a width-1 aggregate, in row order. */
export function batchRecords(batch: Uint8Array): unknown[] {
  const d = decodeAggBatch(batch);
  const keys = batchKeys(d);
  const out = new Array<unknown>(d.rows);
  for (let i = 0; i < d.rows; i++) out[i] = [keys[i], d.state[i]!];
  return out;
}

/**
 * Byte keys scanned from text may hold invalid UTF-8, and different invalid sequences decode to the
 * same string (U+FFFD). Such rows are merged by decoded string, at the position of the first
 * variant (where a JS Map over the decoded text puts the word), so the batch's keys are exactly the
 * strings the lambda path would see. Only 'sum'/'count' batches come from scans.
 */
export function normalizeScannedKeys(batch: Uint8Array): { batch: Uint8Array; keys: string[] } {
  const d = decodeAggBatch(batch);
  const keys = batchKeys(d) as string[];
  const { bytes, offsets } = d.keys as PackedBytes;
  let suspect = false;
  for (let i = 0; i < d.rows && !suspect; i++) if (keys[i]!.includes('\uFFFD') && !sameUtf8(keys[i]!, bytes.subarray(offsets[i]!, offsets[i + 1]!))) suspect = true;
  if (!suspect) return { batch, keys };
  const merged = new Map<string, number>();
  for (let i = 0; i < d.rows; i++) merged.set(keys[i]!, (merged.get(keys[i]!) ?? 0) + d.state[i]!);
  const outKeys = [...merged.keys()];
  const state = Float64Array.from(merged.values());
  return { batch: encodeAggBatch('bytes', d.kind, outKeys.length, state, packStrings(outKeys)), keys: outKeys };
}

function sameUtf8(s: string, bytes: Uint8Array): boolean {
  const e = encoder.encode(s);
  if (e.length !== bytes.length) return false;
  for (let i = 0; i < e.length; i++) if (e[i] !== bytes[i]) return false;
  return true;
}

/**
 * Rows of a batch routed to reduce partitions: one batch per partition (zero-length when empty),
 * rows in their original order.
 */
export function splitBatch(batch: Uint8Array, keys: unknown[], numPartitions: number, partitionOf: (key: unknown) => number): Uint8Array[] {
  const rows = keys.length;
  if (rows === 0) return Array.from({ length: numPartitions }, () => new Uint8Array(0));
  if (numPartitions === 1) return [batch];
  const part = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) part[i] = partitionOf(keys[i]);
  return splitBatchBy(batch, part, numPartitions);
}

/**
 * Rows of a batch sent to `n` outputs by `part` (row i goes to part[i]): one batch per output,
 * zero-length when empty, rows in their original order. Written in place: one pass to size the
 * outputs, one to copy.
 */
export function splitBatchBy(batch: Uint8Array, part: Uint32Array, n: number): Uint8Array[] {
  const d = decodeAggBatch(batch);
  if (d.rows === 0) return Array.from({ length: n }, () => new Uint8Array(0));
  const bytesKeys = d.keyKind === 'bytes';
  const src = d.keys as PackedBytes;
  const rows = new Uint32Array(n);
  const keyBytes = new Float64Array(n);
  for (let i = 0; i < d.rows; i++) {
    const p = part[i]!;
    rows[p]!++;
    if (bytesKeys) keyBytes[p] += src.offsets[i + 1]! - src.offsets[i]!;
  }
  const w = d.width;
  const out: Uint8Array[] = [];
  const states: Float64Array[] = [];
  const offsets: Uint32Array[] = [];
  const bytes: Uint8Array[] = [];
  const numeric: Array<Float64Array | BigInt64Array> = [];
  for (let p = 0; p < n; p++) {
    const r = rows[p]!;
    if (r === 0) {
      out.push(new Uint8Array(0));
      continue;
    }
    const empty = bytesKeys ? { bytes: new Uint8Array(keyBytes[p]!), offsets: new Uint32Array(r + 1) }
      : d.keyKind === 'f64' ? new Float64Array(r) : new BigInt64Array(r);
    // An all-zero layout of the right size; its views are then filled row by row.
    const b = encodeAggBatch(d.keyKind, d.kind, r, new Float64Array(r * w), empty);
    const dec = decodeAggBatch(b);
    out.push(b);
    states[p] = dec.state;
    if (bytesKeys) {
      offsets[p] = (dec.keys as PackedBytes).offsets;
      bytes[p] = (dec.keys as PackedBytes).bytes;
    } else numeric[p] = dec.keys as Float64Array | BigInt64Array;
  }
  const at = new Uint32Array(n);
  const written = new Uint32Array(n);
  for (let i = 0; i < d.rows; i++) {
    const p = part[i]!;
    const r = written[p]!++;
    const state = states[p]!;
    for (let k = 0; k < w; k++) state[r * w + k] = d.state[i * w + k]!;
    if (bytesKeys) {
      const s0 = src.offsets[i]!;
      const s1 = src.offsets[i + 1]!;
      const dst = bytes[p]!;
      let o = at[p]!;
      // Words are short: a loop beats creating a subarray per key.
      if (s1 - s0 < 64) for (let j = s0; j < s1; j++) dst[o++] = src.bytes[j]!;
      else {
        dst.set(src.bytes.subarray(s0, s1), o);
        o += s1 - s0;
      }
      at[p] = o;
      offsets[p]![r + 1] = o;
    } else {
      numeric[p]![r] = (d.keys as Float64Array | BigInt64Array)[i]! as never;
    }
  }
  return out;
}

/** Rows [from, to) of a batch as a batch of their own. */
export function sliceBatch(batch: Uint8Array, from: number, to: number): Uint8Array {
  const d = decodeAggBatch(batch);
  const w = d.width;
  const state = d.state.subarray(from * w, to * w);
  let keys: DecodedBatch['keys'];
  if (d.keyKind === 'bytes') {
    const pb = d.keys as PackedBytes;
    const o0 = pb.offsets[from]!;
    const offsets = new Uint32Array(to - from + 1);
    for (let i = from; i <= to; i++) offsets[i - from] = pb.offsets[i]! - o0;
    keys = { bytes: pb.bytes.subarray(o0, pb.offsets[to]!), offsets };
  } else keys = (d.keys as Float64Array | BigInt64Array).subarray(from, to);
  return encodeAggBatch(d.keyKind, d.kind, to - from, state, keys);
}

/** A batch cut into batches of at most `rows` rows (the batch itself when it is small enough). */
export function* batchSlices(batch: Uint8Array, rows: number): Generator<Uint8Array> {
  const n = batchRows(batch);
  if (n <= rows) {
    if (n > 0) yield batch;
    return;
  }
  for (let i = 0; i < n; i += rows) yield sliceBatch(batch, i, Math.min(n, i + rows));
}

/** Rows of a batch, from its header. */
export function batchRows(batch: Uint8Array): number {
  return batch.byteLength < 16 ? 0 : (batch[8]! | (batch[9]! << 8) | (batch[10]! << 16) | (batch[11]! << 24)) >>> 0;
}
