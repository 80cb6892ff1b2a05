/**
 * The map side of a shuffle: records are assigned to reduce partitions (combined per key first when
 * the aggregator allows it) and each partition's block is written as frames (memory/frames.ts) into
 * a MapOutputBuffer, which keeps them in memory or moves them to the task's scratch disk.
 *
 * A map-side combiner that runs out of memory does not spill runs of its own: it hands what it
 * combined so far to the output as partial combiners and starts afresh. The reduce side merges
 * combiners from many map tasks anyway, so merging sorted runs here would pay a sort and a read-back
 * for what the reducer does once (partial aggregation, as Presto and Flink flush theirs).
 */
import { encodePairColumns } from '../codec/columns.js';
import { encodeRecords } from '../codec/records.js';
import { decodeAggBatch } from '../ops/batch.js';
import type { TaskMemory, MemoryConsumer } from '../memory/memory-manager.js';
import type { TaskScratch } from '../memory/scratch.js';
import type { FlintOps, HashAggregator } from '../ops/types.js';
import type { Aggregator } from './aggregator.js';
import { expectPair } from './aggregator.js';
import {
  addColumns, batchKeys, batchRecords, batchSlices, normalizeScannedKeys, pairColumns, splitBatch, type BuiltinAggName, type ColumnKeyKind,
} from './agg-batches.js';
import { CombinerMap, RECORDS_PER_FRAME } from './combiner-map.js';
import { MapOutputBuffer, type MapOutput } from './map-output.js';
import type { PartitionFn } from './partition-fn.js';

export interface ShuffleWriter {
  write(batch: readonly unknown[]): void;
  /**
   * Where the records' [key, value] halves may go one at a time instead of through write() (a
   * lambda combiner's map); write() must still be called after each batch, with that batch or an
   * empty one. Null when the writer needs whole records.
   */
  readonly pairSink: { addValue(key: unknown, value: unknown): void } | null;
  /** The map output: one block per reduce partition. */
  finish(): MapOutput;
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

/** Where a writer's memory and spills go: the task's. */
export interface WriterResources {
  memory: TaskMemory;
  scratch: TaskScratch;
}

/** Rows per aggregation-batch frame: a reducer holds one frame at a time. */
const BATCH_FRAME_ROWS = 65536;
/** Records waiting, over all buckets, before they are all encoded into frames. */
const MAX_PENDING = 32768;

export function createShuffleWriter(
  numReducers: number,
  partitionOf: PartitionFn,
  combiner: Aggregator | null,
  where: string,
  native: NativeCombine | null,
  io: WriterResources,
): ShuffleWriter {
  if (combiner && native) return new AggBatchWriter(numReducers, partitionOf, combiner, where, native, io);
  return combiner ? new CombiningWriter(numReducers, partitionOf, combiner, where, io) : new BucketWriter(numReducers, partitionOf, where, io);
}

/**
 * Records per bucket, encoded a frame at a time as they come: a bucket's frame leaves when it holds
 * RECORDS_PER_FRAME records, and every bucket's once MAX_PENDING are held in all.
 */
abstract class BucketFrames {
  private count = 0;

  constructor(
    protected readonly n: number,
    readonly output: MapOutputBuffer,
  ) {}

  /** A record went into `bucket`, which now holds `held`. */
  protected added(bucket: number, held: number): void {
    if (held === RECORDS_PER_FRAME) this.flush(bucket);
    else if (++this.count >= MAX_PENDING) this.flushAll();
  }

  /** Records `bucket` holds. */
  protected abstract held(bucket: number): number;
  /** What `bucket` holds as one frame; the bucket is emptied. */
  protected abstract take(bucket: number): Uint8Array;

  private flush(bucket: number): void {
    const held = this.held(bucket);
    if (held === 0) return;
    this.count -= held;
    this.output.add(bucket, this.take(bucket));
  }

  flushAll(): void {
    for (let b = 0; b < this.n; b++) this.flush(b);
    this.count = 0;
  }
}

class RecordFrames extends BucketFrames {
  private pending: unknown[][] = Array.from({ length: this.n }, () => []);

  add(bucket: number, record: unknown): void {
    const p = this.pending[bucket]!;
    p.push(record);
    this.added(bucket, p.length);
  }

