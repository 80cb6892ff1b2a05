/** Partitioners a user can pass to `partitionBy` and read from `rdd.partitioner`. */
import { captureClosure } from '../codec/closure-capture.js';
import { hashPartition } from '../codec/keys.js';
import { compareValues } from '../codec/order.js';
import { FlintError } from '../errors.js';
import type { PartitionerDesc } from '../plan/plan.js';
import { rangePartitionOf } from '../shuffle/partition-fn.js';

export abstract class Partitioner {
  constructor(readonly numPartitions: number) {
    if (!Number.isInteger(numPartitions) || numPartitions < 1) {
      throw new FlintError('INVALID_ARGUMENT', `numPartitions must be a positive integer, got ${String(numPartitions)}`);
    }
  }
  abstract getPartition(key: unknown): number;
  abstract equals(other: Partitioner | null): boolean;
  /** @internal */
  abstract describe(): PartitionerDesc;
}

/** Partition = hash of the key's canonical bytes mod n: keys equal by value land together. */
export class HashPartitioner extends Partitioner {
  getPartition(key: unknown): number {
    return hashPartition(key, this.numPartitions);
  }
  equals(other: Partitioner | null): boolean {
    return other instanceof HashPartitioner && other.numPartitions === this.numPartitions;
  }
  describe(): PartitionerDesc {
    return { kind: 'hash', numPartitions: this.numPartitions };
  }
}

/** A user function key → partition (PySpark's `partitionFunc`), taken modulo numPartitions. */
export class FunctionPartitioner extends Partitioner {
  private readonly spec;
  constructor(
    numPartitions: number,
    readonly partitionFunc: (key: never) => number,
    env?: Record<string, unknown>,
  ) {
    super(numPartitions);
    this.spec = captureClosure(partitionFunc, { method: 'partitionBy', env });
  }
  getPartition(key: unknown): number {
    const p = (this.partitionFunc as (k: unknown) => number)(key);
    return ((p % this.numPartitions) + this.numPartitions) % this.numPartitions;
  }
  equals(other: Partitioner | null): boolean {
    return other instanceof FunctionPartitioner && other.numPartitions === this.numPartitions && other.partitionFunc === this.partitionFunc;
  }
  describe(): PartitionerDesc {
    return { kind: 'custom', numPartitions: this.numPartitions, f: this.spec };
  }
}

/** Sorted ranges of keys; bounds come from sampling the input when the job is prepared. */
export class RangePartitioner extends Partitioner {
  bounds: unknown[] | null = null;
  constructor(
    numPartitions: number,
    readonly ascending: boolean,
  ) {
    super(numPartitions);
  }
  getPartition(key: unknown): number {
    return rangePartitionOf(key, this.bounds ?? [], this.ascending, this.numPartitions);
  }
  equals(other: Partitioner | null): boolean {
    return other === this;
  }
  describe(): PartitionerDesc {
    if (!this.bounds) throw new FlintError('INTERNAL', 'range partitioner used before its bounds were sampled');
    return { kind: 'range', numPartitions: this.numPartitions, bounds: this.bounds, ascending: this.ascending };
  }
}

/** Spreads records evenly regardless of key (repartition / coalesce with shuffle). */
export class RoundRobinPartitioner extends Partitioner {
  getPartition(): number {
    return 0;
  }
  equals(): boolean {
    return false;
  }
  describe(): PartitionerDesc {
    return { kind: 'roundRobin', numPartitions: this.numPartitions };
  }
}

/** Bounds for `n` ranges from a sample of keys (Spark's RangePartitioner.determineBounds). */
export function determineBounds(sample: unknown[], n: number): unknown[] {
  // Wrapped so that undefined keys are compared too (sort moves bare undefined last).
  const sorted = sample.map((k) => [k]).sort((a, b) => compareValues(a[0], b[0])).map((w) => w[0]);
  const bounds: unknown[] = [];
  if (sorted.length === 0 || n <= 1) return bounds;
  const step = sorted.length / n;
  let previous: unknown = undefined;
  let havePrevious = false;
  for (let i = 1; i < n; i++) {
    const candidate = sorted[Math.min(sorted.length - 1, Math.ceil(i * step) - 1)];
    if (!havePrevious || compareValues(candidate, previous) > 0) {
      bounds.push(candidate);
      previous = candidate;
      havePrevious = true;
    }
  }
  return bounds;
}
