import { FlintError } from '../errors.js';
import { describeType } from './records.js';

/**
 * Keys compare by value, as tuples do in Spark. Supported key values: numbers, bigint, strings,
 * booleans, null, undefined, Uint8Array, arrays and plain objects of those. -0 equals 0, every NaN
 * is one key, `1` and `1n` are DIFFERENT keys (they are different types; compareValues still
 * orders them as equal numbers). Date, Map, Set and other typed arrays are rejected as keys.
 *
 * Canonical bytes (the input of the partitioning hash, identical on every executor):
 *   undefined 0x00 | null 0x01 | false 0x02 | true 0x03
 *   number    0x04 + float64 big-endian (-0 written as 0, NaN as 0x7ff8000000000000)
 *   bigint    0x05 + sign (0 / 1 negative) + u32 BE magnitude length + magnitude big-endian
 *   string    0x06 + WTF-8 bytes + 0xFF   (0xFF never occurs in (W)TF-8, so no length is needed,
 *             which lets the string hash stream over the characters without a first pass;
 *             lone surrogates encode as their 3-byte form and stay distinct from U+FFFD)
 *   Uint8Array 0x07 + u32 BE length + bytes
 *   array     0x08 + u32 BE count + elements
 *   object    0x09 + u32 BE count + (string key encoding, value) sorted by key in code point order
 */

const T_UNDEFINED = 0x00;
const T_NULL = 0x01;
const T_FALSE = 0x02;
const T_TRUE = 0x03;
const T_NUMBER = 0x04;
const T_BIGINT = 0x05;
const T_STRING = 0x06;
const T_BYTES = 0x07;
const T_ARRAY = 0x08;
const T_OBJECT = 0x09;
const STRING_END = 0xff;

const MAX_DEPTH = 512;

// Scratch state shared by all calls: keys are hashed once per record on the shuffle path, so the
// encoder must not allocate per call.
let buf = new Uint8Array(256);
let view = new DataView(buf.buffer);
let pos = 0;
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function ensure(extra: number): void {
  if (pos + extra <= buf.length) return;
  let size = buf.length * 2;
  while (size < pos + extra) size *= 2;
  const next = new Uint8Array(size);
  next.set(buf.subarray(0, pos));
  buf = next;
  view = new DataView(buf.buffer);
}

function unsupportedKey(key: unknown): FlintError {
  return new FlintError(
    'UNSUPPORTED_RECORD',
    `Unsupported key: ${describeType(key)}. Keys must be numbers, bigint, strings, booleans, null, ` +
      'undefined, Uint8Array, or arrays / plain objects of those (Date, Map and Set are not keys: ' +
      'use date.getTime() or an array of entries).',
  );
}

/** Code point order, the order of UTF-8 bytes; object keys are sorted with it. */
export function compareStrings(a: string, b: string): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Only units >= 0xD800 disagree between UTF-16 and code point order: surrogates (pairs encode
    // code points above U+FFFF) must sort after U+E000..U+FFFF. This bijection of code units fixes it.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x < 0xe000 ? x + 0x2000 : x - 0x800;
      y = y < 0xe000 ? y + 0x2000 : y - 0x800;
    }
    return x - y;
  }
  return a.length - b.length;
}

function sortedKeys(o: object): string[] {
  const keys = Object.keys(o);
  if (keys.length > 1) keys.sort(compareStrings);
  return keys;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function writeU32(n: number): void {
  ensure(4);
  view.setUint32(pos, n);
  pos += 4;
}

function writeNumber(n: number): void {
  ensure(9);
  buf[pos++] = T_NUMBER;
  if (n === 0) n = 0; // -0 → 0
  if (n !== n) {
    view.setUint32(pos, 0x7ff80000);
    view.setUint32(pos + 4, 0);
  } else {
    view.setFloat64(pos, n);
  }
  pos += 8;
}

function writeString(s: string): void {
  ensure(s.length * 3 + 2);
  buf[pos++] = T_STRING;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < len) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          buf[pos++] = 0xf0 | (c >> 18);
          buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
          buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
          buf[pos++] = 0x80 | (c & 0x3f);
          continue;
        }
      }
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  buf[pos++] = STRING_END;
}

