/**
 * The map side of a shuffle: records are assigned to reduce partitions (combined per key first when
 * the aggregator allows it) and each bucket becomes one binary block.
 */
import { KeyMap } from '../codec/keys.js';
import { encodeRecords } from '../codec/records.js';
import { decodeAggBatch } from '../ops/batch.js';
import type { FlintOps, HashAggregator } from '../ops/types.js';
import type { Aggregator } from './aggregator.js';
import { expectPair } from './aggregator.js';
import { addColumns, batchKeys, batchRecords, normalizeScannedKeys, pairColumns, splitBatch, type BuiltinAggName, type ColumnKeyKind } from './agg-batches.js';
import type { PartitionFn } from './partition-fn.js';

export interface ShuffleWriter {
  write(batch: readonly unknown[]): void;
  /** One encoded block per reduce partition (empty blocks are zero-length). */
  finish(): Uint8Array[];
  /** Frees what the writer holds when the task ends early (idempotent). */
  release(): void;
  recordsWritten: number;
}

/** A built-in aggregation the operators can run: which one, on which operators. */
export interface NativeCombine {
  ops: FlintOps;
  name: BuiltinAggName;
  /** Records that an operator ran, for the task's metrics. */
  used(operator: string): void;
}

const EMPTY = new Uint8Array(0);

export function createShuffleWriter(
  numReducers: number,
  partitionOf: PartitionFn,
  combiner: Aggregator | null,
  where: string,
  native: NativeCombine | null = null,
): ShuffleWriter {
  if (combiner && native) return new AggBatchWriter(numReducers, partitionOf, combiner, where, native);
  return combiner ? new CombiningWriter(numReducers, partitionOf, combiner, where) : new BucketWriter(numReducers, partitionOf, where);
}

class BucketWriter implements ShuffleWriter {
  private readonly buckets: unknown[][];
  recordsWritten = 0;

  constructor(
    private readonly n: number,
    private readonly partitionOf: PartitionFn,
    private readonly where: string,
  ) {
    this.buckets = Array.from({ length: n }, () => []);
  }

  write(batch: readonly unknown[]): void {
    const { buckets, partitionOf } = this;
    for (const record of batch) {
      const pair = expectPair(record, this.where);
      buckets[partitionOf(pair[0])]!.push(record);
    }
    this.recordsWritten += batch.length;
  }

  finish(): Uint8Array[] {
    return this.buckets.map((b) => (b.length === 0 ? EMPTY : encodeRecords(b)));
  }

  release(): void {}
}

export class CombiningWriter implements ShuffleWriter {
  private readonly combiners = new KeyMap<unknown>();
  recordsWritten = 0;

  constructor(
    private readonly n: number,
    private readonly partitionOf: PartitionFn,
    private readonly agg: Aggregator,
    private readonly where: string,
  ) {}

  write(batch: readonly unknown[]): void {
    const { combiners, agg } = this;
    for (const record of batch) {
      const [k, v] = expectPair(record, this.where);
      // One lookup in the common case; `has` only when a combiner may legitimately be undefined.
      const c = combiners.get(k);
      if (c !== undefined || combiners.has(k)) combiners.set(k, agg.mergeValue(c, v));
      else combiners.set(k, agg.createCombiner(v));
    }
  }

  /** Takes over combiners built elsewhere (a native aggregation that met records it cannot take). */
  absorb(combined: readonly unknown[]): void {
    for (const r of combined) {
      const [k, c] = r as [unknown, unknown];
      this.combiners.set(k, c);
    }
  }

  release(): void {}

  finish(): Uint8Array[] {
    const buckets: unknown[][] = Array.from({ length: this.n }, () => []);
    for (const [k, c] of this.combiners.entries()) buckets[this.partitionOf(k)]!.push([k, c]);
    this.recordsWritten = this.combiners.size;
    return buckets.map((b) => (b.length === 0 ? EMPTY : encodeRecords(b)));
  }
}

/**
 * Map-side combine of a built-in aggregation on the operators: columns into the hash aggregation,
 * its batch split by reduce partition into blocks. Records that do not fit the columns (mixed key
 * types, non-number values) hand everything combined so far to a CombiningWriter, which continues
 * in the same order and so gives the same result (or the built-in's own type error).
 */
export class AggBatchWriter implements ShuffleWriter {
  private agg: HashAggregator | null = null;
  private keyKind: ColumnKeyKind | null = null;
  private fallback: CombiningWriter | null = null;
  private scanned = false;
  recordsWritten = 0;

  constructor(
    private readonly n: number,
    private readonly partitionOf: PartitionFn,
    private readonly combiner: Aggregator,
    private readonly where: string,
    private readonly native: NativeCombine,
  ) {}

  write(batch: readonly unknown[]): void {
    if (!this.fallback) {
      const cols = pairColumns(batch, this.native.name !== 'count');
      if (cols && (this.keyKind === null || cols.keyKind === this.keyKind)) {
        addColumns(this.aggregator(cols.keyKind), cols);
        this.native.used('hashAgg');
        return;
      }
      if (batch.length === 0) return;
      this.toFallback();
    }
    this.fallback!.write(batch);
  }

  /** Whether `writeWords` applies (before any write): this aggregation of [word, v] pairs counts the words. */
  acceptsWords(pairValue: unknown): boolean {
    return this.native.name === 'count' || (this.native.name === 'sum' && pairValue === 1);
  }

  /** Counts the words of UTF-8 text as [word, 1] records would be combined; see acceptsWords. */
  writeWords(text: Uint8Array): void {
    this.aggregator('bytes').addWords(text);
    this.scanned = true;
    this.native.used('wordScan');
  }

  private aggregator(keyKind: ColumnKeyKind): HashAggregator {
    if (!this.agg) {
      this.keyKind = keyKind;
      this.agg = this.native.ops.createAggregator(keyKind, this.native.name);
    }
    return this.agg;
  }

  /** The combined rows so far as [key, combiner] records, normalized like finish() does. */
  private drain(): { batch: Uint8Array; keys: unknown[] } | null {
    const agg = this.agg;
    if (!agg) return null;
    this.agg = null;
    const batch = agg.finish();
    return this.scanned ? normalizeScannedKeys(batch) : { batch, keys: batchKeys(decodeAggBatch(batch)) };
  }

  private toFallback(): void {
    const fallback = new CombiningWriter(this.n, this.partitionOf, this.combiner, this.where);
    const drained = this.drain();
    if (drained) fallback.absorb(batchRecords(drained.batch));
    this.fallback = fallback;
  }

  finish(): Uint8Array[] {
    if (this.fallback) {
      const out = this.fallback.finish();
      this.recordsWritten = this.fallback.recordsWritten;
      return out;
    }
    const drained = this.drain();
    if (!drained) return Array.from({ length: this.n }, () => EMPTY);
    this.recordsWritten = drained.keys.length;
    return splitBatch(drained.batch, drained.keys, this.n, this.partitionOf);
  }

  release(): void {
    this.agg?.release();
    this.agg = null;
  }
}
