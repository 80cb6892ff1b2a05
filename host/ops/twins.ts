/**
 * Plain TypeScript twins of the WebAssembly operators: the same API and the same results (the same
 * batches, orders and word splits), used as the reference in property tests and as the fallback
 * when WebAssembly is unavailable or disabled (FLINT_WASM=0).
 */
import { FlintError } from '../errors.js';
import { oneShotAggregation } from './one-shot.js';
import { decodeAggBatch, encodeAggBatch, stateWidth, aggCode, keyCode } from './batch.js';
import { bytesPrefixes, compareByteRanges, numberPrefixes, type Prefixes } from './prefix.js';
import { decodeKey, decodeSpans, mergeDecodedCounts, packStrings, scanLines, scanWords } from './text.js';
import type {
  AggKind, F64Column, FlintOps, HashAggregator, KeyKind, NumericKeys, PackedBytes, SortOptions, SortableNumbers,
} from './types.js';

type MapKey = bigint | number | string;

/** A byte string as a JS string with one char per byte: distinct bytes give distinct strings. */
function byteString(b: Uint8Array, s: number, e: number): string {
  if (e - s <= 4096) return String.fromCharCode.apply(null, b.subarray(s, e) as unknown as number[]);
  let out = '';
  for (let i = s; i < e; i += 4096) out += String.fromCharCode.apply(null, b.subarray(i, Math.min(e, i + 4096)) as unknown as number[]);
  return out;
}

class TwinAggregator implements HashAggregator {
  private readonly index = new Map<MapKey, number>();
  private readonly width: number;
  private state = new Float64Array(64);
  private i64Keys = new BigInt64Array(16);
  private f64Keys = new Float64Array(16);
  private keyBytes = new Uint8Array(256);
  private keyOffsets = new Uint32Array(17);
  private rows = 0;
  private released = false;

  constructor(readonly keyKind: KeyKind, readonly kind: AggKind) {
    keyCode(keyKind);
    aggCode(kind);
    this.width = stateWidth(kind);
  }

  get size(): number {
    return this.rows;
  }

  /** The WebAssembly table's capacity for as many keys (64 slots at first, doubled at half full). */
  get capacity(): number {
    let cap = 64;
    while (this.rows >= cap >> 1) cap *= 2;
    return cap;
  }

  /** Its typed arrays, plus what a JS Map spends on each key (about 40 bytes). */
  memoryBytes(): number {
    return this.state.byteLength + this.i64Keys.byteLength + this.f64Keys.byteLength + this.keyBytes.byteLength +
      this.keyOffsets.byteLength + this.rows * 40;
  }

  addNumeric(keys: NumericKeys, values: Float64Array): void {
    this.check(keys.length, values.length);
    if (this.keyKind === 'i64') {
      if (!(keys instanceof BigInt64Array)) throw wrongKeys('i64', 'BigInt64Array');
      for (let i = 0; i < keys.length; i++) this.addRow(keys[i]!, values[i]!, keys, i);
    } else if (this.keyKind === 'f64') {
      if (!(keys instanceof Float64Array)) throw wrongKeys('f64', 'Float64Array');
      // A Map already treats -0 as +0 and NaN as one key (SameValueZero).
      for (let i = 0; i < keys.length; i++) this.addRow(keys[i]!, values[i]!, keys, i);
    } else throw wrongKeys('bytes', 'PackedBytes (use addBytes)');
  }

  addBytes(keys: PackedBytes, values: Float64Array): void {
    if (this.keyKind !== 'bytes') throw wrongKeys(this.keyKind, this.keyKind === 'i64' ? 'BigInt64Array' : 'Float64Array');
    this.check(keys.offsets.length - 1, values.length);
    const { bytes, offsets } = keys;
    for (let i = 0; i + 1 < offsets.length; i++) {
      this.addRow(byteString(bytes, offsets[i]!, offsets[i + 1]!), values[i]!, keys, i);
    }
  }

