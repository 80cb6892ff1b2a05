/**
 * The binary aggregation batch, written by the wasm map (assembly/map.ts `mapOutput`) and by the
 * TypeScript twin alike, little-endian:
 *
 *   0  magic u32 "FLAB"     4 version u8 (1)     5 key kind u8 (0 bytes, 1 i64, 2 f64)
 *   6  aggregate u8         7 state width in f64s u8
 *   8  rows u32             12 total key bytes u32
 *   16 state f64[rows * width]
 *   then 8-byte keys u64[rows], or byte keys: offsets u32[rows + 1] then the key bytes.
 *
 * It holds mergeable state ('mean' keeps [sum, count]), so a batch is both a map-side shuffle
 * block and, once decoded, a result.
 */
import { FlintError } from '../errors.js';
import type { AggKind, KeyKind, PackedBytes } from './types.js';

export const BATCH_MAGIC = 0x42414c46;
export const BATCH_HEADER = 16;
export const AGG_KINDS: readonly AggKind[] = ['sum', 'count', 'min', 'max', 'mean', 'stats'];
export const KEY_KINDS: readonly KeyKind[] = ['bytes', 'i64', 'f64'];

export function aggCode(kind: AggKind): number {
  const code = AGG_KINDS.indexOf(kind);
  if (code < 0) throw new FlintError('INVALID_ARGUMENT', `unknown aggregate '${String(kind)}'; expected one of ${AGG_KINDS.join(', ')}`);
  return code;
}

export function keyCode(kind: KeyKind): number {
  const code = KEY_KINDS.indexOf(kind);
  if (code < 0) throw new FlintError('INVALID_ARGUMENT', `unknown key kind '${String(kind)}'; expected one of ${KEY_KINDS.join(', ')}`);
  return code;
}

/** Number of f64 state slots per key. */
export function stateWidth(kind: AggKind): number {
  return kind === 'mean' ? 2 : kind === 'stats' ? 4 : 1;
}

export interface DecodedBatch {
  keyKind: KeyKind;
  kind: AggKind;
  rows: number;
  width: number;
  state: Float64Array;
  keys: BigInt64Array | Float64Array | PackedBytes;
}

/** Decodes a batch; the typed arrays are views into it (copied once if it is not 8-byte aligned). */
export function decodeAggBatch(batch: Uint8Array): DecodedBatch {
  if (batch.byteLength < BATCH_HEADER) throw badBatch('shorter than its header');
  if (batch.byteOffset % 8 !== 0) batch = batch.slice();
  const dv = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  if (dv.getUint32(0, true) !== BATCH_MAGIC || dv.getUint8(4) !== 1) throw badBatch('bad magic or version');
  const keyKind = KEY_KINDS[dv.getUint8(5)];
  const kind = AGG_KINDS[dv.getUint8(6)];
  const width = dv.getUint8(7);
  const rows = dv.getUint32(8, true);
  const keyBytes = dv.getUint32(12, true);
  if (!keyKind || !kind || width !== stateWidth(kind)) throw badBatch('unknown key kind or aggregate');
  const stateStart = batch.byteOffset + BATCH_HEADER;
  const keysStart = stateStart + rows * width * 8;
  const need = keyKind === 'bytes' ? keysStart + (rows + 1) * 4 + keyBytes : keysStart + rows * 8;
  if (need > batch.byteOffset + batch.byteLength) throw badBatch('truncated');
  const state = new Float64Array(batch.buffer, stateStart, rows * width);
  let keys: DecodedBatch['keys'];
  if (keyKind === 'i64') keys = new BigInt64Array(batch.buffer, keysStart, rows);
  else if (keyKind === 'f64') keys = new Float64Array(batch.buffer, keysStart, rows);
  else {
    const offsets = new Uint32Array(batch.buffer, keysStart, rows + 1);
    const bytesStart = keysStart + (rows + 1) * 4;
    keys = { offsets, bytes: new Uint8Array(batch.buffer, bytesStart, keyBytes) };
  }
  return { keyKind, kind, rows, width, state, keys };
}

