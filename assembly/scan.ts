// Byte scanning: lines and whitespace-separated words straight from UTF-8 bytes.
//
// Word separators are exactly JavaScript's \s: ASCII \t \n \v \f \r and space, plus the multi-byte
// U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000, U+FEFF, matched as their
// complete UTF-8 sequences. Every other byte, including bytes of invalid UTF-8, belongs to a word.
// That agrees with splitting the TextDecoder (fatal: false) output, because the decoder never
// swallows an ASCII byte or a lead byte into an invalid sequence: it emits U+FFFD and restarts at
// that byte, so a complete separator sequence decodes to the same separator wherever it appears,
// and decoding each word separately equals cutting the decoded text at the separators. Invalid
// bytes do make distinct byte keys that decode to the same string ("a\xFF" and "a\xFE" are both
// "a\uFFFD"); the host merges those after decoding.
import { upsertBytes, wasNew, isWordMap, wordSlots, wordMask, wordAddShort, wordAddLong, W_INLINE } from './map';
import { hashBytes, hashShort } from './hash';

// 0: word byte, 1: ASCII whitespace, 2: lead byte of a possible multi-byte whitespace sequence.
const CLASS = memory.data(256);

function initClassTable(): void {
  store<u8>(CLASS + 0x09, 1);
  store<u8>(CLASS + 0x0a, 1);
  store<u8>(CLASS + 0x0b, 1);
  store<u8>(CLASS + 0x0c, 1);
  store<u8>(CLASS + 0x0d, 1);
  store<u8>(CLASS + 0x20, 1);
  store<u8>(CLASS + 0xc2, 2);
  store<u8>(CLASS + 0xe1, 2);
  store<u8>(CLASS + 0xe2, 2);
  store<u8>(CLASS + 0xe3, 2);
  store<u8>(CLASS + 0xef, 2);
}
initClassTable();

/** Length of the multi-byte whitespace sequence at p (a class-2 lead byte), or 0. */
function multiByteSpace(p: usize, end: usize): u32 {
  const b0 = load<u8>(p);
  if (b0 == 0xc2) return p + 1 < end && load<u8>(p, 1) == 0xa0 ? 2 : 0;
  if (p + 2 >= end) return 0;
  const b1 = load<u8>(p, 1);
  const b2 = load<u8>(p, 2);
  if (b0 == 0xe2) {
    if (b1 == 0x80) return (b2 >= 0x80 && b2 <= 0x8a) || b2 == 0xa8 || b2 == 0xa9 || b2 == 0xaf ? 3 : 0;
    return b1 == 0x81 && b2 == 0x9f ? 3 : 0;
  }
  if (b0 == 0xe3) return b1 == 0x80 && b2 == 0x80 ? 3 : 0;
  if (b0 == 0xe1) return b1 == 0x9a && b2 == 0x80 ? 3 : 0;
  if (b0 == 0xef) return b1 == 0xbb && b2 == 0xbf ? 3 : 0;
  return 0;
}

let wordEnd: usize = 0;

const SP = i8x16.splat(0x20);
const HI = i8x16.splat(<i8>0x80);

// First byte at or after q that is not plain ASCII text (≤ 0x20 or ≥ 0x80), 16 bytes at a time;
// may return a position past end (the allocator keeps readable slack after every buffer).
// @ts-ignore: decorator
@inline function nextSpecial(q: usize): usize {
  while (true) {
    const v = v128.load(q);
    const special = v128.or(i8x16.le_u(v, SP), i8x16.ge_u(v, HI));
    const bits = i8x16.bitmask(special);
    if (bits != 0) return q + <usize>ctz<u32>(bits);
    q += 16;
  }
}

// Returns the start of the next word at or after p (end if none) and leaves its end in `wordEnd`.
// @ts-ignore: decorator
@inline function nextWord(p: usize, end: usize): usize {
  while (p < end) {
    const c = load<u8>(CLASS + <usize>load<u8>(p));
    if (c == 0) break;
    if (c == 1) {
      p++;
      continue;
    }
    const w = multiByteSpace(p, end);
    if (w == 0) break;
    p += w;
  }
  let q = p;
  while (q < end) {
    q = nextSpecial(q);
    if (q >= end) {
      q = end;
      break;
    }
    const c = load<u8>(CLASS + <usize>load<u8>(q));
    if (c == 1 || (c == 2 && multiByteSpace(q, end) != 0)) break;
    q++;
  }
  wordEnd = q;
  return p;
}

const BATCH: u32 = 64;
const batchStart = memory.data(<i32>(BATCH * 4), 16);
const batchLen = memory.data(<i32>(BATCH * 4), 16);
const batchHash = memory.data(<i32>(BATCH * 4), 16);
export let touched: u32 = 0;

/**
 * Adds every word of text[0, len) to a byte-keyed COUNT map, one per occurrence. Words are found
 * and hashed a batch at a time, touching their slots on the way, before any map update: the slot
 * loads of a batch then overlap instead of each waiting behind the previous word's update.
 */
