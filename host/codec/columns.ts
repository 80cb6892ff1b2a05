/**
 * Columnar record blocks: a batch of uniform records (all numbers, all ASCII strings, or all
 * [key, value] pairs of those) encoded as fixed-width f64 columns and byte columns, written and
 * read without msgpack and without a JavaScript object per field. `encodeRecords` tries this first
 * and falls back to msgpack for any other batch, so blocks of one partition may switch between the
 * two from frame to frame; `decodeRecords` tells them apart by the first byte, 0xc1, which
 * MessagePack never uses.
 *
 * Layout (little-endian): 0 magic u8 0xc1 · 1 version u8 (1) · 2 shape u8 · 3 string length width
 * u8 (1, 2 or 4) · 4 rows u32, then the f64 columns (8 bytes a row each), the i32 columns (numbers
 * that are all int32 and not -0, 4 bytes a row), each string column's lengths (1, 2 or 4 bytes a
 * row, as the longest string needs), each string column's bytes.
 * Shape: bit 4 set for pairs; bits 0-1 the first field's kind, bits 2-3 the second's (0 f64,
 * 1 string, 2 i32). Bit 5 set (pairs of numbers only): every value is its key (Object.is), as in
 * sortBy(x => x), and the one column stored is both fields; such blocks are written from columns
 * (encodeNumberColumns), never by encodeColumns, so that a block of records keeps its old bytes.
 *
 * Only ASCII strings take the columns: their bytes are their UTF-16 code units, so a column decodes
 * in one call and its strings are slices of that one string. Any number round-trips exactly
 * (-0, NaN, ±Infinity, integers beyond 2^31 alike), as in msgpack's path.
 */

export const COLUMNS_MAGIC = 0xc1;
const VERSION = 1;
const PAIR = 16;
const SAME = 32;
/** Field kinds, two bits each in the shape byte. */
const F64 = 0;
const STR = 1;
const I32 = 2;
const HEADER = 8;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** 0: number, 1: string, -1: neither. */
function kindOf(v: unknown): number {
  return typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : -1;
}

export function isColumnBlock(bytes: Uint8Array): boolean {
  return bytes.byteLength >= HEADER && bytes[0] === COLUMNS_MAGIC;
}

/** The records as a column block, or null when they are not uniform records of a column shape. */
export function encodeColumns(records: readonly unknown[]): Uint8Array | null {
  const n = records.length;
  if (n === 0) return null;
  const r0 = records[0];
  let pair = false;
  let k0: number;
  let k1 = -1;
  if (Array.isArray(r0)) {
    if (r0.length !== 2) return null;
    pair = true;
    k0 = kindOf(r0[0]);
    k1 = kindOf(r0[1]);
    if (k1 < 0) return null;
  } else k0 = kindOf(r0);
  if (k0 < 0) return null;
  const first: unknown[] | Float64Array = k0 === 0 ? new Float64Array(n) : new Array<string>(n);
  const second: unknown[] | Float64Array | null = !pair ? null : k1 === 0 ? new Float64Array(n) : new Array<string>(n);
  if (!pair) {
    if (k0 === 0) {
      const f = first as Float64Array;
      for (let i = 0; i < n; i++) {
        const x = records[i];
        if (typeof x !== 'number') return null;
        f[i] = x;
      }
    } else {
      const f = first as string[];
      for (let i = 0; i < n; i++) {
        const x = records[i];
        if (typeof x !== 'string') return null;
        f[i] = x;
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      const r = records[i];
      if (!Array.isArray(r) || r.length !== 2) return null;
      const a = r[0];
      const b = r[1];
      if (k0 === 0) {
        if (typeof a !== 'number') return null;
        (first as Float64Array)[i] = a;
      } else {
        if (typeof a !== 'string') return null;
        (first as string[])[i] = a;
      }
      if (k1 === 0) {
        if (typeof b !== 'number') return null;
        (second as Float64Array)[i] = b;
      } else {
        if (typeof b !== 'string') return null;
        (second as string[])[i] = b;
      }
    }
  }
  return encodeFields(n, pair ? [first, second!] : [first]);
}

/**
 * [keys[i], values[i]] pairs as the column block encodeColumns makes of them, without the pairs
 * (a combiner map's keys and combiners), or null when they are not of a column shape.
 */
export function encodePairColumns(keys: readonly unknown[], values: readonly unknown[]): Uint8Array | null {
  const n = keys.length;
  if (n === 0 || values.length !== n) return null;
  const columns = [keys, values].map((xs) => {
    const kind = kindOf(xs[0]);
    if (kind === 0) {
      const c = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const x = xs[i];
        if (typeof x !== 'number') return null;
        c[i] = x;
      }
      return c;
    }
    if (kind === 1) {
      for (let i = 0; i < n; i++) if (typeof xs[i] !== 'string') return null;
      return xs as string[];
    }
    return null;
  });
  if (!columns[0] || !columns[1]) return null;
  return encodeFields(n, columns as Array<Float64Array | string[]>, true);
}

