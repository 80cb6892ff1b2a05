/**
 * The reduce side of a range-partitioned shuffle (sortByKey, sortBy) while its frames are column
 * blocks of pairs (codec/columns.ts) with number keys or string keys: keys gather in one column (an
 * f64 array, or strings), values in another, without a [key, value] object per record; the
 * operators' radix sort orders the key column. Number values stay an f64 column, and blocks whose
 * values are their keys (sortBy(x => x)) add nothing beside the key column; so when keys and values
 * are numbers the sorted partition can leave as columns (sortedColumns: the result block is written
 * from them, no record built at all). Otherwise the pairs are built at the end in sorted order,
 * which keeps the records the next operator reads (sortBy's `values`) in allocation order: pairs
 * decoded in arrival order and read in sorted order cost a cache miss each.
 *
 * The same answer as ExternalSorter over the decoded records, which takes over, with everything
 * gathered so far in arrival order, at the first frame that does not fit (msgpack, or keys of the
 * other type) or when the task's memory refuses more: it is stable and so are the sorts here.
 */
import { canonicalNaN, encodeNumberColumns, type ColumnFields } from '../codec/columns.js';
import { encodeRecords } from '../codec/records.js';
import type { MemoryConsumer, TaskMemory } from '../memory/memory-manager.js';
import type { F64Column, FlintOps } from '../ops/types.js';

const RECORDS_PER_BATCH = 4096;
/** Per record: the key (8 bytes, or a string's header and characters, estimated apart), the sort's order or copy. */
const KEY_BYTES = 8 + 8;
/** Per record with a value of its own: its slot (an f64, or a reference) and the gathered copy. */
const VALUE_BYTES = 8 + 4;

export class ColumnSortBuffer implements MemoryConsumer {
  readonly label = 'sort columns';
  /** Number keys, in the operators' memory: sorted there in place when values are the keys. */
  private numbers: F64Column | null = null;
  private strings: string[] | null = null;
  /**
   * The values: 'same' while every block's values were its keys; an f64 column while they are
   * numbers; an array once any is a string.
   */
  private values: 'same' | Float64Array | unknown[] = 'same';
  private n = 0;

  /** Rows expected in all, from the first block's bytes per row: the columns are sized once. */
  private rowsHint = 0;

  /** `expectedBytes`: the bytes of all the blocks to come (0: unknown). */
  constructor(
    private readonly memory: TaskMemory,
    private readonly ops: FlintOps,
    private readonly expectedBytes = 0,
  ) {}

  get length(): number {
    return this.n;
  }

  /**
   * Takes the pairs of a column block when their keys are of this buffer's type and the memory
   * grants them; false (nothing taken) otherwise. `bytes`: the block's encoded size.
   */
  add(block: ColumnFields, bytes = 0): boolean {
    if (!block.pair) return false;
    const keys = block.cols[0]!;
    const numeric = !Array.isArray(keys);
    if ((numeric && this.strings) || (!numeric && this.numbers)) return false;
    const rows = block.rows;
    const vals = block.cols[1]!;
    let grow = rows * KEY_BYTES;
    if (!block.same || this.values !== 'same') grow += rows * VALUE_BYTES;
    if (!numeric) for (let i = 0; i < rows; i++) grow += 16 + 2 * (keys as string[])[i]!.length;
    if (Array.isArray(vals)) for (let i = 0; i < rows; i++) grow += 16 + 2 * (vals as string[])[i]!.length;
    if (!this.memory.acquire(this, grow)) return false;
    const at = this.n;
    if (at === 0 && bytes > 0 && this.expectedBytes > 0) this.rowsHint = Math.ceil((this.expectedBytes / bytes) * rows * 1.02);
    if (numeric) {
      const col = (this.numbers ??= this.ops.createF64Column());
      if (at + rows > col.capacity) col.reserve(Math.max(1024, rows, this.rowsHint, 2 * col.capacity, at + rows), at);
      col.view().set(keys as Float64Array | Int32Array, at);
    } else {
      this.strings ??= [];
      for (let i = 0; i < rows; i++) this.strings.push((keys as string[])[i]!);
    }
    if (!(block.same && this.values === 'same')) {
      if (this.values === 'same') this.values = at === 0 ? new Float64Array(0) : this.numbers!.view().slice(0, at);
      if (this.values instanceof Float64Array && Array.isArray(vals)) this.values = Array.from(this.values.subarray(0, at));
      if (this.values instanceof Float64Array) {
        this.values = room(this.values, at, rows, this.rowsHint);
        this.values.set(vals as Float64Array | Int32Array, at);
      } else if (vals instanceof Float64Array) appendF64(this.values, vals, rows);
      else if (vals instanceof Int32Array) appendI32(this.values, vals, rows);
      else appendAll(this.values, vals, rows);
    }
    this.n += rows;
    return true;
  }

