/** RDD properties and persistence: ids, names, partitioners, storage levels, checkpoints. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HashPartitioner, StorageLevel, type Flint } from 'flint';
import { RefRDD, canonicalSort } from '../reference/rdd-reference.js';
import { expectSamePartitions, flintErrorOf, startFlint } from './helpers.js';

let fl: Flint;
let dir: string;
beforeAll(async () => {
  fl = await startFlint('local[2]');
  dir = mkdtempSync(join(tmpdir(), 'flint-api-persist-'));
});
afterAll(async () => {
  await fl.stop();
  rmSync(dir, { recursive: true, force: true });
});

const add = (a: number, b: number) => a + b;

function listFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('properties', () => {
  it('id, context and getNumPartitions', () => {
    const a = fl.parallelize([1, 2, 3], 3);
    const b = a.map((x) => x + 1);
    expect(typeof a.id).toBe('number');
    expect(b.id).not.toBe(a.id);
    expect(a.context).toBe(fl);
    expect(b.context).toBe(fl);
    expect(a.getNumPartitions()).toBe(3);
    expect(b.getNumPartitions()).toBe(3);
    expect(fl.parallelize([1, 2, 3]).getNumPartitions()).toBe(fl.defaultParallelism);
  });

  it('setName and name', () => {
    // rdd1.setName('RDD1').name() == 'RDD1'
    const rdd = fl.parallelize([1, 2]);
    expect(rdd.name).toBeNull();
    expect(rdd.setName('RDD1')).toBe(rdd);
    expect(rdd.name).toBe('RDD1');
  });

  it('partitioner: HashPartitioner after reduceByKey and partitionBy, null after map', () => {
    const pairs = fl.parallelize([['a', 1], ['b', 2], ['a', 3]] as [string, number][], 2);
    expect(pairs.partitioner).toBeNull();
    const reduced = pairs.reduceByKey(add);
    expect(reduced.partitioner).toBeInstanceOf(HashPartitioner);
    expect(reduced.partitioner!.numPartitions).toBe(2);
    expect(reduced.partitioner!.equals(new HashPartitioner(2))).toBe(true);
    expect(pairs.reduceByKey(add, { numPartitions: 5 }).partitioner!.equals(new HashPartitioner(5))).toBe(true);
    expect(pairs.partitionBy(3).partitioner!.equals(new HashPartitioner(3))).toBe(true);
    expect(pairs.groupByKey().partitioner).toBeInstanceOf(HashPartitioner);
    expect(reduced.map((kv) => kv).partitioner).toBeNull();
    // Operations that cannot change keys keep the partitioner.
    expect(reduced.mapValues((v) => v * 2).partitioner!.equals(reduced.partitioner)).toBe(true);
    expect(reduced.filter((kv) => kv[1] > 0).partitioner!.equals(reduced.partitioner)).toBe(true);
    expect(reduced.flatMapValues((v) => [v]).partitioner!.equals(reduced.partitioner)).toBe(true);
    expect(reduced.keys().partitioner).toBeNull();
    expect(pairs.sortByKey().partitioner).not.toBeInstanceOf(HashPartitioner);
  });

  it('an RDD already partitioned by the same partitioner is aggregated without changing layout', async () => {
    const data: [string, number][] = Array.from({ length: 40 }, (_, i) => [`k${i % 6}`, i]);
    const byKey = fl.parallelize(data, 3).partitionBy(4);
    const before = (await byKey.glom().collect()).map((p) => canonicalSort([...new Set(p.map((kv) => kv[0]))]));
    const reduced = byKey.reduceByKey(add);
    const after = (await reduced.glom().collect()).map((p) => canonicalSort(p.map((kv) => kv[0])));
    expect(after).toEqual(before);
    expect(canonicalSort(await reduced.collect())).toEqual(canonicalSort(RefRDD.parallelize(data, 3).reduceByKey(add).collect()));
  });

  it('toDebugString describes the lineage', () => {
    const rdd = fl.parallelize([['a', 1]] as [string, number][], 2).map((kv) => kv).reduceByKey(add).setName('summed');
    const s = rdd.toDebugString();
    expect(typeof s).toBe('string');
    expect(s.split('\n').length).toBeGreaterThanOrEqual(2);
    expect(s).toMatch(/^\(2\)/);
    expect(s).toContain('ParallelCollectionRDD');
    expect(s).toContain(String(rdd.id));
  });
});

describe('persistence', () => {
  it('cache, persist, isCached, getStorageLevel and unpersist', () => {
    const rdd = fl.parallelize([1, 2, 3]);
    expect(rdd.isCached).toBe(false);
    expect(rdd.getStorageLevel().equals(StorageLevel.NONE)).toBe(true);
    expect(rdd.cache()).toBe(rdd);
    expect(rdd.isCached).toBe(true);
    expect(rdd.getStorageLevel().equals(StorageLevel.MEMORY_ONLY)).toBe(true);
    expect(rdd.unpersist()).toBe(rdd);
    expect(rdd.isCached).toBe(false);
    const other = fl.parallelize([1]).persist(StorageLevel.MEMORY_AND_DISK);
    expect(other.getStorageLevel().equals(StorageLevel.MEMORY_AND_DISK)).toBe(true);
    expect(other.isCached).toBe(true);
    expect(fl.parallelize([1]).persist().getStorageLevel().equals(StorageLevel.MEMORY_ONLY)).toBe(true);
  });

  it('changing the storage level of a persisted RDD is an error', async () => {
    const rdd = fl.parallelize([1]).persist(StorageLevel.MEMORY_ONLY);
    expect((await flintErrorOf(() => rdd.persist(StorageLevel.DISK_ONLY))).code).toBe('INVALID_ARGUMENT');
  });

  it('a cached RDD is computed once; after unpersist it is recomputed', async () => {
    const rdd = fl.range(0, 20, 1, 4).map(() => Math.random()).cache();
    const first = await rdd.collect();
    expect(await rdd.collect()).toEqual(first);
    expect(await rdd.map((x) => x * 2).collect()).toEqual(first.map((x) => x * 2));
    rdd.unpersist();
    expect(await rdd.collect()).not.toEqual(first);
  });

  it('caching does not change results', async () => {
    const data = Array.from({ length: 30 }, (_, i) => i);
    const cached = fl.parallelize(data, 4).filter((x) => x % 3 !== 0).cache();
    const ref = RefRDD.parallelize(data, 4).filter((x) => x % 3 !== 0);
    await expectSamePartitions(cached, ref);
    await expectSamePartitions(cached, ref);
    expect(await cached.reduce(add)).toBe(ref.reduce(add));
  });

  it('checkpoint saves the RDD and cuts its lineage', async () => {
    fl.setCheckpointDir(join(dir, 'checkpoints'));
    const data: [string, number][] = Array.from({ length: 25 }, (_, i) => [`k${i % 4}`, i]);
    const rdd = fl.parallelize(data, 3).reduceByKey(add).mapValues((v) => v + 0.5);
    expect(rdd.isCheckpointed).toBe(false);
    rdd.checkpoint();
    // PySpark: rdd.checkpoint(); rdd.is_checkpointed == True; rdd.getCheckpointFile() == None
    expect(rdd.isCheckpointed).toBe(true);
    expect(rdd.getCheckpointFile()).toBe(null);
    const before = await rdd.collect();
    expect(rdd.isCheckpointed).toBe(true);
    expect(rdd.getCheckpointFile()).toBeTruthy();
    expect(listFiles(join(dir, 'checkpoints')).length).toBeGreaterThanOrEqual(rdd.getNumPartitions());
    expect(await rdd.collect()).toEqual(before);
    expect(canonicalSort(before)).toEqual(canonicalSort(RefRDD.parallelize(data, 3).reduceByKey(add).mapValues((v) => v + 0.5).collect()));
    expect(rdd.toDebugString()).not.toContain('ParallelCollectionRDD');
  });

  it('a checkpointed random RDD is stable once saved', async () => {
    fl.setCheckpointDir(join(dir, 'checkpoints2'));
    // Spark writes the checkpoint in a job of its own after the first action, which recomputes an
    // unpersisted RDD: only the values read back from the checkpoint are stable.
    const rdd = fl.range(0, 10, 1, 2).map(() => Math.random());
    rdd.checkpoint();
    await rdd.collect();
    const saved = await rdd.collect();
    expect(await rdd.collect()).toEqual(saved);
    // Persisted first, the checkpoint saves the values the first action saw.
    const cached = fl.range(0, 10, 1, 2).map(() => Math.random()).cache();
    cached.checkpoint();
    const first = await cached.collect();
    expect(cached.isCheckpointed).toBe(true);
    cached.unpersist();
    expect(await cached.collect()).toEqual(first);
  });

  it('localCheckpoint', async () => {
    const rdd = fl.range(0, 12, 1, 3).map(() => Math.random());
    // rdd.isLocallyCheckpointed() == False; rdd.localCheckpoint(); rdd.isLocallyCheckpointed() == True
    expect(rdd.isLocallyCheckpointed()).toBe(false);
    expect(rdd.localCheckpoint()).toBe(rdd);
    expect(rdd.isLocallyCheckpointed()).toBe(true);
    // Spark's isCheckpointed() is true once the local checkpoint is materialized.
    expect(rdd.isCheckpointed).toBe(false);
    const first = await rdd.collect();
    expect(rdd.isCheckpointed).toBe(true);
    expect(await rdd.collect()).toEqual(first);
  });
});
