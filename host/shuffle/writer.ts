/**
 * The map side of a shuffle: records are assigned to reduce partitions (combined per key first when
 * the aggregator allows it) and each bucket becomes one binary block.
 */
import { KeyMap } from '../codec/keys.js';
import { encodeRecords } from '../codec/records.js';
import type { Aggregator } from './aggregator.js';
import { expectPair } from './aggregator.js';
import type { PartitionFn } from './partition-fn.js';

export interface ShuffleWriter {
  write(batch: readonly unknown[]): void;
  /** One encoded block per reduce partition (empty blocks are zero-length). */
  finish(): Uint8Array[];
  recordsWritten: number;
}

const EMPTY = new Uint8Array(0);

export function createShuffleWriter(
  numReducers: number,
  partitionOf: PartitionFn,
  combiner: Aggregator | null,
  where: string,
): ShuffleWriter {
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
}

class CombiningWriter implements ShuffleWriter {
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

  finish(): Uint8Array[] {
    const buckets: unknown[][] = Array.from({ length: this.n }, () => []);
    for (const [k, c] of this.combiners.entries()) buckets[this.partitionOf(k)]!.push([k, c]);
    this.recordsWritten = this.combiners.size;
    return buckets.map((b) => (b.length === 0 ? EMPTY : encodeRecords(b)));
  }
}