export function encodeAggBatch(
  keyKind: KeyKind,
  kind: AggKind,
  rows: number,
  state: Float64Array,
  keys: BigInt64Array | Float64Array | PackedBytes,
): Uint8Array {
  const width = stateWidth(kind);
  const keyBytes = keyKind === 'bytes' ? (keys as PackedBytes).bytes.byteLength : rows * 8;
  const keysLen = keyKind === 'bytes' ? (rows + 1) * 4 + keyBytes : rows * 8;
  const out = new Uint8Array(BATCH_HEADER + rows * width * 8 + keysLen);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, BATCH_MAGIC, true);
  dv.setUint8(4, 1);
  dv.setUint8(5, keyCode(keyKind));
  dv.setUint8(6, aggCode(kind));
  dv.setUint8(7, width);
  dv.setUint32(8, rows, true);
  dv.setUint32(12, keyBytes, true);
  new Float64Array(out.buffer, BATCH_HEADER, rows * width).set(state.subarray(0, rows * width));
  const keysStart = BATCH_HEADER + rows * width * 8;
  if (keyKind === 'bytes') {
    const pb = keys as PackedBytes;
    new Uint32Array(out.buffer, keysStart, rows + 1).set(pb.offsets.subarray(0, rows + 1));
    out.set(pb.bytes, keysStart + (rows + 1) * 4);
  } else if (keyKind === 'i64') {
    new BigInt64Array(out.buffer, keysStart, rows).set((keys as BigInt64Array).subarray(0, rows));
  } else {
    const src = keys as Float64Array;
    const dst = new Float64Array(out.buffer, keysStart, rows);
    const bits = new Uint32Array(out.buffer, keysStart, rows * 2);
    for (let i = 0; i < rows; i++) {
      const x = src[i]!;
      // One canonical NaN and +0, as the wasm map stores them.
      if (x !== x) {
        bits[2 * i] = 0;
        bits[2 * i + 1] = 0x7ff80000;
      } else dst[i] = x === 0 ? 0 : x;
    }
  }
  return out;
}

/** Final per-key values from state: 'mean' divides, 'stats' gives count, sum, min, max, mean. */
export function finalValues(kind: AggKind, state: Float64Array, rows: number): Float64Array {
  if (kind === 'mean') {
    const out = new Float64Array(rows);
    for (let i = 0; i < rows; i++) out[i] = state[2 * i]! / state[2 * i + 1]!;
    return out;
  }
  if (kind === 'stats') {
    const out = new Float64Array(rows * 5);
    for (let i = 0; i < rows; i++) {
      out[5 * i] = state[4 * i]!;
      out[5 * i + 1] = state[4 * i + 1]!;
      out[5 * i + 2] = state[4 * i + 2]!;
      out[5 * i + 3] = state[4 * i + 3]!;
      out[5 * i + 4] = state[4 * i + 1]! / state[4 * i]!;
    }
    return out;
  }
  return state.slice(0, rows);
}

/** Builds the result object every hashAgg* method returns, copying keys out of the batch. */
export function resultFromBatch(batch: Uint8Array): { kind: AggKind; keys: DecodedBatch['keys']; values: Float64Array; keyKind: KeyKind } {
  const d = decodeAggBatch(batch);
  let keys: DecodedBatch['keys'];
  if (d.keyKind === 'bytes') {
    const pb = d.keys as PackedBytes;
    keys = { bytes: pb.bytes.slice(), offsets: pb.offsets.slice() };
  } else keys = (d.keys as BigInt64Array | Float64Array).slice();
  return { kind: d.kind, keyKind: d.keyKind, keys, values: finalValues(d.kind, d.state, d.rows) };
}

function badBatch(why: string): FlintError {
  return new FlintError('INVALID_ARGUMENT', `not a Flint aggregation batch: ${why}`);
}
