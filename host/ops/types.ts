/**
 * The operator API shared by the WebAssembly binding (wasm-ops.ts) and its TypeScript twins
 * (twins.ts). Both take and return plain typed arrays so that batches can cross threads as
 * transferables, and both give identical results; the engine picks one with `createOps`.
 */

/** 'mean' and 'stats' keep mergeable state ([sum, count], [count, sum, min, max]) in batches. */
export type AggKind = 'sum' | 'count' | 'min' | 'max' | 'mean' | 'stats';
export type KeyKind = 'i64' | 'f64' | 'bytes';
export type NumericKeys = BigInt64Array | Float64Array;
export type SortableNumbers = Float64Array | BigInt64Array | BigUint64Array | Int32Array | Uint32Array;

/** n byte strings: key i is bytes.subarray(offsets[i], offsets[i + 1]); offsets.length === n + 1. */
export interface PackedBytes {
  bytes: Uint8Array;
  offsets: Uint32Array;
}

export interface AggResult<K> {
  kind: AggKind;
  /** Distinct keys in order of first occurrence. */
  keys: K;
  /** One value per key; for 'stats' five per key: count, sum, min, max, mean. */
  values: Float64Array;
  /** The same result as a binary batch of mergeable state (see batch.ts): a shuffle block. */
  batch: Uint8Array;
}

export interface AggOptions {
  /** Expected number of distinct keys: sizes the table up front instead of growing it. */
  capacityHint?: number;
}

export interface SortOptions {
  descending?: boolean;
}

/**
 * Incremental hash aggregation: feed batches, then `finish` for the binary batch. Numeric keys
 * follow JS Map semantics (SameValueZero: -0 is +0, NaN is one key); byte keys compare as bytes.
 */
export interface HashAggregator {
  readonly keyKind: KeyKind;
  readonly kind: AggKind;
  /** Number of distinct keys so far. */
  readonly size: number;
  /**
   * Keys the table holds before it grows (it doubles once `size` reaches half of it); a growth
   * briefly holds the old table and the new one.
   */
  readonly capacity: number;
  /** Bytes the table holds now (linear memory pages for WebAssembly; an estimate for the twin). */
  memoryBytes(): number;
  /** keys must be a BigInt64Array for 'i64' and a Float64Array for 'f64'. */
  addNumeric(keys: NumericKeys, values: Float64Array): void;
  addBytes(keys: PackedBytes, values: Float64Array): void;
  /**
   * Adds every word of UTF-8 text (split like `split(/\s+/)` on the decoded text) as a row of value
   * 1, straight from the bytes; for 'bytes' aggregators of 'sum' or 'count'. Keys are the words'
   * raw bytes (invalid UTF-8 included: decoding may merge keys).
   */
  addWords(text: Uint8Array): void;
  /** Folds in a batch from another aggregator of the same key kind and aggregate. */
  merge(batch: Uint8Array): void;
  /** Returns the binary batch and releases the aggregator. */
  finish(): Uint8Array;
  /** Releases the aggregator without output (idempotent). */
  release(): void;
}

export interface FlintOps {
  readonly impl: 'wasm' | 'js';

  /** Group by 8-byte numeric key: BigInt64Array keys aggregate as i64, Float64Array keys as f64. */
  hashAggI64<K extends NumericKeys>(keys: K, values: Float64Array, kind: AggKind, options?: AggOptions): AggResult<K>;
  hashAggBytes(keys: PackedBytes, values: Float64Array, kind: AggKind, options?: AggOptions): AggResult<PackedBytes>;
  /** Keys are UTF-8 encoded (lone surrogates become U+FFFD, as TextEncoder does). */
  hashAggStrings(keys: readonly string[], values: Float64Array, kind: AggKind, options?: AggOptions): AggResult<string[]>;
  createAggregator(keyKind: KeyKind, kind: AggKind, options?: AggOptions): HashAggregator;
  /** Merges batches of one key kind and aggregate into one batch (reduce side of a shuffle). */
  mergeAggBatches(batches: readonly Uint8Array[]): Uint8Array;

  /**
   * Spark's StatCounter update (Welford) of `state` = [count, mean, m2, sum, min, max] by each value
   * in order, with exactly the arithmetic of the engine's JavaScript StatCounter (min and max are
   * Math.min and Math.max). Start from [0, 0, 0, 0, Infinity, -Infinity].
   */
  statsF64(state: Float64Array, values: Float64Array): void;

  /** Stable argsort of order-preserving u64 prefixes. */
  radixSortPrefixes(prefixes: BigUint64Array, options?: SortOptions): Uint32Array;
  /**
   * Stable argsort of numbers. Float64Array: -0 equals +0, NaN sorts after +Infinity (first when
   * descending). Equal keys keep index order in both directions.
   */
  sortNumbers(keys: SortableNumbers, options?: SortOptions): Uint32Array;
  /** A growable f64 column in the operators' own memory, sorted there without a copy in (sort buffers). */
  createF64Column(): F64Column;
  /** Stable argsort by unsigned byte order (shorter first on a common prefix). */
  sortBytes(keys: PackedBytes, options?: SortOptions): Uint32Array;
  /**
   * Stable argsort by UTF-8 byte order, which is Unicode code point order (Spark's UTF8String
   * order); it differs from JS `<` (UTF-16 units) only between astral characters and U+E000-U+FFFF.
   */
  sortStrings(keys: readonly string[], options?: SortOptions): Uint32Array;

  /** Word counts of UTF-8 text, split like `text.split(/\s+/)` on the TextDecoder output. */
  wordCount(text: Uint8Array): Map<string, number>;
  /** (start, end) byte offsets of each word, flattened. */
  wordSpans(text: Uint8Array): Uint32Array;
  /** Same as `new TextDecoder().decode(text).split(/\s+/).filter(Boolean)`. */
  words(text: Uint8Array): string[];
  /** How many times `byte` occurs in `text` (lines of a text region are its '\n's plus one). */
  countByte(text: Uint8Array, byte: number): number;
  /** (start, end) byte offsets of each line: lines end at \n, a \r before it is dropped. */
  lineSpans(text: Uint8Array): Uint32Array;
  lines(text: Uint8Array): string[];

  /** Releases everything a task allocated; open aggregators become unusable. */
  resetTask(): void;
  /** Bytes of memory held by the operators (linear memory size for wasm). */
  memoryBytes(): number;
}

/** An f64 column in the operators' memory (FlintOps.createF64Column). */
export interface F64Column {
  readonly capacity: number;
  /** Room for at least `capacity` values; the first `keep` stay. */
  reserve(capacity: number, keep: number): void;
  /** The column's values; any later call into the operators may move them: take it again after one. */
  view(): Float64Array;
  /**
   * Sorts the first n values in place in sortNumbers' order (no index: half the work of the argsort);
   * every NaN becomes the canonical NaN. False, and the values untouched, when a -0 is among them:
   * -0 and +0 are equal keys but different values, whose order only the stable argsort keeps.
   */
  sort(n: number, options?: SortOptions): boolean;
  release(): void;
}