/** Columns (pair: two) of n rows as a block, or null when a string column is not ASCII. */
function encodeFields(n: number, columns: ReadonlyArray<Float64Array | unknown[]>, pair = columns.length === 2): Uint8Array | null {
  // Number columns of int32 values (not -0) travel as i32: half the bytes.
  const fields: Array<Float64Array | Int32Array | string[]> = columns.map((c) => (c instanceof Float64Array ? narrow(c) : (c as string[])));
  const kinds = fields.map((c) => (c instanceof Float64Array ? F64 : c instanceof Int32Array ? I32 : STR));
  const f64s = fields.filter((c) => c instanceof Float64Array) as Float64Array[];
  const i32s = fields.filter((c) => c instanceof Int32Array) as Int32Array[];
  const strings = fields.filter((c) => Array.isArray(c)) as string[][];
  const joined = strings.map((c) => c.join(''));
  // String lengths take 1, 2 or 4 bytes each, as the longest string needs.
  let longest = 0;
  for (const c of strings) for (let i = 0; i < n; i++) if (c[i]!.length > longest) longest = c[i]!.length;
  const w = longest < 256 ? 1 : longest < 65536 ? 2 : 4;
  let size = HEADER + f64s.length * 8 * n + i32s.length * 4 * n + strings.length * w * n;
  const stringsAt = size;
  for (const j of joined) size += j.length;
  const out = new Uint8Array(size);
  out[0] = COLUMNS_MAGIC;
  out[1] = VERSION;
  out[2] = (pair ? PAIR : 0) | kinds[0]! | ((kinds[1] ?? 0) << 2);
  out[3] = w;
  new DataView(out.buffer).setUint32(4, n, true);
  let at = HEADER;
  for (const c of f64s) {
    new Float64Array(out.buffer, at, n).set(c);
    at += 8 * n;
  }
  for (const c of i32s) {
    new Int32Array(out.buffer, at, n).set(c);
    at += 4 * n;
  }
  let bytesAt = stringsAt;
  for (let s = 0; s < strings.length; s++) {
    const col = strings[s]!;
    const lengths = w === 1 ? new Uint8Array(out.buffer, at, n) : w === 2 ? new Uint16Array(out.buffer, at, n) : new Uint32Array(out.buffer, at, n);
    for (let i = 0; i < n; i++) lengths[i] = col[i]!.length;
    at += w * n;
    // ASCII exactly when every code unit became one byte (anything else needs more bytes than units).
    const j = joined[s]!;
    const { read, written } = encoder.encodeInto(j, out.subarray(bytesAt, bytesAt + j.length));
    if (read !== j.length || written !== j.length) return null;
    bytesAt += j.length;
  }
  return out;
}

/** The column as i32 when every value is an int32 other than -0, else as it is. */
function narrow(c: Float64Array): Float64Array | Int32Array {
  return isInt32Column(c) ? Int32Array.from(c) : c;
}

/**
 * Number columns as a block without records: `values` absent for plain numbers (the bytes
 * encodeColumns gives for those numbers as records), a column for [key, value] pairs (likewise),
 * or 'same' for pairs whose values are their keys (one column, the SAME shape). Only `rows` of each
 * column are read. NaNs are written with the bits they have: the bytes are encodeRecords' when
 * every NaN is JavaScript's own (what an array of numbers holds; see canonicalNaN).
 */
export function encodeNumberColumns(rows: number, keys: Float64Array, values?: Float64Array | 'same'): Uint8Array {
  const column = (c: Float64Array): NumberColumn => ({ chunks: [c.subarray(0, rows)], int32: isInt32Column(c.subarray(0, rows)) });
  const fields = [column(keys)];
  if (values instanceof Float64Array) fields.push(column(values));
  return encodeNumberChunks(rows, fields, values === 'same');
}

/**
 * A number column gathered in pieces: `chunks` hold its rows in order; `int32` says every one is an
 * int32 other than -0 (the column then travels as i32, as `narrow` decides for a whole column).
 */
export interface NumberColumn {
  chunks: Float64Array[];
  int32: boolean;
}

/** Whether x may travel in an i32 column (what `narrow` asks of every value). */
export function isInt32(x: number): boolean {
  return (x | 0) === x && !(x === 0 && 1 / x < 0);
}

function isInt32Column(c: Float64Array): boolean {
  for (let i = 0; i < c.length; i++) if (!isInt32(c[i]!)) return false;
  return true;
}

/**
 * One column (plain numbers) or two (pairs; `same`: one column that is both fields) as a block,
 * written straight from their chunks: the bytes encodeNumberColumns gives for the joined columns.
 */
