/**
 * The reduce side of a shuffle: decoded blocks merged per key by the aggregator (or passed through),
 * optionally sorted by key for sortByKey.
 */
import { KeyMap } from '../codec/keys.js';
import { decodeRecords } from '../codec/records.js';
import { compareValues } from '../codec/order.js';
import type { Aggregator } from './aggregator.js';
import { expectPair } from './aggregator.js';

export interface ReduceSpec {
  aggregator: Aggregator | null;
  mapSideCombined: boolean;
  sort: { ascending: boolean } | null;
  where: string;
}

export function* reduceBlocks(blocks: Iterable<Uint8Array>, spec: ReduceSpec): Generator<unknown[]> {
  const { aggregator, sort } = spec;
  if (!aggregator && !sort) {
    for (const block of blocks) if (block.byteLength > 0) yield decodeRecords(block);
    return;
  }
  let records: unknown[];
  if (aggregator) {
    const merged = new KeyMap<unknown>();
    for (const block of blocks) {
      if (block.byteLength === 0) continue;
      for (const record of decodeRecords(block)) {
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
    for (const block of blocks) if (block.byteLength > 0) for (const r of decodeRecords(block)) records.push(r);
  }
  if (sort) sortByKey(records, sort.ascending, spec.where);
  yield records;
}

export function sortByKey(records: unknown[], ascending: boolean, where: string): void {
  for (const r of records) expectPair(r, where);
  const sign = ascending ? 1 : -1;
  records.sort((a, b) => sign * compareValues((a as unknown[])[0], (b as unknown[])[0]));
}
