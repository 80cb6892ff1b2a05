/**
 * The reduce side of a range-partitioned shuffle (sortByKey, sortBy) while its frames are column
 * blocks of pairs (codec/columns.ts) with number keys or string keys: keys gather in one column (an
 * f64 array, or strings), values in another, without a [key, value] object per record; the
 * operators' radix argsort orders the key column; the pairs are built at the end in sorted order.
 * Besides using a fraction of the memory, that keeps the records the next operator reads (sortBy's
 * `values`) in allocation order: pairs decoded in arrival order and read in sorted order cost a
 * cache miss each.
 *
 * The same answer as ExternalSorter over the decoded records, which takes over, with everything
 * gathered so far in arrival order, at the first frame that does not fit (msgpack, or keys of the
 * other type) or when the task's memory refuses more: it is stable and so is the argsort.
 */
import type { ColumnFields } from '../codec/columns.js';
import type { MemoryConsumer, TaskMemory } from '../memory/memory-manager.js';
import type { FlintOps } from '../ops/types.js';

const RECORDS_PER_BATCH = 4096;
/** Per record: the key (8 bytes, or a string's header and characters, estimated apart), value slot, order. */
const BYTES_PER_RECORD = 8 + 8 + 4;

export class ColumnSortBuffer implements MemoryConsumer {
  readonly label = 'sort columns';
  private numbers: Float64Array | null = null;
  private strings: string[] | null = null;
  private values: unknown[] = [];
  private n = 0;

  constructor(private readonly memory: TaskMemory) {}

  get length(): number {
    return this.n;
  }

  /**
   * Takes the pairs of a column block when their keys are of this buffer's type and the memory
   * grants them; false (nothing taken) otherwise.
   */
  add(block: ColumnFields): boolean {
    if (!block.pair) return false;
    const keys = block.cols[0]!;
    const numeric = !Array.isArray(keys);
    if ((numeric && this.strings) || (!numeric && this.numbers)) return false;
    const rows = block.rows;
    let grow = rows * BYTES_PER_RECORD;
    if (!numeric) for (let i = 0; i < rows; i++) grow += 16 + 2 * (keys as string[])[i]!.length;
    const vals = block.cols[1]!;
    if (Array.isArray(vals)) for (let i = 0; i < rows; i++) grow += 16 + 2 * (vals as string[])[i]!.length;
    if (!this.memory.acquire(this, grow)) return false;
    if (numeric) {
      const have = this.numbers ?? new Float64Array(Math.max(1024, rows));
      if (this.n + rows > have.length) {
        const bigger = new Float64Array(Math.max(2 * have.length, this.n + rows));
        bigger.set(have.subarray(0, this.n));
        this.numbers = bigger;
      } else this.numbers = have;
      this.numbers.set(keys as Float64Array | Int32Array, this.n);
    } else {
      this.strings ??= [];
      for (let i = 0; i < rows; i++) this.strings.push((keys as string[])[i]!);
    }
    if (vals instanceof Float64Array) appendF64(this.values, vals, rows);
    else if (vals instanceof Int32Array) appendI32(this.values, vals, rows);
    else appendAll(this.values, vals, rows);
    this.n += rows;
    return true;
  }

  /** Gathered pairs do not move to disk by themselves: the sorter that takes over does that. */
  spill(): number {
    return 0;
  }

  /** What was gathered, as [key, value] records in arrival order; the buffer is emptied. */
  *records(): Generator<unknown[]> {
    const { numbers, strings, values, n } = this;
    this.clear();
    const keys = (numbers ?? strings)!;
    for (let i = 0; i < n; i += RECORDS_PER_BATCH) {
      const end = Math.min(n, i + RECORDS_PER_BATCH);
      const out = new Array<unknown>(end - i);
      for (let j = i; j < end; j++) out[j - i] = [keys[j], values[j]];
      yield out;
    }
  }

  /** The pairs (or their values alone) ordered by key (stable), in batches; the buffer is emptied. */
  *sorted(ascending: boolean, ops: FlintOps, used: (operator: string) => void, valuesOnly = false): Generator<unknown[]> {
    const { numbers, strings, values, n } = this;
    if (n === 0) {
      this.clear();
      return;
    }
    const keys = (numbers ? numbers.subarray(0, n) : strings)!;
    const order = n < 2 ? Uint32Array.of(0) : numbers ? ops.sortNumbers(numbers.subarray(0, n), { descending: !ascending }) : ops.sortStrings(strings!, { descending: !ascending });
    if (n >= 2) used('radixSort');
    try {
      for (let i = 0; i < n; i += RECORDS_PER_BATCH) {
        const end = Math.min(n, i + RECORDS_PER_BATCH);
        const out = new Array<unknown>(end - i);
        if (valuesOnly) for (let j = i; j < end; j++) out[j - i] = values[order[j]!];
        else
          for (let j = i; j < end; j++) {
            const o = order[j]!;
            out[j - i] = [keys[o], values[o]];
          }
        yield out;
      }
    } finally {
      this.clear();
    }
  }

  private clear(): void {
    this.numbers = null;
    this.strings = null;
    this.values = [];
    this.n = 0;
    this.memory.releaseAll(this);
  }

  release(): void {
    this.clear();
  }
}

// One loop per column type: a shared loop would load elements of three kinds at one site.
function appendF64(to: unknown[], from: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) to.push(from[i]);
}
function appendI32(to: unknown[], from: Int32Array, n: number): void {
  for (let i = 0; i < n; i++) to.push(from[i]);
}
function appendAll(to: unknown[], from: string[], n: number): void {
  for (let i = 0; i < n; i++) to.push(from[i]);
}