export function encodeNumberChunks(rows: number, fields: readonly NumberColumn[], same = false): Uint8Array {
  const kind = (c: NumberColumn) => (c.int32 ? I32 : F64);
  const pair = same || fields.length === 2;
  let size = HEADER;
  for (const c of fields) size += (c.int32 ? 4 : 8) * rows;
  const out = new Uint8Array(size);
  out[0] = COLUMNS_MAGIC;
  out[1] = VERSION;
  const k0 = kind(fields[0]!);
  out[2] = !pair ? k0 : same ? PAIR | SAME | k0 | (k0 << 2) : PAIR | k0 | (kind(fields[1]!) << 2);
  out[3] = 1;
  new DataView(out.buffer).setUint32(4, rows, true);
  // f64 columns first, then i32 ones, as encodeColumns lays them out.
  let at = HEADER;
  for (const c of [...fields.filter((c) => !c.int32), ...fields.filter((c) => c.int32)]) {
    const to = c.int32 ? new Int32Array(out.buffer, at, rows) : new Float64Array(out.buffer, at, rows);
    let row = 0;
    for (const chunk of c.chunks) {
      const take = Math.min(chunk.length, rows - row);
      to.set(take === chunk.length ? chunk : chunk.subarray(0, take), row);
      row += take;
    }
    at += to.byteLength;
  }
  return out;
}

/**
 * x, or JavaScript's own NaN for any NaN: a value copied between typed arrays may carry another
 * NaN's bits, and a record's NaN (what encodeRecords writes) is always this one.
 */
export function canonicalNaN(x: number): number {
  return x === x ? x : NaN;
}

/** A column block's fields: one column for plain values, two (keys, values) for pairs. */
export interface ColumnFields {
  pair: boolean;
  /** Pairs whose values are their keys: both entries of `cols` are the same column. */
  same: boolean;
  rows: number;
  /** Float64Array or Int32Array for numbers, string[] for strings. */
  cols: Array<Float64Array | Int32Array | string[]>;
}

export function decodeColumns(bytes: Uint8Array): unknown[] {
  const fields = decodeColumnFields(bytes);
  return columnRowsInto(fields, new Array<unknown>(fields.rows), 0);
}

/** Writes a block's records into out[at, at + rows) and returns out. */
export function columnRowsInto(fields: ColumnFields, out: unknown[], at: number): unknown[] {
  const { pair, rows: n, cols } = fields;
  if (!pair) {
    const c = cols[0]!;
    for (let i = 0; i < n; i++) out[at + i] = c[i];
    return out;
  }
  const a = cols[0]!;
  const v = cols[1]!;
  for (let i = 0; i < n; i++) out[at + i] = [a[i], v[i]];
  return out;
}

export function decodeColumnFields(bytes: Uint8Array): ColumnFields {
  if (bytes[1] !== VERSION) throw new Error(`unknown column block version ${bytes[1]}`);
  const shape = bytes[2]!;
  // Column views need 8-byte alignment; a block read out of a frame may sit anywhere.
  const b = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const n = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(4, true);
  const pair = (shape & PAIR) !== 0;
  const same = (shape & SAME) !== 0;
  if (same && (!pair || (shape & 3) === STR || (shape & 3) !== ((shape >> 2) & 3))) throw new Error(`bad column shape ${shape}`);
  const kinds = !pair ? [shape & 3] : same ? [shape & 3] : [shape & 3, (shape >> 2) & 3];
  const count = (k: number) => kinds.filter((x) => x === k).length;
  if (kinds.some((k) => k > I32)) throw new Error(`unknown column kind in shape ${shape}`);
  let at = b.byteOffset + HEADER;
  const w = bytes[3]!;
  if (count(STR) > 0 && w !== 1 && w !== 2 && w !== 4) throw new Error(`bad string length width ${w}`);
  let bytesAt = HEADER + count(F64) * 8 * n + count(I32) * 4 * n + count(STR) * w * n;
  if (b.byteLength < bytesAt) throw new Error('column block shorter than its columns');
  const byKind: Array<Array<Float64Array | Int32Array | string[]>> = [[], [], []];
  for (let c = count(F64); c > 0; c--) {
    byKind[F64]!.push(new Float64Array(b.buffer, at, n));
    at += 8 * n;
  }
  for (let c = count(I32); c > 0; c--) {
    byKind[I32]!.push(new Int32Array(b.buffer, at, n));
    at += 4 * n;
  }
  for (let c = count(STR); c > 0; c--) {
    const lengths = w === 1 ? new Uint8Array(b.buffer, at, n) : w === 2 ? new Uint16Array(b.buffer, at, n) : new Uint32Array(b.buffer, at, n);
    at += w * n;
    let len = 0;
    for (let i = 0; i < n; i++) len += lengths[i]!;
    if (bytesAt + len > b.byteLength) throw new Error('column block shorter than its strings');
    const all = decoder.decode(b.subarray(bytesAt, bytesAt + len));
    bytesAt += len;
    const col = new Array<string>(n);
    let o = 0;
    for (let i = 0; i < n; i++) {
      const e = o + lengths[i]!;
      col[i] = all.slice(o, e);
      o = e;
    }
    byKind[STR]!.push(col);
  }
  const taken = [0, 0, 0];
  const cols = kinds.map((k) => byKind[k]![taken[k]!++]!);
  if (same) cols.push(cols[0]!);
  return { pair, same, rows: n, cols };
}
