import { Packr, addExtension } from 'msgpackr';
import { FlintError } from '../errors.js';
import { columnRowsInto, decodeColumnFields, decodeColumns, encodeColumns, isColumnBlock } from './columns.js';

/**
 * Binary encoding of records for shuffle blocks, cached blocks and results.
 *
 * A block is ONE MessagePack array of records (msgpackr, objects as plain maps, `moreTypes` for
 * Set / typed arrays / big bigints). The incremental writer emits an array32 header whose count it
 * patches at the end, so both producers give the same format and `decodeRecords` is a single
 * `unpack` call — measurably faster than decoding a concatenation with `unpackMultiple`.
 *
 * What round-trips exactly:
 * - numbers (msgpackr writes every non-int32 number as float64, so 2**60 stays a number), NaN,
 *   ±Infinity, and -0 (msgpackr alone would write -0 as the integer 0: see the fix-up pass);
 * - bigint of any size (int64 for 64-bit values, msgpackr's bigint extension beyond) — stays bigint;
 * - strings, including lone surrogates (UTF-8 cannot carry them, so such strings travel as UTF-16
 *   code units in a private extension);
 * - booleans, null, undefined (also inside arrays and objects), arrays, plain objects in key order;
 * - Uint8Array (decoded as a plain Uint8Array, never a Node Buffer; a Buffer record decodes as a
 *   Uint8Array), the other typed arrays;
 * - Date, Set and Map are preserved: Date and Set natively, Map through a private extension (msgpackr
 *   would otherwise decode a Map as a plain object). They are accepted as records but not as keys
 *   or sort values (see keys.ts / order.ts).
 *
 * Anything else (functions, symbols, class instances, WeakMap, DataView, ArrayBuffer, cycles) is
 * rejected with UNSUPPORTED_RECORD naming the type and its path inside the record.
 *
 * Closure env values (`encodeEnvValue`) may also hold RegExps, rebuilt with their source, flags and
 * lastIndex: a user captures them naturally, and unlike records they are never keys or sorted.
 */

/** Private MessagePack extension types; application types are 0..127, msgpackr reserves letters. */
const EXT_NEG_ZERO = 0x46;
const EXT_UTF16_STRING = 0x47;
const EXT_MAP = 0x48;
const EXT_REGEXP = 0x49;

class NegZero {}
class Utf16String {
  constructor(readonly s: string) {}
}
class MapBox {
  constructor(readonly flat: unknown[]) {}
}
class RegExpBox {
  constructor(readonly parts: [string, string, number]) {}
}

const NEG_ZERO = new NegZero();
const EMPTY = new Uint8Array(0);

addExtension({
  Class: NegZero,
  type: EXT_NEG_ZERO,
  pack: () => EMPTY,
  unpack: () => -0,
});
addExtension({
  Class: Utf16String,
  type: EXT_UTF16_STRING,
  pack(value: Utf16String) {
    const s = value.s;
    const out = new Uint8Array(s.length * 2);
    for (let i = 0, j = 0; i < s.length; i++, j += 2) {
      const c = s.charCodeAt(i);
      out[j] = c & 0xff;
      out[j + 1] = c >>> 8;
    }
    return out;
  },
  unpack(bytes: Uint8Array) {
    let s = '';
    const CHUNK = 4096;
    const units = new Uint16Array(Math.min(CHUNK, bytes.length >>> 1));
    for (let i = 0; i < bytes.length; ) {
      let n = 0;
      for (; n < units.length && i < bytes.length; n++, i += 2) units[n] = bytes[i]! | (bytes[i + 1]! << 8);
      s += String.fromCharCode.apply(null, units.subarray(0, n) as unknown as number[]);
    }
    return s;
  },
});
addExtension({
  Class: MapBox,
  type: EXT_MAP,
  write: (box: MapBox) => box.flat,
  read(flat: unknown[]) {
    const m = new Map<unknown, unknown>();
    for (let i = 0; i < flat.length; i += 2) m.set(flat[i], flat[i + 1]);
    return m;
  },
});

addExtension({
  Class: RegExpBox,
  type: EXT_REGEXP,
  write: (box: RegExpBox) => box.parts,
  read([source, flags, lastIndex]: [string, string, number]) {
    const re = new RegExp(source, flags);
    re.lastIndex = lastIndex;
    return re;
  },
});