  protected held(bucket: number): number {
    return this.pending[bucket]!.length;
  }

  protected take(bucket: number): Uint8Array {
    const p = this.pending[bucket]!;
    this.pending[bucket] = [];
    return encodeRecords(p);
  }
}

/**
 * [key, value] records per bucket, held as two columns: a frame is a column block made from the
 * columns when they have a column shape (no pair per record), else the pairs' own encoding.
 */
class PairFrames extends BucketFrames {
  private keys: unknown[][] = Array.from({ length: this.n }, () => []);
  private values: unknown[][] = Array.from({ length: this.n }, () => []);

  add(bucket: number, key: unknown, value: unknown): void {
    const ks = this.keys[bucket]!;
    ks.push(key);
    this.values[bucket]!.push(value);
    this.added(bucket, ks.length);
  }

  protected held(bucket: number): number {
    return this.keys[bucket]!.length;
  }

  protected take(bucket: number): Uint8Array {
    const ks = this.keys[bucket]!;
    const vs = this.values[bucket]!;
    this.keys[bucket] = [];
    this.values[bucket] = [];
    return encodePairColumns(ks, vs) ?? encodeRecords(ks.map((k, i) => [k, vs[i]]));
  }
}

class BucketWriter implements ShuffleWriter {
  private readonly frames: RecordFrames;
  readonly pairSink = null;
  recordsWritten = 0;

  constructor(
    n: number,
    private readonly partitionOf: PartitionFn,
    private readonly where: string,
    io: WriterResources,
  ) {
    this.frames = new RecordFrames(n, new MapOutputBuffer(n, io.memory, io.scratch));
  }

  write(batch: readonly unknown[]): void {
    const { frames, partitionOf } = this;
    for (const record of batch) {
      const pair = expectPair(record, this.where);
      frames.add(partitionOf(pair[0]), record);
    }
    this.recordsWritten += batch.length;
  }

  finish(): MapOutput {
    this.frames.flushAll();
    return this.frames.output.finish();
  }

  release(): void {
    this.frames.output.release();
  }
}

export class CombiningWriter implements ShuffleWriter {
  private readonly combiners: CombinerMap;
  get pairSink(): CombinerMap {
    return this.combiners;
  }
  private readonly output: MapOutputBuffer;
  recordsWritten = 0;

  constructor(
    private readonly n: number,
    private readonly partitionOf: PartitionFn,
    agg: Aggregator,
    private readonly where: string,
    io: WriterResources,
    /** Another writer's output to continue (AggBatchWriter's fallback). */
    output: MapOutputBuffer = new MapOutputBuffer(n, io.memory, io.scratch),
  ) {
    this.output = output;
    this.combiners = new CombinerMap('map-side combiners', io.memory, agg, (map) => this.emit(map));
  }

  write(batch: readonly unknown[]): void {
    const combiners = this.combiners;
    for (const record of batch) {
      const [k, v] = expectPair(record, this.where);
      combiners.addValue(k, v);
    }
    combiners.endBatch();
  }

  /** Takes over combiners built elsewhere (a native aggregation that met records it cannot take). */
  absorb(combined: readonly unknown[]): void {
    for (const r of combined) {
      const [k, c] = r as [unknown, unknown];
      this.combiners.addCombiner(k, c);
    }
    this.combiners.endBatch();
  }

  /** Combiners so far become output: partial, the reducers merge them. */
  private emit(map: CombinerMap): void {
    const frames = new PairFrames(this.n, this.output);
    const { keys, combiners } = map.columns();
    const partitionOf = this.partitionOf;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      frames.add(partitionOf(k), k, combiners[i]);
    }
    frames.flushAll();
    this.recordsWritten += map.size;
  }

  release(): void {
    this.combiners.clear();
    this.output.release();
  }

  finish(): MapOutput {
    this.emit(this.combiners);
    this.combiners.clear();
    return this.output.finish();
  }
}

/**
 * Map-side combine of a built-in aggregation on the operators: columns into the hash aggregation,
 * its batch split by reduce partition into blocks. Records that do not fit the columns (mixed key
 * types, non-number values) hand everything combined so far to a CombiningWriter, which continues
 * in the same order and so gives the same result (or the built-in's own type error). A table the
 * memory cannot grow is flushed to the output as it is.
 */