function writeBigInt(b: bigint): void {
  const neg = b < 0n;
  const hex = (neg ? -b : b).toString(16);
  const len = (hex.length + 1) >> 1;
  ensure(6 + len);
  buf[pos++] = T_BIGINT;
  buf[pos++] = neg ? 1 : 0;
  view.setUint32(pos, len);
  pos += 4;
  let i = hex.length & 1 ? -1 : 0;
  for (let k = 0; k < len; k++, i += 2) {
    buf[pos++] = parseInt(i < 0 ? hex[0]! : hex.slice(i, i + 2), 16);
  }
}

function writeKey(k: unknown, depth: number): void {
  switch (typeof k) {
    case 'number':
      writeNumber(k);
      return;
    case 'string':
      writeString(k);
      return;
    case 'boolean':
      ensure(1);
      buf[pos++] = k ? T_TRUE : T_FALSE;
      return;
    case 'undefined':
      ensure(1);
      buf[pos++] = T_UNDEFINED;
      return;
    case 'bigint':
      writeBigInt(k);
      return;
    case 'object': {
      if (k === null) {
        ensure(1);
        buf[pos++] = T_NULL;
        return;
      }
      if (depth > MAX_DEPTH) throw new FlintError('UNSUPPORTED_RECORD', `Unsupported key: nested deeper than ${MAX_DEPTH} levels (cyclic?)`);
      if (Array.isArray(k)) {
        ensure(1);
        buf[pos++] = T_ARRAY;
        writeU32(k.length);
        for (let i = 0; i < k.length; i++) writeKey(k[i], depth + 1);
        return;
      }
      if (k instanceof Uint8Array) {
        ensure(5 + k.length);
        buf[pos++] = T_BYTES;
        view.setUint32(pos, k.length);
        pos += 4;
        buf.set(k, pos);
        pos += k.length;
        return;
      }
      if (isPlainObject(k)) {
        const keys = sortedKeys(k);
        ensure(1);
        buf[pos++] = T_OBJECT;
        writeU32(keys.length);
        for (const name of keys) {
          writeString(name);
          writeKey((k as Record<string, unknown>)[name], depth + 1);
        }
        return;
      }
      throw unsupportedKey(k);
    }
    default:
      throw unsupportedKey(k);
  }
}

/** Deterministic, type-tagged bytes of a key; equal-by-value keys give equal bytes. */
export function canonicalKeyBytes(key: unknown): Uint8Array {
  pos = 0;
  writeKey(key, 0);
  return buf.slice(0, pos);
}

// murmur3_x86_32 ------------------------------------------------------------------------------

const SEED = 42;
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixK(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixH(h: number, k: number): number {
  h ^= mixK(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number, len: number): number {
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** murmur3_x86_32 of bytes[0..len), seed 42, as an unsigned 32-bit integer. */
export function murmur3(bytes: Uint8Array, len: number = bytes.length, seed: number = SEED): number {
  return murmur3Range(bytes, 0, len, seed);
}

/** murmur3_x86_32 of bytes[start..end), as an unsigned 32-bit integer. */
export function murmur3Range(bytes: Uint8Array, start: number, end: number, seed: number = SEED): number {
  let h = seed | 0;
  const len = end - start;
  const blocks = start + (len & ~3);
  let i = start;
  for (; i < blocks; i += 4) {
    h = mixH(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
  }
  let k = 0;
  switch (len & 3) {
    case 3:
      k ^= bytes[i + 2]! << 16;
    // falls through
    case 2:
      k ^= bytes[i + 1]! << 8;
    // falls through
    case 1:
      k ^= bytes[i]!;
      h ^= mixK(k);
  }
  return fmix(h, len);
}

// Streaming state for the string fast path: bytes are fed one at a time into a 4-byte word.
let sh = 0;
let sk = 0;
let sn = 0; // bytes fed so far

function feed(b: number): void {
  sk |= b << ((sn & 3) << 3);
  sn++;
  if ((sn & 3) === 0) {
    sh = mixH(sh, sk);
    sk = 0;
  }
}

function hashString(s: string): number {
  sh = SEED;
  sk = 0;
  sn = 0;
  feed(T_STRING);
  const len = s.length;
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      feed(c);
    } else if (c < 0x800) {
      feed(0xc0 | (c >> 6));
      feed(0x80 | (c & 0x3f));
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < len) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          feed(0xf0 | (c >> 18));
          feed(0x80 | ((c >> 12) & 0x3f));
          feed(0x80 | ((c >> 6) & 0x3f));
          feed(0x80 | (c & 0x3f));
          continue;
        }
      }
      feed(0xe0 | (c >> 12));
      feed(0x80 | ((c >> 6) & 0x3f));
      feed(0x80 | (c & 0x3f));
    }
  }
  feed(STRING_END);
  if ((sn & 3) !== 0) sh ^= mixK(sk);
  return fmix(sh, sn);
}