  addWords(text: Uint8Array): void {
    if (this.keyKind !== 'bytes' || (this.kind !== 'sum' && this.kind !== 'count')) {
      throw new FlintError('INVALID_ARGUMENT', `addWords needs a bytes/sum or bytes/count aggregator, not ${this.keyKind}/${this.kind}`);
    }
    const spans: number[] = [];
    scanWords(text, (s, e) => spans.push(s, e));
    const n = spans.length >>> 1;
    const offsets = new Uint32Array(n + 1);
    for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + spans[2 * i + 1]! - spans[2 * i]!;
    const bytes = new Uint8Array(offsets[n]!);
    for (let i = 0; i < n; i++) bytes.set(text.subarray(spans[2 * i]!, spans[2 * i + 1]!), offsets[i]!);
    this.addBytes({ bytes, offsets }, new Float64Array(n).fill(1));
  }

  merge(batch: Uint8Array): void {
    this.live();
    const d = decodeAggBatch(batch);
    if (d.keyKind !== this.keyKind || d.kind !== this.kind) {
      throw new FlintError('INVALID_ARGUMENT', `cannot merge a ${d.keyKind}/${d.kind} batch into a ${this.keyKind}/${this.kind} aggregator`);
    }
    const w = this.width;
    for (let r = 0; r < d.rows; r++) {
      let key: MapKey;
      if (this.keyKind === 'i64') key = (d.keys as BigInt64Array)[r]!;
      else if (this.keyKind === 'f64') key = (d.keys as Float64Array)[r]!;
      else {
        const pb = d.keys as PackedBytes;
        key = byteString(pb.bytes, pb.offsets[r]!, pb.offsets[r + 1]!);
      }
      const at = this.index.get(key);
      if (at === undefined) {
        const row = this.newRow(key, d.keys, r);
        this.state.set(d.state.subarray(r * w, r * w + w), row * w);
        continue;
      }
      const s = this.state;
      const o = at * w;
      const q = r * w;
      switch (this.kind) {
        case 'sum': case 'count': s[o] = s[o]! + d.state[q]!; break;
        case 'min': s[o] = Math.min(s[o]!, d.state[q]!); break;
        case 'max': s[o] = Math.max(s[o]!, d.state[q]!); break;
        case 'mean': s[o] = s[o]! + d.state[q]!; s[o + 1] = s[o + 1]! + d.state[q + 1]!; break;
        case 'stats':
          s[o] = s[o]! + d.state[q]!;
          s[o + 1] = s[o + 1]! + d.state[q + 1]!;
          s[o + 2] = Math.min(s[o + 2]!, d.state[q + 2]!);
          s[o + 3] = Math.max(s[o + 3]!, d.state[q + 3]!);
          break;
      }
    }
  }

  finish(): Uint8Array {
    this.live();
    const keys = this.keyKind === 'i64' ? this.i64Keys : this.keyKind === 'f64' ? this.f64Keys
      : { bytes: this.keyBytes.subarray(0, this.keyOffsets[this.rows]!), offsets: this.keyOffsets };
    const out = encodeAggBatch(this.keyKind, this.kind, this.rows, this.state, keys);
    this.release();
    return out;
  }

  release(): void {
    this.released = true;
    this.index.clear();
  }

  private live(): void {
    if (this.released) throw new FlintError('INVALID_ARGUMENT', 'aggregator already finished or released');
  }

  private check(keys: number, values: number): void {
    this.live();
    if (keys !== values) throw new FlintError('INVALID_ARGUMENT', `${keys} keys but ${values} values`);
  }

  private addRow(key: MapKey, x: number, src: NumericKeys | PackedBytes, i: number): void {
    const at = this.index.get(key);
    const s = this.state;
    if (at === undefined) {
      const o = this.newRow(key, src, i) * this.width;
      const st = this.state;
      switch (this.kind) {
        case 'sum': case 'min': case 'max': st[o] = x; break;
        case 'count': st[o] = 1; break;
        case 'mean': st[o] = x; st[o + 1] = 1; break;
        case 'stats': st[o] = 1; st[o + 1] = x; st[o + 2] = x; st[o + 3] = x; break;
      }
      return;
    }
    const o = at * this.width;
    switch (this.kind) {
      case 'sum': s[o] = s[o]! + x; break;
      case 'count': s[o] = s[o]! + 1; break;
      case 'min': s[o] = Math.min(s[o]!, x); break;
      case 'max': s[o] = Math.max(s[o]!, x); break;
      case 'mean': s[o] = s[o]! + x; s[o + 1] = s[o + 1]! + 1; break;
      case 'stats':
        s[o] = s[o]! + 1;
        s[o + 1] = s[o + 1]! + x;
        s[o + 2] = Math.min(s[o + 2]!, x);
        s[o + 3] = Math.max(s[o + 3]!, x);
        break;
    }
  }

