/**
 * The reduce side of a built-in aggregation on the operators, within a memory budget. Aggregation
 * batches (map-side combined) are merged into one hash table; when the task's memory refuses the
 * table room to grow, the table is written out as a run and a fresh one starts. A run is the
 * table's binary batch ordered by key hash: its rows cut into 32 parts by the top bits of a hash
 * of their key bytes, each part as aggregation batches. Once every block is in, each part is
 * merged on its own from all runs into a fresh table (the operators' merge), so that no more than a
 * part is in memory at once; a part that still does not fit is split again with another hash.
 *
 * Hash parts rather than a sort by key: the merge of a part is the operators' own merge, with no
 * key comparison in JavaScript, and a part never needs more than its share of the keys.
 */
import { murmur3Range } from '../codec/keys.js';
import { FrameWriter, readFrames } from '../memory/frames.js';
import type { MemoryConsumer, TaskMemory } from '../memory/memory-manager.js';
import type { ScratchReader, TaskScratch } from '../memory/scratch.js';
import { decodeAggBatch } from '../ops/batch.js';
import type { AggKind, FlintOps, HashAggregator, KeyKind, PackedBytes } from '../ops/types.js';
import { batchRecords, batchRows, batchSlices, splitBatchBy } from './agg-batches.js';

const BUCKET_BITS = 5;
const BUCKETS = 1 << BUCKET_BITS;
const MAX_LEVEL = 3;
/** Rows per frame of a run and per batch of records handed downstream. */
export const BATCH_ROWS = 8192;
const RUN_FRAME_ROWS = 65536;

interface Run {
  file: string;
  offsets: number[];
}

/** The bucket of each row of a batch: top bits of murmur3 (seeded by level) of its key bytes. */
export function rowBuckets(batch: Uint8Array, level: number, bits: number): Uint32Array {
  const d = decodeAggBatch(batch);
  const seed = 0x5bd1e995 + level;
  const out = new Uint32Array(d.rows);
  const shift = 32 - bits;
  if (d.keyKind === 'bytes') {
    const { bytes, offsets } = d.keys as PackedBytes;
    for (let i = 0; i < d.rows; i++) out[i] = murmur3Range(bytes, offsets[i]!, offsets[i + 1]!, seed) >>> shift;
  } else {
    const keys = d.keys as Float64Array | BigInt64Array;
    const raw = new Uint8Array(keys.buffer, keys.byteOffset, d.rows * 8);
    for (let i = 0; i < d.rows; i++) out[i] = murmur3Range(raw, i * 8, i * 8 + 8, seed) >>> shift;
  }
  return out;
}

export class SpillableAggregation implements MemoryConsumer {
  readonly label = 'hash aggregation';
  private agg: HashAggregator | null = null;
  private readonly runs: Run[] = [];

  constructor(
    private readonly ops: FlintOps,
    private readonly memory: TaskMemory,
    private readonly scratch: TaskScratch,
    readonly keyKind: KeyKind,
    readonly kind: AggKind,
    private readonly level = 0,
  ) {}

  /** Folds in one aggregation batch of this key kind and aggregate. */
  merge(batch: Uint8Array): void {
    const rows = batchRows(batch);
    if (rows === 0) return;
    this.makeRoom(rows, batch.byteLength);
    const agg = (this.agg ??= this.ops.createAggregator(this.keyKind, this.kind));
    agg.merge(batch);
    this.memory.resize(this, agg.memoryBytes());
  }

  /**
   * Room for `rows` more keys before they go in: rows land in the table as records of about twice
   * their batch bytes plus two slots, and a table that doubles holds old and new slots at once.
   */
  private makeRoom(rows: number, bytes: number): void {
    const agg = this.agg;
    const now = agg ? agg.memoryBytes() : 0;
    const doubling = agg && agg.size + rows >= agg.capacity >>> 1 ? now : 0;
    const want = now + 2 * bytes + 16 * rows + doubling - this.memory.usedBy(this);
    if (want <= 0 || this.memory.acquire(this, want)) return;
    this.memory.spill(this);
    this.memory.force(this, Math.max(0, 2 * bytes + 16 * rows - this.memory.usedBy(this)));
  }

  get spilled(): boolean {
    return this.runs.length > 0;
  }

  spill(): number {
    const agg = this.agg;
    if (!agg || agg.size === 0 || this.level >= MAX_LEVEL || !this.scratch.available) return 0;
    this.agg = null;
    const batch = agg.finish();
    const freed = this.memory.usedBy(this);
    this.memory.releaseAll(this);
    const parts = splitBatchBy(batch, rowBuckets(batch, this.level, BUCKET_BITS), BUCKETS);
    const writer = new FrameWriter(this.scratch.create('agg'));
    const offsets: number[] = [];
    for (const part of parts) {
      offsets.push(writer.offset);
      for (const slice of batchSlices(part, RUN_FRAME_ROWS)) writer.write(slice);
    }
    offsets.push(writer.offset);
    writer.close();
    this.runs.push({ file: writer.file.name, offsets });
    return freed;
  }

  /** Every key's value as [key, value] records, in batches. */
  *results(): Generator<unknown[]> {
    if (this.runs.length === 0) {
      const agg = this.agg;
      if (!agg) return;
      this.agg = null;
      const batch = agg.finish();
      // The finished batch replaces the table in memory until its records are handed on.
      this.memory.resize(this, batch.byteLength);
      try {
        for (const slice of batchSlices(batch, BATCH_ROWS)) yield batchRecords(slice);
      } finally {
        this.memory.releaseAll(this);
      }
      return;
    }
    this.memory.spill(this);
    const readers: ScratchReader[] = this.runs.map((r) => this.scratch.open(r.file));
    try {
      for (let b = 0; b < BUCKETS; b++) {
        const part = new SpillableAggregation(this.ops, this.memory, this.scratch, this.keyKind, this.kind, this.level + 1);
        try {
          this.runs.forEach((run, i) => {
            for (const payload of readFrames(readers[i]!, run.offsets[b]!, run.offsets[b + 1]!)) part.merge(payload);
          });
          yield* part.results();
        } finally {
          part.release();
        }
      }
    } finally {
      for (const r of readers) r.close();
      for (const run of this.runs) this.scratch.remove(run.file);
      this.runs.length = 0;
    }
  }

  /** Frees the table (the task ends early, or the results were taken). */
  release(): void {
    this.agg?.release();
    this.agg = null;
    this.memory.releaseAll(this);
  }
}