export function wordCount(m: usize, text: usize, len: u32): void {
  if (isWordMap(m)) {
    wordCountInline(m, text, len);
    return;
  }
  const end = text + len;
  let p = text;
  let t: u32 = 0;
  while (p < end) {
    let n: u32 = 0;
    const slots = <usize>load<u32>(m, 0);
    const mask = load<u32>(m, 4);
    while (n < BATCH && p < end) {
      const s = nextWord(p, end);
      if (s >= end) {
        p = end;
        break;
      }
      const klen = <u32>(wordEnd - s);
      const h = hashBytes(s, klen);
      store<u32>(batchStart + (<usize>n << 2), <u32>(s - text));
      store<u32>(batchLen + (<usize>n << 2), klen);
      store<u32>(batchHash + (<usize>n << 2), h);
      t ^= load<u32>(slots + (<usize>(h & mask) << 3), 4);
      n++;
      p = wordEnd;
    }
    for (let i: u32 = 0; i < n; i++) {
      const v = upsertBytes(m, text + load<u32>(batchStart + (<usize>i << 2)), load<u32>(batchLen + (<usize>i << 2)),
        load<u32>(batchHash + (<usize>i << 2)));
      if (wasNew) store<f64>(v, 1.0);
      else store<f64>(v, load<f64>(v) + 1.0);
    }
  }
  touched ^= t;
}

const batchK0 = memory.data(<i32>(BATCH * 8), 16);
const batchK1 = memory.data(<i32>(BATCH * 8), 16);

// wordCount on a word table (map.ts, wordMapNew): a batch of words is found, and short ones read
// as two zero-padded words and hashed from those, before their slots are touched in a loop that
// does nothing else (the fewer instructions per word, the more misses in flight) and then counted.
function wordCountInline(m: usize, text: usize, len: u32): void {
  const end = text + len;
  let p = text;
  let t: u32 = 0;
  let slots = wordSlots(m);
  let mask = wordMask(m);
  while (p < end) {
    let n: u32 = 0;
    while (n < BATCH && p < end) {
      const s = nextWord(p, end);
      if (s >= end) {
        p = end;
        break;
      }
      const klen = <u32>(wordEnd - s);
      let h: u32;
      if (klen <= W_INLINE) {
        // Reading 16 bytes past a word's start is safe: staged text is followed by slack.
        let k0 = load<u64>(s);
        let k1: u64 = 0;
        if (klen < 8) {
          k0 &= (<u64>1 << (<u64>klen << 3)) - 1;
        } else if (klen > 8) {
          k1 = load<u64>(s, 8);
          if (klen < 16) k1 &= (<u64>1 << (<u64>(klen - 8) << 3)) - 1;
        }
        store<u64>(batchK0 + (<usize>n << 3), k0);
        store<u64>(batchK1 + (<usize>n << 3), k1);
        h = hashShort(k0, k1, klen);
      } else {
        h = hashBytes(s, klen);
      }
      store<u32>(batchStart + (<usize>n << 2), <u32>(s - text));
      store<u32>(batchLen + (<usize>n << 2), klen);
      store<u32>(batchHash + (<usize>n << 2), h);
      n++;
      p = wordEnd;
    }
    for (let i: u32 = 0; i < n; i++) t ^= load<u32>(slots + (<usize>(load<u32>(batchHash + (<usize>i << 2)) & mask) << 5), 20);
    for (let i: u32 = 0; i < n; i++) {
      const klen = load<u32>(batchLen + (<usize>i << 2));
      const h = load<u32>(batchHash + (<usize>i << 2));
      let grew: bool;
      if (klen <= W_INLINE) {
        grew = wordAddShort(m, slots, mask, load<u64>(batchK0 + (<usize>i << 3)), load<u64>(batchK1 + (<usize>i << 3)), klen, h);
      } else {
        grew = wordAddLong(m, text + load<u32>(batchStart + (<usize>i << 2)), klen, h);
      }
      if (grew) {
        slots = wordSlots(m);
        mask = wordMask(m);
      }
    }
  }
  touched ^= t;
}

/** Writes (start, end) byte offsets of each word to out (when out != 0); returns the word count. */
export function wordSpans(text: usize, len: u32, out: usize): u32 {
  const end = text + len;
  let p = text;
  let n: u32 = 0;
  while (p < end) {
    const s = nextWord(p, end);
    if (s >= end) break;
    if (out != 0) {
      store<u32>(out + (<usize>n << 3), <u32>(s - text));
      store<u32>(out + (<usize>n << 3), <u32>(wordEnd - text), 4);
    }
    n++;
    p = wordEnd;
  }
  return n;
}

/**
 * Lines end at "\n"; a "\r" before it is dropped. A final "\n" does not start another (empty) line,
 * and empty text has no lines, as in Hadoop's line reader that Spark's textFile uses.
 */
export function lineSpans(text: usize, len: u32, out: usize): u32 {
  let i: u32 = 0;
  let n: u32 = 0;
  while (i < len) {
    let j = i;
    while (j < len && load<u8>(text + j) != 0x0a) j++;
    let e = j;
    if (e > i && load<u8>(text + e - 1) == 0x0d) e--;
    if (out != 0) {
      store<u32>(out + (<usize>n << 3), i);
      store<u32>(out + (<usize>n << 3), e, 4);
    }
    n++;
    i = j + 1;
  }
  return n;
}

/** Occurrences of byte `b` in text[0, len): 16 bytes per step, compared and counted as a bitmask. */
export function countByte(text: usize, len: u32, b: u8): u32 {
  const end = text + len;
  const needle = i8x16.splat(<i8>b);
  let p = text;
  let n: u32 = 0;
  while (p + 16 <= end) {
    n += popcnt<u32>(i8x16.bitmask(i8x16.eq(v128.load(p), needle)));
    p += 16;
  }
  while (p < end) {
    if (load<u8>(p) == b) n++;
    p++;
  }
  return n;
}
