/**
 * Sorting a partition by key within a memory budget (sortByKey, sortBy, the range-partitioned
 * shuffle's reduce side): an external merge sort. Records gather in memory until the task's memory
 * refuses more; then they are sorted (the operators' radix argsort when keys are all numbers or all
 * strings, the comparator otherwise) and written as a run of encoded record frames. At the end the
 * runs are merged through a heap, one frame of each in memory. Equal keys keep their input order:
 * a run holds earlier records than the next one, and the heap breaks ties by run.
 */
import { compareStrings } from '../codec/keys.js';
import { compareValues } from '../codec/order.js';
import { decodeRecords, encodeRecords } from '../codec/records.js';
import { FrameWriter, readFrames } from '../memory/frames.js';
import type { MemoryConsumer, TaskMemory } from '../memory/memory-manager.js';
import type { ScratchReader, TaskScratch } from '../memory/scratch.js';
import { estimateBytes } from '../memory/size.js';
import type { FlintOps } from '../ops/types.js';
import { sortRecordsByKey } from './sort-keys.js';

const RECORDS_PER_FRAME = 4096;
/** What the sort itself allocates per record beside the records (keys, order, output array). */
const SORT_BYTES_PER_RECORD = 24;

/** Total order of compareValues, with the common key types compared directly. */
export function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number' && a === a && b === b) return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') {
    const d = compareStrings(a, b);
    return d < 0 ? -1 : d > 0 ? 1 : 0;
  }
  return compareValues(a, b);
}

export class ExternalSorter implements MemoryConsumer {
  readonly label = 'sort buffer';
  private buffer: unknown[] = [];
  private estimate = 0;
  private readonly runs: string[] = [];

  constructor(
    private readonly memory: TaskMemory,
    private readonly scratch: TaskScratch,
    private readonly keyOf: (record: unknown) => unknown,
    private readonly ascending: boolean,
    private readonly ops: FlintOps,
    private readonly used: (operator: string) => void,
  ) {}

  add(batch: readonly unknown[]): void {
    if (batch.length === 0) return;
    const grow = estimateBytes(batch) + batch.length * SORT_BYTES_PER_RECORD;
    if (!this.memory.acquire(this, grow)) {
      this.memory.spill(this);
      this.memory.force(this, grow);
    }
    for (let i = 0; i < batch.length; i++) this.buffer.push(batch[i]);
    this.estimate += grow;
  }

  get spilled(): boolean {
    return this.runs.length > 0;
  }

  spill(): number {
    if (this.buffer.length === 0 || !this.scratch.available) return 0;
    const sorted = this.sortBuffer();
    const writer = new FrameWriter(this.scratch.create('sort'));
    for (let i = 0; i < sorted.length; i += RECORDS_PER_FRAME) writer.write(encodeRecords(sorted.slice(i, i + RECORDS_PER_FRAME)));
    writer.close();
    this.runs.push(writer.file.name);
    const freed = this.memory.usedBy(this);
    this.memory.releaseAll(this);
    this.estimate = 0;
    return freed;
  }

  private sortBuffer(): unknown[] {
    const records = this.buffer;
    this.buffer = [];
    return sortRecordsByKey(records, this.keyOf, this.ascending, this.ops, this.used);
  }

  /** The records in order, in batches. */
  *sorted(): Generator<unknown[]> {
    if (this.runs.length === 0) {
      const sorted = this.sortBuffer();
      try {
        for (let i = 0; i < sorted.length; i += RECORDS_PER_FRAME) yield sorted.slice(i, i + RECORDS_PER_FRAME);
      } finally {
        this.memory.releaseAll(this);
        this.estimate = 0;
      }
      return;
    }
    this.memory.spill(this);
    yield* this.merge();
  }

  private *merge(): Generator<unknown[]> {
    const readers: ScratchReader[] = this.runs.map((name) => this.scratch.open(name));
    const sources = readers.map((r) => readFrames(r, 0, r.size));
    const sign = this.ascending ? 1 : -1;
    const keyOf = this.keyOf;
    // One cursor per run: its current frame's records and keys, and where it is in them.
    const records: unknown[][] = [];
    const keys: unknown[][] = [];
    const at: number[] = [];
    const load = (r: number): boolean => {
      for (;;) {
        const next = sources[r]!.next();
        if (next.done) return false;
        const batch = decodeRecords(next.value);
        if (batch.length === 0) continue;
        records[r] = batch;
        keys[r] = batch.map(keyOf);
        at[r] = 0;
        return true;
      }
    };
    const less = (x: number, y: number): boolean => {
      const d = sign * compareKeys(keys[x]![at[x]!], keys[y]![at[y]!]);
      return d < 0 || (d === 0 && x < y);
    };
    const heap: number[] = [];
    const down = (i: number) => {
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) return;
        const r = l + 1;
        const m = r < heap.length && less(heap[r]!, heap[l]!) ? r : l;
        if (!less(heap[m]!, heap[i]!)) return;
        [heap[m], heap[i]] = [heap[i]!, heap[m]!];
        i = m;
      }
    };
    try {
      for (let r = 0; r < sources.length; r++) if (load(r)) heap.push(r);
      for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
      let out: unknown[] = [];
      while (heap.length > 0) {
        const r = heap[0]!;
        out.push(records[r]![at[r]!]);
        if (out.length === RECORDS_PER_FRAME) {
          yield out;
          out = [];
        }
        if (++at[r]! >= records[r]!.length && !load(r)) {
          heap[0] = heap[heap.length - 1]!;
          heap.pop();
        }
        if (heap.length > 0) down(0);
      }
      if (out.length > 0) yield out;
    } finally {
      for (const r of readers) r.close();
      for (const name of this.runs) this.scratch.remove(name);
      this.runs.length = 0;
    }
  }

  release(): void {
    this.buffer = [];
    this.estimate = 0;
    this.memory.releaseAll(this);
  }
}
