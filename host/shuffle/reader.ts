/**
 * The reduce side of a shuffle: the frames of a partition's blocks, as they arrive in map order,
 * merged per key by the aggregator (or passed through), optionally sorted by key for sortByKey,
 * all within the task's memory (spillable-agg.ts, combiner-map.ts, external-sort.ts).
 */
import { decodeColumnFields, isColumnBlock } from '../codec/columns.js';
import { decodeRecords } from '../codec/records.js';
import type { TaskMemory } from '../memory/memory-manager.js';
import type { TaskScratch } from '../memory/scratch.js';
import { decodeAggBatch } from '../ops/batch.js';
import type { FlintOps } from '../ops/types.js';
import type { Aggregator } from './aggregator.js';
import { expectPair } from './aggregator.js';
import { batchRecords, isAggBatch } from './agg-batches.js';
import { ColumnSortBuffer } from './column-sort.js';
import { SpillableCombiners } from './combiner-map.js';
import { ExternalSorter } from './external-sort.js';
import { SpillableAggregation } from './spillable-agg.js';

export interface ReduceSpec {
  aggregator: Aggregator | null;
  mapSideCombined: boolean;
  sort: { ascending: boolean } | null;
  /** Sorted, without an aggregator: hand on each pair's value alone, in key order (sortBy's `values`). */
  valuesOnly?: boolean;
  where: string;
  /** The executor's operators: merges of built-in aggregation batches and key sorts run on them. */
  ops: FlintOps;
  used(operator: string): void;
  memory: TaskMemory;
  scratch: TaskScratch;
}

/** The records of one frame of a shuffle block: a built-in aggregation batch or msgpack records. */
export function decodeFrame(payload: Uint8Array): unknown[] {
  return isAggBatch(payload) ? batchRecords(payload) : decodeRecords(payload);
}

export async function* reduceFrames(frames: AsyncIterable<Uint8Array>, spec: ReduceSpec): AsyncGenerator<unknown[]> {
  const { aggregator, sort } = spec;
  if (!aggregator && !sort) {
    for await (const f of frames) {
      const records = decodeFrame(f);
      if (records.length > 0) yield records;
    }
    return;
  }
  if (!aggregator) {
    yield* sortFrames(frames, sort!.ascending, spec);
    return;
  }
  const batches = await combine(frames, aggregator, spec);
  if (!sort) {
    yield* batches;
    return;
  }
  const sorter = new ExternalSorter(spec.memory, spec.scratch, (r) => (r as unknown[])[0], sort.ascending, spec.ops, spec.used);
  try {
    for await (const batch of batches) sorter.add(batch);
    yield* sorter.sorted();
  } finally {
    sorter.release();
  }
}

/**
 * Frames sorted by key: as columns (column-sort.ts) while they are column blocks of pairs with keys
 * of one type and the memory grants them, then (everything so far first, in arrival order) by the
 * external sorter, which spills.
 */
async function* sortFrames(frames: AsyncIterable<Uint8Array>, ascending: boolean, spec: ReduceSpec): AsyncGenerator<unknown[]> {
  yield* sortedBatches(await gatherSorted(frames, ascending, spec), ascending, spec);
}

/** Every frame of a sorted read gathered: in the column buffer while they fit it, else in the external sorter. */
export type GatheredSort = { columns: ColumnSortBuffer } | { sorter: ExternalSorter };

/** `expectedBytes`: the bytes of the blocks the frames come from, to size the columns once. */
export async function gatherSorted(frames: AsyncIterable<Uint8Array>, ascending: boolean, spec: ReduceSpec, expectedBytes = 0): Promise<GatheredSort> {
  const columns = new ColumnSortBuffer(spec.memory, spec.ops, expectedBytes);
  let sorter: ExternalSorter | null = null;
  try {
    for await (const f of frames) {
      if (!sorter) {
        if (isColumnBlock(f) && columns.add(decodeColumnFields(f), f.byteLength)) continue;
        sorter = new ExternalSorter(spec.memory, spec.scratch, (r) => (r as unknown[])[0], ascending, spec.ops, spec.used);
        for (const batch of columns.records()) sorter.add(batch);
      }
      const records = decodeFrame(f);
      for (const r of records) expectPair(r, spec.where);
      sorter.add(records);
    }
  } catch (err) {
    columns.release();
    sorter?.release();
    throw err;
  }
  return sorter ? { sorter } : { columns };
}

/** A gathered sort's records (or their values alone, spec.valuesOnly) in key order, in batches; what it held is released. */
export function* sortedBatches(gathered: GatheredSort, ascending: boolean, spec: ReduceSpec): Generator<unknown[]> {
  try {
    if ('columns' in gathered) yield* gathered.columns.sorted(ascending, spec.ops, spec.used, spec.valuesOnly === true);
    else if (spec.valuesOnly) for (const batch of gathered.sorter.sorted()) yield batch.map((r) => (r as unknown[])[1]);
    else yield* gathered.sorter.sorted();
  } finally {
    if ('columns' in gathered) gathered.columns.release();
    else gathered.sorter.release();
  }
}

/**
 * Every frame merged per key. Aggregation batches of one key kind and aggregate merge on the
 * operators; from the first frame that is not one (records, or another kind), what was merged so
 * far moves to the record path, which continues in the same order and so gives the same answer.
 */
async function combine(frames: AsyncIterable<Uint8Array>, aggregator: Aggregator, spec: ReduceSpec): Promise<Iterable<unknown[]>> {
  let native: SpillableAggregation | null = null;
  let records: SpillableCombiners | null = null;
  try {
    for await (const f of frames) {
      if (!records && spec.mapSideCombined && isAggBatch(f)) {
        const d = decodeAggBatch(f);
        native ??= new SpillableAggregation(spec.ops, spec.memory, spec.scratch, d.keyKind, d.kind);
        if (native.keyKind === d.keyKind && native.kind === d.kind) {
          if (d.rows > 0) spec.used('mergeAgg');
          native.merge(f);
          continue;
        }
      }
      if (!records) {
        records = new SpillableCombiners(spec.memory, spec.scratch, aggregator);
        if (native) {
          for (const batch of native.results()) {
            for (const r of batch) records.addCombiner((r as unknown[])[0], (r as unknown[])[1]);
            records.endBatch();
          }
          native = null;
        }
      }
      if (isColumnBlock(f)) {
        // Column pairs go in from their columns, without a pair per record.
        const { pair, rows, cols } = decodeColumnFields(f);
        if (pair) {
          const ks = cols[0]!;
          const vs = cols[1]!;
          if (spec.mapSideCombined) for (let i = 0; i < rows; i++) records.addCombiner(ks[i], vs[i]);
          else for (let i = 0; i < rows; i++) records.addValue(ks[i], vs[i]);
          records.endBatch();
          continue;
        }
      }
      for (const r of decodeFrame(f)) {
        const [k, v] = expectPair(r, spec.where);
        if (spec.mapSideCombined) records.addCombiner(k, v);
        else records.addValue(k, v);
      }
      records.endBatch();
    }
  } catch (err) {
    native?.release();
    throw err;
  }
  if (records) return records.results();
  return native ? native.results() : [];
}