  private newRow(key: MapKey, src: NumericKeys | PackedBytes | DecodedKeys, i: number): number {
    const row = this.rows++;
    this.index.set(key, row);
    if ((row + 1) * this.width > this.state.length) this.state = grow(this.state, (row + 1) * this.width);
    if (this.keyKind === 'i64') {
      if (row >= this.i64Keys.length) this.i64Keys = grow(this.i64Keys, row + 1);
      this.i64Keys[row] = key as bigint;
    } else if (this.keyKind === 'f64') {
      if (row >= this.f64Keys.length) this.f64Keys = grow(this.f64Keys, row + 1);
      this.f64Keys[row] = key as number;
    } else {
      const pb = src as PackedBytes;
      const s = pb.offsets[i]!;
      const e = pb.offsets[i + 1]!;
      const at = this.keyOffsets[row]!;
      if (at + (e - s) > this.keyBytes.length) this.keyBytes = grow(this.keyBytes, at + (e - s));
      this.keyBytes.set(pb.bytes.subarray(s, e), at);
      if (row + 2 > this.keyOffsets.length) this.keyOffsets = grow(this.keyOffsets, row + 2);
      this.keyOffsets[row + 1] = at + (e - s);
    }
    return row;
  }
}

type DecodedKeys = BigInt64Array | Float64Array | PackedBytes;

function grow<T extends Float64Array | BigInt64Array | Uint8Array | Uint32Array>(a: T, need: number): T {
  let n = Math.max(16, a.length * 2);
  while (n < need) n *= 2;
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a as never);
  return b;
}

function wrongKeys(kind: KeyKind, expected: string): FlintError {
  return new FlintError('INVALID_ARGUMENT', `a '${kind}' aggregator takes ${expected} keys`);
}

// ---- sorting ----------------------------------------------------------------------------------

/**
 * LSD radix argsort on 16-bit digits of (hi, lo), skipping digits every key shares; stable, so
 * equal prefixes keep index order.
 */
