/**
 * The reduce side of a shuffle: decoded blocks merged per key by the aggregator (or passed through),
 * optionally sorted by key for sortByKey.
 */
import { KeyMap } from '../codec/keys.js';
import { decodeRecords } from '../codec/records.js';
import type { FlintOps } from '../ops/types.js';
import type { Aggregator } from './aggregator.js';
import { expectPair } from './aggregator.js';
import { batchRecords, isAggBatch, mergeBatches } from './agg-batches.js';
import { sortRecordsByKey } from './sort-keys.js';

export interface ReduceSpec {
  aggregator: Aggregator | null;
  mapSideCombined: boolean;
  sort: { ascending: boolean } | null;
  where: string;
  /** The executor's operators: merges of built-in aggregation batches and key sorts run on them. */
  ops: FlintOps;
  used(operator: string): void;
}

/** A shuffle block's records: a built-in aggregation batch or msgpack records. */
export function decodeBlock(block: Uint8Array): unknown[] {
  return isAggBatch(block) ? batchRecords(block) : decodeRecords(block);
}

export function* reduceBlocks(blocks: Iterable<Uint8Array>, spec: ReduceSpec): Generator<unknown[]> {
  const { aggregator, sort } = spec;
  if (!aggregator && !sort) {
    for (const block of blocks) if (block.byteLength > 0) yield decodeBlock(block);
    return;
  }
  let records: unknown[];
  const all = [...blocks];
  const merged = aggregator && spec.mapSideCombined ? mergeBatches(spec.ops, all) : null;
  if (merged) {
    records = merged;
    if (all.some((b) => b.byteLength > 0)) spec.used('mergeAgg');
  } else if (aggregator) {
    const merged = new KeyMap<unknown>();
    for (const block of all) {
      if (block.byteLength === 0) continue;
      for (const record of decodeBlock(block)) {
        const [k, v] = expectPair(record, spec.where);
        const c = merged.get(k);
        if (c !== undefined || merged.has(k)) {
          merged.set(k, spec.mapSideCombined ? aggregator.mergeCombiners(c, v) : aggregator.mergeValue(c, v));
        } else {
          merged.set(k, spec.mapSideCombined ? v : aggregator.createCombiner(v));
        }
      }
    }
    records = [];
    for (const [k, c] of merged.entries()) records.push([k, c]);
  } else {
    records = [];
    for (const block of all) if (block.byteLength > 0) for (const r of decodeBlock(block)) records.push(r);
  }
  if (sort) {
    for (const r of records) expectPair(r, spec.where);
    records = sortRecordsByKey(records, (r) => (r as unknown[])[0], sort.ascending, spec.ops, spec.used);
  }
  yield records;
}