export class AggBatchWriter implements ShuffleWriter, MemoryConsumer {
  readonly label = 'hash aggregation (map side)';
  readonly pairSink = null;
  private agg: HashAggregator | null = null;
  private keyKind: ColumnKeyKind | null = null;
  private fallback: CombiningWriter | null = null;
  private scanned = false;
  private readonly output: MapOutputBuffer;
  recordsWritten = 0;

  constructor(
    private readonly n: number,
    private readonly partitionOf: PartitionFn,
    private readonly combiner: Aggregator,
    private readonly where: string,
    private readonly native: NativeCombine,
    private readonly io: WriterResources,
  ) {
    this.output = new MapOutputBuffer(n, io.memory, io.scratch);
  }

  write(batch: readonly unknown[]): void {
    if (!this.fallback) {
      const cols = pairColumns(batch, this.native.name !== 'count');
      if (cols && (this.keyKind === null || cols.keyKind === this.keyKind)) {
        const keyBytes = cols.keyKind === 'bytes' ? (cols.keys as { bytes: Uint8Array }).bytes.byteLength : batch.length * 8;
        this.makeRoom(batch.length, keyBytes);
        addColumns(this.aggregator(cols.keyKind), cols);
        this.measured();
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
    // A region of text holds at most a word per two bytes, each a few bytes in the table.
    this.makeRoom(text.byteLength >>> 3, text.byteLength);
    this.aggregator('bytes').addWords(text);
    this.measured();
    this.scanned = true;
    this.native.used('wordScan');
  }

  /**
   * Room for up to `rows` new keys of `keyBytes` bytes before they go in (a table that doubles holds
   * both tables for a moment); when the memory refuses, the table goes to the output first.
   */
  private makeRoom(rows: number, keyBytes: number): void {
    const { memory } = this.io;
    const agg = this.agg;
    const now = agg ? agg.memoryBytes() : 0;
    const doubling = agg && agg.size + rows >= agg.capacity >>> 1 ? now : 0;
    const grow = keyBytes + 32 * rows;
    const want = now + grow + doubling - memory.usedBy(this);
    if (want <= 0 || memory.acquire(this, want)) return;
    memory.spill(this);
    memory.force(this, Math.max(0, grow - memory.usedBy(this)));
  }

  private measured(): void {
    if (this.agg) this.io.memory.resize(this, this.agg.memoryBytes());
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
    this.io.memory.releaseAll(this);
    return this.scanned ? normalizeScannedKeys(batch) : { batch, keys: batchKeys(decodeAggBatch(batch)) };
  }

  /** The table so far becomes output (partial aggregates the reducers merge). */
  spill(): number {
    if (!this.agg || this.agg.size === 0 || !this.io.memory.canSpill) return 0;
    const freed = this.io.memory.usedBy(this);
    this.emit(this.drain()!);
    return freed;
  }

  private emit(drained: { batch: Uint8Array; keys: unknown[] }): void {
    this.recordsWritten += drained.keys.length;
    const blocks = splitBatch(drained.batch, drained.keys, this.n, this.partitionOf);
    blocks.forEach((block, r) => {
      for (const slice of batchSlices(block, BATCH_FRAME_ROWS)) this.output.add(r, slice);
    });
  }

  private toFallback(): void {
    // What was flushed before stays in the output as it is: the reducers merge it with the rest.
    const fallback = new CombiningWriter(this.n, this.partitionOf, this.combiner, this.where, this.io, this.output);
    fallback.recordsWritten = this.recordsWritten;
    const drained = this.drain();
    if (drained) fallback.absorb(batchRecords(drained.batch));
    this.fallback = fallback;
  }

  finish(): MapOutput {
    if (this.fallback) {
      const out = this.fallback.finish();
      this.recordsWritten = this.fallback.recordsWritten;
      return out;
    }
    const drained = this.drain();
    if (drained) this.emit(drained);
    return this.output.finish();
  }

  release(): void {
    this.agg?.release();
    this.agg = null;
    this.fallback?.release();
    this.output.release();
    this.io.memory.releaseAll(this);
  }
}
