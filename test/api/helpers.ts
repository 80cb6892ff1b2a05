import { expect, inject } from 'vitest';
import { Flint, FlintError, type RDD } from 'flint';
import { canonicalSort, type RefRDD } from '../reference/rdd-reference.js';

/** The cluster the API suite runs on in its second pass (test/cluster/global-setup.ts), if any. */
export function testCluster(): { master: string; token: string } | null {
  const master = inject('flintMaster');
  return master ? { master, token: inject('flintToken') } : null;
}

/** `master` in the local pass; the test cluster (two one-core workers) in the cluster pass. */
export async function startFlint(master = 'local[2]'): Promise<Flint> {
  const cluster = testCluster();
  if (cluster) return Flint.start({ master: cluster.master, token: cluster.token, appName: 'api-conformance' });
  return Flint.start({ master, appName: 'api-conformance' });
}

/** Same records in the same partitions, in the same order: for results whose layout Spark defines. */
export async function expectSamePartitions<T>(rdd: RDD<T>, ref: RefRDD<T>): Promise<void> {
  expect(rdd.getNumPartitions()).toBe(ref.getNumPartitions());
  expect(await rdd.glom().collect()).toEqual(ref.partitions);
}

/** Same records in the same order (collect of narrow pipelines, sorts). */
export async function expectSameOrder<T>(rdd: RDD<T>, ref: RefRDD<T>): Promise<void> {
  expect(await rdd.collect()).toEqual(ref.collect());
}

/** Same multiset of records and the same number of partitions: shuffle outputs. */
export async function expectSameMultiset<T>(rdd: RDD<T>, ref: RefRDD<T>, normalize: (xs: T[]) => T[] = canonicalSort): Promise<void> {
  expect(rdd.getNumPartitions()).toBe(ref.getNumPartitions());
  expect(normalize(await rdd.collect())).toEqual(normalize(ref.collect()));
}

/** The FlintError a promise or a function rejects with. */
export async function flintErrorOf(action: (() => unknown) | Promise<unknown>): Promise<FlintError> {
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (err) {
    expect(err).toBeInstanceOf(FlintError);
    return err as FlintError;
  }
  throw new Error('expected a FlintError, but nothing was thrown');
}