function hashNumber(n: number): number {
  // Canonical bytes are [0x04, f64 BE x 8]: 9 bytes = two words + one tail byte.
  let b0: number, b1: number, b2: number, b3: number, b4: number, b5: number, b6: number, b7: number;
  if (n !== n) {
    b0 = 0x7f; b1 = 0xf8; b2 = b3 = b4 = b5 = b6 = b7 = 0;
  } else {
    f64[0] = n === 0 ? 0 : n;
    if (littleEndian) {
      b0 = f64Bytes[7]!; b1 = f64Bytes[6]!; b2 = f64Bytes[5]!; b3 = f64Bytes[4]!;
      b4 = f64Bytes[3]!; b5 = f64Bytes[2]!; b6 = f64Bytes[1]!; b7 = f64Bytes[0]!;
    } else {
      b0 = f64Bytes[0]!; b1 = f64Bytes[1]!; b2 = f64Bytes[2]!; b3 = f64Bytes[3]!;
      b4 = f64Bytes[4]!; b5 = f64Bytes[5]!; b6 = f64Bytes[6]!; b7 = f64Bytes[7]!;
    }
  }
  let h = mixH(SEED, T_NUMBER | (b0 << 8) | (b1 << 16) | (b2 << 24));
  h = mixH(h, b3 | (b4 << 8) | (b5 << 16) | (b6 << 24));
  h ^= mixK(b7);
  return fmix(h, 9);
}

/** Non-negative 32-bit murmur3_x86_32 (seed 42) of `canonicalKeyBytes(key)`. */
export function hashKey(key: unknown): number {
  if (typeof key === 'string') return hashString(key);
  if (typeof key === 'number') return hashNumber(key);
  pos = 0;
  writeKey(key, 0);
  return murmur3(buf, pos);
}

/**
 * Another hash of the same canonical bytes (murmur3 with `seed`): spills that split one reduce
 * partition again need bits independent of those that chose the partition.
 */
export function hashKeySeeded(key: unknown, seed: number): number {
  pos = 0;
  writeKey(key, 0);
  return murmur3(buf, pos, seed);
}

/** Spark's HashPartitioner: the partition of a key among `numPartitions`. */
export function hashPartition(key: unknown, numPartitions: number): number {
  return hashKey(key) % numPartitions;
}

