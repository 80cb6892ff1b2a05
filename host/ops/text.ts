/**
 * Text helpers shared by the wasm binding and the twins: packing strings as UTF-8, decoding
 * distinct keys, and the byte-level word/line scanner (the TypeScript twin of assembly/scan.ts).
 */
import type { PackedBytes } from './types.js';

const encoder = new TextEncoder();
// Keys never start a stream, but a key that begins with the bytes of U+FEFF must not lose them.
const keyDecoder = new TextDecoder('utf-8', { ignoreBOM: true });

export function decodeKey(bytes: Uint8Array): string {
  return keyDecoder.decode(bytes);
}

/** UTF-8 encodes strings into one buffer; lone surrogates become U+FFFD, as TextEncoder does. */
export function packStrings(keys: readonly string[]): PackedBytes {
  let cap = 0;
  for (const k of keys) cap += k.length * 3;
  const bytes = new Uint8Array(cap);
  const offsets = new Uint32Array(keys.length + 1);
  let at = 0;
  for (let i = 0; i < keys.length; i++) {
    at += encoder.encodeInto(keys[i]!, bytes.subarray(at)).written;
    offsets[i + 1] = at;
  }
  return { bytes: bytes.subarray(0, at), offsets };
}

export function unpackStrings(keys: PackedBytes): string[] {
  const n = keys.offsets.length - 1;
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = keyDecoder.decode(keys.bytes.subarray(keys.offsets[i]!, keys.offsets[i + 1]!));
  return out;
}

/**
 * Word counts from distinct byte keys. Different invalid byte sequences decode to the same string
 * (both "a\xFF" and "a\xFE" are "a\uFFFD"), so counts are merged by decoded string; a merged word
 * keeps the position of its first variant, which is where a JS Map over the decoded text puts it.
 */
export function mergeDecodedCounts(keys: string[], counts: ArrayLike<number>): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const c = out.get(k);
    out.set(k, c === undefined ? counts[i]! : c + counts[i]!);
  }
  return out;
}

// 0: word byte, 1: ASCII whitespace, 2: lead byte of a possible multi-byte whitespace sequence.
const CLASS = new Uint8Array(256);
for (const b of [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20]) CLASS[b] = 1;
for (const b of [0xc2, 0xe1, 0xe2, 0xe3, 0xef]) CLASS[b] = 2;

/** Length of the JS-\s whitespace sequence starting at i (a class-2 lead byte), or 0. */
function multiByteSpace(t: Uint8Array, i: number, end: number): number {
  const b0 = t[i]!;
  if (b0 === 0xc2) return i + 1 < end && t[i + 1] === 0xa0 ? 2 : 0;
  if (i + 2 >= end) return 0;
  const b1 = t[i + 1]!;
  const b2 = t[i + 2]!;
  if (b0 === 0xe2) {
    if (b1 === 0x80) return (b2 >= 0x80 && b2 <= 0x8a) || b2 === 0xa8 || b2 === 0xa9 || b2 === 0xaf ? 3 : 0;
    return b1 === 0x81 && b2 === 0x9f ? 3 : 0;
  }
  if (b0 === 0xe3) return b1 === 0x80 && b2 === 0x80 ? 3 : 0;
  if (b0 === 0xe1) return b1 === 0x9a && b2 === 0x80 ? 3 : 0;
  if (b0 === 0xef) return b1 === 0xbb && b2 === 0xbf ? 3 : 0;
  return 0;
}

/** Calls visit(start, end) for each word of t[from, to). */
export function scanWords(t: Uint8Array, visit: (start: number, end: number) => void, from = 0, to = t.length): void {
  let p = from;
  while (p < to) {
    while (p < to) {
      const c = CLASS[t[p]!]!;
      if (c === 0) break;
      if (c === 1) {
        p++;
        continue;
      }
      const w = multiByteSpace(t, p, to);
      if (w === 0) break;
      p += w;
    }
    if (p >= to) return;
    let q = p + 1;
    while (q < to) {
      const c = CLASS[t[q]!]!;
      if (c === 0) {
        q++;
        continue;
      }
      if (c === 1 || multiByteSpace(t, q, to) !== 0) break;
      q++;
    }
    visit(p, q);
    p = q;
  }
}

export function scanLines(t: Uint8Array, visit: (start: number, end: number) => void): void {
  let i = 0;
  const len = t.length;
  while (i < len) {
    let j = t.indexOf(0x0a, i);
    if (j < 0) j = len;
    let e = j;
    if (e > i && t[e - 1] === 0x0d) e--;
    visit(i, e);
    i = j + 1;
  }
}

export function isAsciiSpace(b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d);
}

/**
 * Where to cut text for chunked processing: just after the last ASCII whitespace byte before
 * `limit` (or after the first one past it when a word is longer than a chunk). Cutting there
 * cannot split a word or a multi-byte separator.
 */
export function chunkEnd(t: Uint8Array, start: number, limit: number): number {
  if (limit >= t.length) return t.length;
  for (let i = limit - 1; i >= start; i--) if (isAsciiSpace(t[i]!)) return i + 1;
  for (let i = limit; i < t.length; i++) if (isAsciiSpace(t[i]!)) return i + 1;
  return t.length;
}

const textDecoder = new TextDecoder();

/**
 * Decodes (start, end) spans of text. A span at offset 0 is decoded the way the whole text would
 * be, which drops a leading byte order mark.
 */
export function decodeSpans(text: Uint8Array, spans: Uint32Array): string[] {
  const n = spans.length >>> 1;
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const s = spans[2 * i]!;
    out[i] = (s === 0 ? textDecoder : keyDecoder).decode(text.subarray(s, spans[2 * i + 1]!));
  }
  return out;
}
