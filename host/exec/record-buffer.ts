/**
 * A partition held for an operator that must see it whole or more than once (the input of a user's
 * `mapPartitions` function, the right side of `cartesian`): in memory while the task's memory
 * allows, the older records moved to the scratch disk when it does not. It reads back in order,
 * synchronously, as often as asked.
 *
 * Synchronous because a user's iterator is: JavaScript cannot wait for an asynchronous source inside
 * `it.next()`, so a partition is read (to memory, then to disk) before the user's function pulls
 * from it, and the disk part is read back with the scratch disk's synchronous reads.
 */
import { decodeRecords, encodeRecords } from '../codec/records.js';
import { FrameWriter, readFrames } from '../memory/frames.js';
import type { MemoryConsumer, TaskMemory } from '../memory/memory-manager.js';
import type { TaskScratch } from '../memory/scratch.js';
import { estimateBytes } from '../memory/size.js';

const RECORDS_PER_FRAME = 4096;

export class RecordBuffer implements MemoryConsumer {
  readonly label = 'partition buffer';
  private records: unknown[] = [];
  private writer: FrameWriter | null = null;
  private onDisk = 0;

  constructor(
    private readonly memory: TaskMemory,
    private readonly scratch: TaskScratch,
  ) {}

  /** Records held, in memory and on disk. */
  get length(): number {
    return this.onDisk + this.records.length;
  }

  get spilled(): boolean {
    return this.onDisk > 0;
  }

  add(batch: readonly unknown[]): void {
    if (batch.length === 0) return;
    this.memory.reserve(this, estimateBytes(batch));
    for (let i = 0; i < batch.length; i++) this.records.push(batch[i]);
  }

  spill(): number {
    if (this.records.length === 0 || !this.scratch.available) return 0;
    this.writer ??= new FrameWriter(this.scratch.create('partition'));
    const records = this.records;
    for (let i = 0; i < records.length; i += RECORDS_PER_FRAME) this.writer.write(encodeRecords(records.slice(i, i + RECORDS_PER_FRAME)));
    this.onDisk += records.length;
    this.records = [];
    const freed = this.memory.usedBy(this);
    this.memory.releaseAll(this);
    return freed;
  }

  /**
   * The records in order, in batches: those on disk first (they came first), then memory. What is
   * read is fixed when the reading starts: a spill while it goes on (another consumer needed the
   * memory) moves records to disk past that point, and this reading still has them in hand.
   */
  *batches(): Generator<unknown[]> {
    const memory = this.records;
    if (this.writer) {
      this.writer.flush();
      const end = this.writer.offset;
      const reader = this.scratch.open(this.writer.file.name);
      try {
        for (const payload of readFrames(reader, 0, end)) yield decodeRecords(payload);
      } finally {
        reader.close();
      }
    }
    if (memory.length > 0) yield memory;
  }

  /** The records in order, one at a time: what a user's `mapPartitions` function iterates. */
  *values(): Generator<unknown> {
    for (const batch of this.batches()) yield* batch;
  }

  release(): void {
    this.records = [];
    if (this.writer) {
      this.writer.close();
      this.scratch.remove(this.writer.file.name);
      this.writer = null;
    }
    this.onDisk = 0;
    this.memory.releaseAll(this);
  }
}