/** Value equality of keys (the equality of `canonicalKeyBytes`, without building them). */
export function keysEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ta = typeof a;
  if (ta !== typeof b) return false;
  if (ta === 'number') return a !== a && b !== b; // NaN; -0 === 0 was handled above
  if (ta !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!keysEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  if (a instanceof Uint8Array) {
    if (!(b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (b instanceof Uint8Array) return false;
  if (!isPlainObject(a as object)) throw unsupportedKey(a);
  if (!isPlainObject(b as object)) throw unsupportedKey(b);
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!keysEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

// KeyMap ----------------------------------------------------------------------------------------

/**
 * Canonical string of a composite key for the native Map, prefixed with U+0000 'c'. A string key
 * that itself starts with U+0000 is stored as U+0000 's' + key so the two never collide; every
 * other primitive is its own Map key (SameValueZero already merges -0/0 and all NaNs).
 */
function canonicalString(k: unknown, depth: number): string {
  switch (typeof k) {
    case 'number':
      return k !== k ? 'N' : `d${k === 0 ? 0 : k};`;
    case 'string':
      return `s${k.length}:${k}`;
    case 'boolean':
      return k ? 'T' : 'F';
    case 'undefined':
      return 'U';
    case 'bigint':
      return `b${k};`;
    case 'object': {
      if (k === null) return 'Z';
      if (depth > MAX_DEPTH) throw new FlintError('UNSUPPORTED_RECORD', `Unsupported key: nested deeper than ${MAX_DEPTH} levels (cyclic?)`);
      if (Array.isArray(k)) {
        let s = '[';
        for (let i = 0; i < k.length; i++) s += canonicalString(k[i], depth + 1);
        return s + ']';
      }
      if (k instanceof Uint8Array) {
        let s = `x${k.length}:`;
        for (let i = 0; i < k.length; i++) s += String.fromCharCode(k[i]!);
        return s;
      }
      if (isPlainObject(k)) {
        let s = '{';
        for (const name of sortedKeys(k)) {
          s += `${name.length}:${name}` + canonicalString((k as Record<string, unknown>)[name], depth + 1);
        }
        return s + '}';
      }
      throw unsupportedKey(k);
    }
    default:
      throw unsupportedKey(k);
  }
}

const COMPOSITE_PREFIX = '\u0000c';
const ESCAPED_PREFIX = '\u0000s';

/** A hash map by key value, iterating in first-insertion order; the reduce-side table. */
export class KeyMap<V> {
  private readonly map = new Map<unknown, V>();
  /** Original key of each composite entry, by its storage string. */
  private readonly originals = new Map<string, unknown>();

  private storageKey(key: unknown): unknown {
    if (typeof key === 'string') return key.charCodeAt(0) === 0 ? ESCAPED_PREFIX + key : key;
    if (typeof key !== 'object' || key === null) {
      if (typeof key === 'symbol' || typeof key === 'function') throw unsupportedKey(key);
      return key;
    }
    return COMPOSITE_PREFIX + canonicalString(key, 0);
  }

  private originalKey(stored: unknown): unknown {
    if (typeof stored === 'string' && stored.charCodeAt(0) === 0) {
      return stored.charCodeAt(1) === 0x73 /* s */ ? stored.slice(2) : this.originals.get(stored);
    }
    return stored;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: unknown): V | undefined {
    if (typeof key === 'number' || (typeof key === 'string' && key.charCodeAt(0) !== 0)) return this.map.get(key);
    return this.map.get(this.storageKey(key));
  }

  has(key: unknown): boolean {
    if (typeof key === 'number' || (typeof key === 'string' && key.charCodeAt(0) !== 0)) return this.map.has(key);
    return this.map.has(this.storageKey(key));
  }

  set(key: unknown, value: V): this {
    if (typeof key === 'number' || (typeof key === 'string' && key.charCodeAt(0) !== 0)) {
      this.map.set(key, value);
      return this;
    }
    const stored = this.storageKey(key);
    if (typeof stored === 'string' && stored.startsWith(COMPOSITE_PREFIX) && !this.originals.has(stored)) {
      this.originals.set(stored, key);
    }
    this.map.set(stored, value);
    return this;
  }

  delete(key: unknown): boolean {
    const stored = this.storageKey(key);
    const had = this.map.delete(stored);
    if (had && typeof stored === 'string' && stored.startsWith(COMPOSITE_PREFIX)) this.originals.delete(stored);
    return had;
  }

  clear(): void {
    this.map.clear();
    this.originals.clear();
  }

  *entries(): IterableIterator<[unknown, V]> {
    for (const [k, v] of this.map) yield [this.originalKey(k), v];
  }

  *keys(): IterableIterator<unknown> {
    for (const k of this.map.keys()) yield this.originalKey(k);
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  [Symbol.iterator](): IterableIterator<[unknown, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: unknown, map: this) => void): void {
    for (const [k, v] of this.map) fn(v, this.originalKey(k), this);
  }
}