const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  moreTypes: true,
  int64AsType: 'bigint',
  // Records are values, not graphs: no reference tracking (it costs a Map lookup per object).
  structuredClone: false,
  // A Uint8Array record owns its bytes: frames are decoded out of read buffers that are reused.
  copyBuffers: true,
});

const MAX_DEPTH = 512;

/** `String.prototype.isWellFormed` (ES2024) where present; a scan otherwise. */
const isWellFormed: (s: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (s) => {
        for (let i = 0; i < s.length; i++) {
          const c = s.charCodeAt(i);
          if (c < 0xd800 || c > 0xdfff) continue;
          if (c > 0xdbff) return false;
          const d = s.charCodeAt(i + 1);
          if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
          i++;
        }
        return true;
      };

const objectProto = Object.prototype;

function isSupportedView(v: object): boolean {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

/**
 * Validates a record and tells whether it holds something msgpackr alone would not round-trip
 * (-0, a lone surrogate, a Map). Returns true when the fix-up copy is needed. Throws a bare marker
 * on unsupported values; the caller then re-walks to build a message with the path (error path only).
 */
function scan(v: unknown, depth: number, env: boolean): boolean {
  switch (typeof v) {
    case 'number':
      return v === 0 && 1 / v < 0;
    case 'string':
      return !isWellFormed(v);
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return false;
    case 'object': {
      if (v === null) return false;
      if (depth > MAX_DEPTH) throw UNSUPPORTED;
      if (Array.isArray(v)) {
        let fix = false;
        for (let i = 0; i < v.length; i++) if (scan(v[i], depth + 1, env)) fix = true;
        return fix;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto === objectProto || proto === null) {
        let fix = false;
        for (const k in v) if (scan((v as Record<string, unknown>)[k], depth + 1, env)) fix = true;
        return fix;
      }
      if (isSupportedView(v)) return false;
      if (v instanceof Date) return false;
      if (v instanceof Map) {
        for (const [k, x] of v) {
          scan(k, depth + 1, env);
          scan(x, depth + 1, env);
        }
        return true;
      }
      if (v instanceof Set) {
        let fix = false;
        for (const x of v) if (scan(x, depth + 1, env)) fix = true;
        return fix;
      }
      if (env && v instanceof RegExp) return true;
      throw UNSUPPORTED;
    }
    default:
      throw UNSUPPORTED;
  }
}

const UNSUPPORTED = { unsupported: true };

function fixup(v: unknown): unknown {
  switch (typeof v) {
    case 'number':
      return v === 0 && 1 / v < 0 ? NEG_ZERO : v;
    case 'string':
      return isWellFormed(v) ? v : new Utf16String(v);
    case 'object': {
      if (v === null) return v;
      if (Array.isArray(v)) return v.map(fixup);
      const proto = Object.getPrototypeOf(v);
      if (proto === objectProto || proto === null) {
        const out: Record<string, unknown> = {};
        for (const k in v) {
          // defineProperty keeps a "__proto__" key an own property instead of a prototype change.
          Object.defineProperty(out, k, {
            value: fixup((v as Record<string, unknown>)[k]),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return out;
      }
      if (v instanceof Map) {
        const flat: unknown[] = [];
        for (const [k, x] of v) flat.push(fixup(k), fixup(x));
        return new MapBox(flat);
      }
      if (v instanceof Set) {
        const s = new Set<unknown>();
        for (const x of v) s.add(fixup(x));
        return s;
      }
      // scan lets a RegExp through only for env values.
      if (v instanceof RegExp) return new RegExpBox([v.source, v.flags, v.lastIndex]);
      return v;
    }
    default:
      return v;
  }
}

/** Describes a value's type for error messages: "a function", "a Foo instance", "a symbol". */
export function describeType(v: unknown): string {
  if (v === null) return 'null';
  const t = typeof v;
  if (t === 'function') {
    const name = (v as { name?: unknown }).name;
    return typeof name === 'string' && name ? `a function (${name})` : 'a function';
  }
  if (t !== 'object') return t === 'undefined' ? 'undefined' : `a ${t}`;
  const proto = Object.getPrototypeOf(v);
  const ctor = proto && (proto as { constructor?: { name?: unknown } }).constructor;
  const name = ctor && typeof ctor.name === 'string' && ctor.name ? ctor.name : 'Object';
  return `a ${name} instance`;
}

/** Finds the first unsupported value and its path; only runs once validation has failed. */
function findUnsupported(v: unknown, path: string, depth: number, seen: Set<object>, env: boolean): [string, string] | null {
  switch (typeof v) {
    case 'number':
    case 'string':
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return null;
    case 'object': {
      if (v === null) return null;
      if (seen.has(v)) return [path || '(the record)', 'a cyclic reference'];
      if (depth > MAX_DEPTH) return [path || '(the record)', `nesting deeper than ${MAX_DEPTH} levels`];
      seen.add(v);
      try {
        if (Array.isArray(v)) {
          for (let i = 0; i < v.length; i++) {
            const r = findUnsupported(v[i], `${path}[${i}]`, depth + 1, seen, env);
            if (r) return r;
          }
          return null;
        }
        const proto = Object.getPrototypeOf(v);
        if (proto === objectProto || proto === null) {
          for (const k in v) {
            const seg = /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
            const r = findUnsupported((v as Record<string, unknown>)[k], path + seg, depth + 1, seen, env);
            if (r) return r;
          }
          return null;
        }
        if (isSupportedView(v) || v instanceof Date || (env && v instanceof RegExp)) return null;
        if (v instanceof Map) {
          let i = 0;
          for (const [k, x] of v) {
            const r =
              findUnsupported(k, `${path}<map key ${i}>`, depth + 1, seen, env) ??
              findUnsupported(x, `${path}<map value ${i}>`, depth + 1, seen, env);
            if (r) return r;
            i++;
          }
          return null;
        }
        if (v instanceof Set) {
          let i = 0;
          for (const x of v) {
            const r = findUnsupported(x, `${path}<set element ${i++}>`, depth + 1, seen, env);
            if (r) return r;
          }
          return null;
        }
        return [path || '(the record)', describeType(v)];
      } finally {
        seen.delete(v);
      }
    }
    default:
      return [path || '(the record)', describeType(v)];
  }
}

function unsupportedError(record: unknown, index: number | null, env: boolean): FlintError {
  const found = findUnsupported(record, '', 0, new Set(), env) ?? ['(the record)', describeType(record)];
  const where = index === null ? '' : ` record ${index}:`;
  const at = found[0] === '(the record)' ? 'the record' : `the value at ${found[0]}`;
  return new FlintError(
    'UNSUPPORTED_RECORD',
    `Unsupported record:${where} ${at} is ${found[1]}. Records must be numbers, strings, booleans, ` +
      'null, undefined, bigint, arrays, plain objects, Uint8Array (or other typed arrays), Date, Map or Set.',
  );
}

/** Validates one record and returns what to hand to msgpackr (the record itself in the common case). */
function prepare(record: unknown, index: number | null, env = false): unknown {
  let fix: boolean;
  try {
    fix = scan(record, 0, env);
  } catch (err) {
    if (err === UNSUPPORTED || err instanceof RangeError) throw unsupportedError(record, index, env);
    throw err;
  }
  return fix ? fixup(record) : record;
}

/** A copy into a fresh ArrayBuffer: blocks are transferred between threads, so they must own it. */
function owned(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.byteLength);
  out.set(bytes);
  return out;
}

/** msgpackr decodes `bin` as a Buffer when the source is one; a plain view keeps Uint8Array records plain. */
function plainView(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function decodeError(err: unknown): FlintError {
  const msg = err instanceof Error ? err.message : String(err);
  return new FlintError('INTERNAL', `Corrupt record block: ${msg}`, { cause: err });
}

/**
 * A block of records: columns (columns.ts) when the records are uniform numbers, ASCII strings or
 * pairs of those, msgpack otherwise; decodeRecords reads either.
 */
export function encodeRecords(records: readonly unknown[]): Uint8Array {
  const columns = encodeColumns(records);
  if (columns) return columns;
  let toPack: unknown[] | readonly unknown[] = records;
  for (let i = 0; i < records.length; i++) {
    const p = prepare(records[i], i);
    if (p !== records[i]) {
      if (toPack === records) toPack = records.slice();
      (toPack as unknown[])[i] = p;
    }
  }
  return owned(packr.pack(toPack));
}

export function decodeRecords(bytes: Uint8Array): unknown[] {
  let out: unknown;
  try {
    if (isColumnBlock(bytes)) return decodeColumns(bytes);
    out = packr.unpack(plainView(bytes));
  } catch (err) {
    throw decodeError(err);
  }
  if (!Array.isArray(out)) throw new FlintError('INTERNAL', 'Corrupt record block: not an array of records');
  return out;
}

/**
 * The records of several blocks (null: none) in one array, in block order: what concatenating their
 * decodeRecords gives, but column blocks are read straight into the one array (a collect of 2M
 * numbers: no array per partition, no copy of them all).
 */
export function decodeRecordsConcat(blocks: ReadonlyArray<Uint8Array | null>): unknown[] {
  const parts: Array<ReturnType<typeof decodeColumnFields> | unknown[] | null> = [];
  let total = 0;
  try {
    for (const b of blocks) {
      const part = b === null ? null : isColumnBlock(b) ? decodeColumnFields(b) : decodeRecords(b);
      total += part === null ? 0 : Array.isArray(part) ? part.length : part.rows;
      parts.push(part);
    }
  } catch (err) {
    throw err instanceof FlintError ? err : decodeError(err);
  }
  if (parts.length === 1 && Array.isArray(parts[0])) return parts[0];
  // All numbers: an array of doubles from the start (filled once), rather than one that changes
  // its elements' kind at the first double (2M numbers: half the time).
  const numbers = parts.every((p) => p === null || (!Array.isArray(p) && !p.pair && !Array.isArray(p.cols[0])));
  const out = numbers ? new Array<unknown>(total).fill(0.5) : new Array<unknown>(total);
  let at = 0;
  for (const part of parts) {
    if (part === null) continue;
    if (Array.isArray(part)) {
      for (let i = 0; i < part.length; i++) out[at + i] = part[i];
      at += part.length;
    } else {
      columnRowsInto(part, out, at);
      at += part.rows;
    }
  }
  return out;
}

export function encodeValue(v: unknown): Uint8Array {
  return owned(packr.pack(prepare(v, null)));
}

/**
 * The same bytes as `encodeValue`, without the copy into a buffer of their own: a view into the
 * codec's output buffer, which is never written over (a full one is replaced) but stays alive as
 * long as the view. For bytes copied at once into something else (a frame, another message's
 * payload): a message crossing the cluster is encoded two or three times on its way, and a copy
 * and an allocation each time are a large part of what a tiny task costs.
 */
export function encodeValueShared(v: unknown): Uint8Array {
  return plainView(packr.pack(prepare(v, null)));
}

/** A closure's env: record values, and RegExps (see the top of this file). */
export function encodeEnvValue(v: unknown): Uint8Array {
  return owned(packr.pack(prepare(v, null, true)));
}

export function decodeValue(bytes: Uint8Array): unknown {
  try {
    return packr.unpack(plainView(bytes));
  } catch (err) {
    throw decodeError(err);
  }
}

/**
 * Appends records one at a time (a shuffle writer keeps one per bucket). Records are packed in
 * batches because one `pack` of an array costs a fraction of one `pack` per record; encoded batches
 * are kept without their array header and `finish` writes a single array32 header in front.
 */
export class RecordBlockWriter {
  private pending: unknown[] = [];
  private chunks: Uint8Array[] = [];
  private encodedBytes = 0;
  private count = 0;
  private readonly batchSize: number;

  constructor(options: { batchSize?: number } = {}) {
    this.batchSize = Math.max(1, options.batchSize ?? 512);
  }

  add(record: unknown): void {
    this.pending.push(prepare(record, this.count));
    this.count++;
    if (this.pending.length >= this.batchSize) this.flushPending();
  }

  /** Number of records added so far. */
  get length(): number {
    return this.count;
  }

  /**
   * Encoded size so far. Records still waiting in the current batch are encoded to measure them,
   * so calling this after every `add` defeats batching; callers poll it every few hundred records.
   */
  get byteLength(): number {
    if (this.pending.length > 0) this.flushPending();
    return 5 + this.encodedBytes;
  }

  finish(): Uint8Array {
    if (this.pending.length > 0) this.flushPending();
    const out = new Uint8Array(5 + this.encodedBytes);
    out[0] = 0xdd;
    new DataView(out.buffer).setUint32(1, this.count);
    let pos = 5;
    for (const c of this.chunks) {
      out.set(c, pos);
      pos += c.byteLength;
    }
    this.pending = [];
    this.chunks = [];
    this.encodedBytes = 0;
    this.count = 0;
    return out;
  }

  private flushPending(): void {
    const packed = packr.pack(this.pending);
    const header = packed[0] === 0xdd ? 5 : packed[0] === 0xdc ? 3 : 1;
    const body = packed.subarray(header);
    this.chunks.push(owned(body));
    this.encodedBytes += body.byteLength;
    this.pending = [];
  }
}