  /** Gathered pairs do not move to disk by themselves: the sorter that takes over does that. */
  spill(): number {
    return 0;
  }

  /** Value i of what was gathered. */
  private valueAt(values: 'same' | Float64Array | unknown[], keys: Float64Array | string[], i: number): unknown {
    return values === 'same' ? keys[i] : values[i];
  }

  /** The keys out of the operators' memory (a generator's caller may call the operators between two batches). */
  private takeKeys(): Float64Array | string[] {
    return this.numbers ? this.numbers.view().slice(0, this.n) : this.strings!;
  }

  /** What was gathered, as [key, value] records in arrival order; the buffer is emptied. */
  *records(): Generator<unknown[]> {
    if (this.n === 0) return this.clear();
    const { values, n } = this;
    const keys = this.takeKeys();
    this.clear();
    for (let i = 0; i < n; i += RECORDS_PER_BATCH) {
      const end = Math.min(n, i + RECORDS_PER_BATCH);
      const out = new Array<unknown>(end - i);
      for (let j = i; j < end; j++) out[j - i] = [keys[j], this.valueAt(values, keys, j)];
      yield out;
    }
  }

  /**
   * When keys and values are numbers: the result block of the pairs (or of their values alone) in
   * key order (stable), written from the columns: the bytes encodeRecords gives for those records.
   * Null (nothing done) otherwise. The buffer is emptied.
   */
  sortedBlock(ascending: boolean, used: (operator: string) => void, valuesOnly: boolean): { block: Uint8Array; rows: number } | null {
    const { numbers, values, n } = this;
    if (n > 0 && (!numbers || Array.isArray(values))) return null;
    const block = (keys: Float64Array, vals: Float64Array) => ({ block: valuesOnly ? encodeNumberColumns(n, vals) : encodeNumberColumns(n, keys, vals), rows: n });
    try {
      if (n === 0) return { block: encodeRecords([]), rows: 0 };
      const desc = { descending: !ascending };
      if (n >= 2) used('radixSort');
      // Values that are their keys sort themselves where they are, unless a -0 among them needs the stable order.
      if (values === 'same' && numbers!.sort(n, desc)) {
        const keys = numbers!.view().subarray(0, n);
        return block(keys, keys);
      }
      const order = n < 2 ? Uint32Array.of(0) : this.ops.sortNumbers(numbers!.view().subarray(0, n), desc);
      const keys = numbers!.view();
      // Gathered with JavaScript's own NaN, as the records would carry it (the f64 sort above makes it so too).
      const sortedKeys = new Float64Array(n);
      for (let i = 0; i < n; i++) sortedKeys[i] = canonicalNaN(keys[order[i]!]!);
      if (values === 'same') return block(sortedKeys, sortedKeys);
      const v = values as Float64Array;
      const sortedValues = new Float64Array(n);
      for (let i = 0; i < n; i++) sortedValues[i] = canonicalNaN(v[order[i]!]!);
      return block(sortedKeys, sortedValues);
    } finally {
      this.clear();
    }
  }

  /** The pairs (or their values alone) ordered by key (stable), in batches; the buffer is emptied. */
  *sorted(ascending: boolean, ops: FlintOps, used: (operator: string) => void, valuesOnly = false): Generator<unknown[]> {
    const { values, n } = this;
    if (n === 0) {
      this.clear();
      return;
    }
    const keys = this.takeKeys();
    const order = n < 2 ? Uint32Array.of(0) : Array.isArray(keys) ? ops.sortStrings(keys, { descending: !ascending }) : ops.sortNumbers(keys, { descending: !ascending });
    if (n >= 2) used('radixSort');
    try {
      for (let i = 0; i < n; i += RECORDS_PER_BATCH) {
        const end = Math.min(n, i + RECORDS_PER_BATCH);
        const out = new Array<unknown>(end - i);
        if (valuesOnly) for (let j = i; j < end; j++) out[j - i] = this.valueAt(values, keys, order[j]!);
        else
          for (let j = i; j < end; j++) {
            const o = order[j]!;
            out[j - i] = [keys[o], this.valueAt(values, keys, o)];
          }
        yield out;
      }
    } finally {
      this.clear();
    }
  }

  private clear(): void {
    this.numbers?.release();
    this.numbers = null;
    this.strings = null;
    this.values = 'same';
    this.n = 0;
    this.memory.releaseAll(this);
  }

  release(): void {
    this.clear();
  }
}

/** `column` with room for `rows` more after `at`: sized once from the hint, doubled past it. */
function room(column: Float64Array | null, at: number, rows: number, hint: number): Float64Array {
  const have = column && column.length > 0 ? column : new Float64Array(Math.max(1024, rows, hint));
  if (at + rows <= have.length) return have;
  const bigger = new Float64Array(Math.max(2 * have.length, at + rows));
  bigger.set(have.subarray(0, at));
  return bigger;
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
