/**
 * The map side of a range-partitioned shuffle (sortByKey, sortBy) whose bounds are numbers: pairs
 * with a number key and a number value go into per-reducer key and value columns, placed by a binary
 * search over the bounds as an f64 array, and leave as column blocks (codec/columns.ts) without a
 * record being encoded; when every value of a block is its key (sortBy(x => x) of numbers, told from
 * the values themselves) the block holds the one column. With `writeKeyed` the keys are computed
 * here from the records (sortBy's keyBy), so no [key, record] pair is built at all.
 *
 * Any other record (a string or object key or value) takes the record path of its reducer: that
 * reducer's columns so far become a block first, so a block's frames keep the input order, and the
 * reduce side, stable either way, gives the same answer.
 */
import { encodeNumberColumns } from '../codec/columns.js';
import { encodeRecords } from '../codec/records.js';
import { expectPair } from './aggregator.js';
import { MapOutputBuffer, type MapOutput } from './map-output.js';
import type { NumberRange, PartitionFn } from './partition-fn.js';
import type { ShuffleWriter, WriterResources } from './writer.js';

/** Rows per block; and rows waiting over all reducers before every reducer's are written out. */
const ROWS_PER_BLOCK = 8192;
const MAX_PENDING = 65536;
const RECORDS_PER_FRAME = 4096;

/** One reducer's pending rows: columns, or records (never both: whichever came last is written first). */
class Bucket {
  keys = new Float64Array(0);
  values = new Float64Array(0);
  rows = 0;
  /** Every pending row's value is its key (Object.is). */
  same = true;
  records: unknown[] = [];
}

export class RangeColumnWriter implements ShuffleWriter {
  private readonly buckets: Bucket[];
  private readonly output: MapOutputBuffer;
  private readonly last: number;
  private pending = 0;
  recordsWritten = 0;
  /** Records come whole: their keys are placed as they arrive, in order with the other records. */
  readonly pairSink = null;

  private readonly bounds: Float64Array;
  private readonly ascending: boolean;

  /** `range`: the range partitioner, its bounds numbers; `partitionOf` places any other key. */
  constructor(
    private readonly n: number,
    range: NumberRange,
    private readonly partitionOf: PartitionFn,
    private readonly where: string,
    io: WriterResources,
  ) {
    this.bounds = range.bounds;
    this.ascending = range.ascending;
    this.buckets = Array.from({ length: n }, () => new Bucket());
    this.output = new MapOutputBuffer(n, io.memory, io.scratch);
    this.last = n - 1;
  }

  /** Partition of a number key: rangePartition's search (NaN after every bound). */
  private place(key: number): number {
    const nb = this.bounds;
    const m = nb.length;
    let lo = 0;
    if (key !== key) lo = m;
    else {
      let hi = m;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (key > nb[mid]!) lo = mid + 1;
        else hi = mid;
      }
    }
    const p = lo < this.last ? lo : this.last;
    return this.ascending ? p : this.last - p;
  }

  write(batch: readonly unknown[]): void {
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i];
      const pair = expectPair(record, this.where);
      const k = pair[0];
      const v = pair[1];
      if (typeof k === 'number' && typeof v === 'number') this.addRow(this.place(k), k, v);
      else this.addRecord(this.partitionOf(k), record);
    }
    this.recordsWritten += batch.length;
  }

  /** The pairs [keyOf(x), x] of the records, written without building them. */
  writeKeyed(batch: readonly unknown[], keyOf: (x: unknown) => unknown): void {
    for (let i = 0; i < batch.length; i++) {
      const x = batch[i];
      const k = keyOf(x);
      if (typeof k === 'number' && typeof x === 'number') this.addRow(this.place(k), k, x);
      else this.addRecord(this.partitionOf(k), [k, x]);
    }
    this.recordsWritten += batch.length;
  }

  private addRow(r: number, k: number, v: number): void {
    const b = this.buckets[r]!;
    if (b.records.length > 0) this.flush(b, r);
    let at = b.rows;
    if (at === b.keys.length) {
      grow(b, at === 0 ? 256 : 2 * at);
      at = b.rows;
    }
    b.keys[at] = k;
    b.values[at] = v;
    // Object.is, spelled out: the same number, with -0 apart from +0 and NaN equal to NaN.
    if (b.same && !(k === v ? k !== 0 || 1 / k === 1 / v : k !== k && v !== v)) b.same = false;
    b.rows = at + 1;
    if (b.rows === ROWS_PER_BLOCK) this.flush(b, r);
    else if (++this.pending >= MAX_PENDING) this.flushAll();
  }

  private addRecord(r: number, record: unknown): void {
    const b = this.buckets[r]!;
    if (b.rows > 0) this.flush(b, r);
    b.records.push(record);
    if (b.records.length === RECORDS_PER_FRAME) this.flush(b, r);
    else if (++this.pending >= MAX_PENDING) this.flushAll();
  }

  private flush(b: Bucket, r: number): void {
    if (b.rows > 0) {
      this.output.add(r, encodeNumberColumns(b.rows, b.keys, b.same ? 'same' : b.values));
      this.pending -= b.rows;
      b.rows = 0;
      b.same = true;
    }
    if (b.records.length > 0) {
      this.output.add(r, encodeRecords(b.records));
      this.pending -= b.records.length;
      b.records = [];
    }
  }

  private flushAll(): void {
    for (let r = 0; r < this.n; r++) this.flush(this.buckets[r]!, r);
    this.pending = 0;
  }

  finish(): MapOutput {
    this.flushAll();
    for (const b of this.buckets) {
      b.keys = new Float64Array(0);
      b.values = new Float64Array(0);
    }
    return this.output.finish();
  }

  release(): void {
    this.output.release();
  }
}

function grow(b: Bucket, size: number): void {
  const keys = new Float64Array(Math.min(size, ROWS_PER_BLOCK));
  const values = new Float64Array(keys.length);
  keys.set(b.keys.subarray(0, b.rows));
  values.set(b.values.subarray(0, b.rows));
  b.keys = keys;
  b.values = values;
}
