/**
 * The one-shot aggregation methods of FlintOps, written once over `createAggregator` for both the
 * WebAssembly binding and the twins: feed one input, finish, release (and let the binding settle its
 * memory afterwards).
 */
import { FlintError } from '../errors.js';
import { decodeAggBatch, resultFromBatch } from './batch.js';
import { packStrings, unpackStrings } from './text.js';
import type { AggKind, AggOptions, AggResult, FlintOps, HashAggregator, NumericKeys, PackedBytes } from './types.js';

type OneShot = Pick<FlintOps, 'hashAggI64' | 'hashAggBytes' | 'hashAggStrings' | 'mergeAggBatches'>;

export function oneShotAggregation(create: FlintOps['createAggregator'], settle: () => void = () => {}): OneShot {
  const aggregate = (agg: HashAggregator, feed: (a: HashAggregator) => void) => {
    try {
      feed(agg);
      const batch = agg.finish();
      return { batch, ...resultFromBatch(batch) };
    } finally {
      agg.release();
      settle();
    }
  };
  const hashAggBytes = (keys: PackedBytes, values: Float64Array, kind: AggKind, options?: AggOptions): AggResult<PackedBytes> => {
    const r = aggregate(create('bytes', kind, options), (a) => a.addBytes(keys, values));
    return { kind, keys: r.keys as PackedBytes, values: r.values, batch: r.batch };
  };
  return {
    hashAggI64<K extends NumericKeys>(keys: K, values: Float64Array, kind: AggKind, options?: AggOptions): AggResult<K> {
      const keyKind = keys instanceof BigInt64Array ? 'i64' : 'f64';
      const r = aggregate(create(keyKind, kind, options), (a) => a.addNumeric(keys, values));
      return { kind, keys: r.keys as K, values: r.values, batch: r.batch };
    },
    hashAggBytes,
    hashAggStrings(keys: readonly string[], values: Float64Array, kind: AggKind, options?: AggOptions): AggResult<string[]> {
      const r = hashAggBytes(packStrings(keys), values, kind, options);
      return { kind, keys: unpackStrings(r.keys), values: r.values, batch: r.batch };
    },
    mergeAggBatches(batches: readonly Uint8Array[]): Uint8Array {
      if (batches.length === 0) throw new FlintError('INVALID_ARGUMENT', 'mergeAggBatches needs at least one batch');
      const first = decodeAggBatch(batches[0]!);
      const agg = create(first.keyKind, first.kind, { capacityHint: first.rows });
      try {
        for (const b of batches) agg.merge(b);
        return agg.finish();
      } finally {
        agg.release();
        settle();
      }
    },
  };
}