export function radixArgsort(p: Prefixes): Uint32Array {
  const n = p.hi.length;
  let perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  if (n < 2) return perm;
  let tmp = new Uint32Array(n);
  const count = new Uint32Array(65536);
  for (let d = 0; d < 4; d++) {
    const src = d < 2 ? p.lo : p.hi;
    const shift = (d & 1) * 16;
    count.fill(0);
    for (let i = 0; i < n; i++) count[(src[i]! >>> shift) & 0xffff]++;
    if (count[(src[0]! >>> shift) & 0xffff] === n) continue;
    let sum = 0;
    for (let b = 0; b < 65536; b++) {
      const c = count[b]!;
      count[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = perm[i]!;
      tmp[count[(src[k]! >>> shift) & 0xffff]!++] = k;
    }
    const t = perm;
    perm = tmp;
    tmp = t;
  }
  return perm;
}

export function twinSortBytes(keys: PackedBytes, descending: boolean): Uint32Array {
  const p = bytesPrefixes(keys, descending);
  const perm = radixArgsort(p);
  const { bytes, offsets } = keys;
  const sign = descending ? -1 : 1;
  const cmp = (a: number, b: number) =>
    sign * compareByteRanges(bytes, offsets[a]!, offsets[a + 1]!, offsets[b]!, offsets[b + 1]!) || a - b;
  let i = 0;
  const n = perm.length;
  while (i < n) {
    let j = i + 1;
    while (j < n && p.hi[perm[j]!] === p.hi[perm[i]!] && p.lo[perm[j]!] === p.lo[perm[i]!]) j++;
    if (j - i > 1) perm.subarray(i, j).sort(cmp);
    i = j;
  }
  return perm;
}

// ---- the ops object ---------------------------------------------------------------------------

export function createTwinOps(): FlintOps {
  const ops: FlintOps = {
    impl: 'js',
    ...oneShotAggregation((keyKind, kind) => new TwinAggregator(keyKind, kind)),
    createAggregator(keyKind: KeyKind, kind: AggKind): HashAggregator {
      return new TwinAggregator(keyKind, kind);
    },
    radixSortPrefixes(prefixes: BigUint64Array, options?: SortOptions): Uint32Array {
      return radixArgsort(numberPrefixes(prefixes, options?.descending === true));
    },
    sortNumbers(keys: SortableNumbers, options?: SortOptions): Uint32Array {
      return radixArgsort(numberPrefixes(keys, options?.descending === true));
    },
    sortBytes(keys: PackedBytes, options?: SortOptions): Uint32Array {
      return twinSortBytes(keys, options?.descending === true);
    },
    createF64Column(): F64Column {
      let values = new Float64Array(0);
      return {
        get capacity() {
          return values.length;
        },
        reserve(capacity: number, keep: number): void {
          if (capacity <= values.length) return;
          const bigger = new Float64Array(capacity);
          bigger.set(values.subarray(0, keep));
          values = bigger;
        },
        view: () => values,
        sort(n: number, options?: SortOptions): boolean {
          const v = values.subarray(0, n);
          if (v.some((x) => Object.is(x, -0))) return false;
          const order = radixArgsort(numberPrefixes(v, options?.descending === true));
          v.set(Array.from(order, (i) => (v[i] === v[i] ? v[i]! : NaN)));
          return true;
        },
        release(): void {
          values = new Float64Array(0);
        },
      };
    },
    sortStrings(keys: readonly string[], options?: SortOptions): Uint32Array {
      return twinSortBytes(packStrings(keys), options?.descending === true);
    },
    statsF64(state: Float64Array, values: Float64Array): void {
      if (state.length !== 6) throw new FlintError('INVALID_ARGUMENT', 'statsF64 state holds 6 values: count, mean, m2, sum, min, max');
      let count = state[0]!;
      let mean = state[1]!;
      let m2 = state[2]!;
      let sum = state[3]!;
      let mn = state[4]!;
      let mx = state[5]!;
      for (let i = 0; i < values.length; i++) {
        const x = values[i]!;
        const delta = x - mean;
        count += 1;
        mean += delta / count;
        m2 += delta * (x - mean);
        sum += x;
        mn = Math.min(mn, x);
        mx = Math.max(mx, x);
      }
      state.set([count, mean, m2, sum, mn, mx]);
    },

    countByte(text: Uint8Array, byte: number): number {
      let n = 0;
      for (let i = 0; i < text.length; i++) if (text[i] === (byte & 0xff)) n++;
      return n;
    },

    wordCount(text: Uint8Array): Map<string, number> {
      const index = new Map<string, number>();
      const starts: number[] = [];
      const ends: number[] = [];
      const counts: number[] = [];
      scanWords(text, (s, e) => {
        const k = byteString(text, s, e);
        const at = index.get(k);
        if (at === undefined) {
          index.set(k, counts.length);
          starts.push(s);
          ends.push(e);
          counts.push(1);
        } else counts[at]!++;
      });
      const keys = starts.map((s, i) => decodeKey(text.subarray(s, ends[i]!)));
      return mergeDecodedCounts(keys, counts);
    },
    wordSpans(text: Uint8Array): Uint32Array {
      const spans: number[] = [];
      scanWords(text, (s, e) => spans.push(s, e));
      return Uint32Array.from(spans);
    },
    words(text: Uint8Array): string[] {
      return decodeSpans(text, ops.wordSpans(text));
    },
    lineSpans(text: Uint8Array): Uint32Array {
      const spans: number[] = [];
      scanLines(text, (s, e) => spans.push(s, e));
      return Uint32Array.from(spans);
    },
    lines(text: Uint8Array): string[] {
      return decodeSpans(text, ops.lineSpans(text));
    },
    resetTask(): void {},
    memoryBytes(): number {
      return 0;
    },
  };
  return ops;
}
