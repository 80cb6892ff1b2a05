/**
 * What a stage looks like in the DAG view: its RDDs, from its final RDD down its narrow lineage to
 * the shuffle reads (Spark's StageInfo.rddInfos). Built when a job starts, so that stages that are
 * skipped, and stages that never run because the job failed first, can still be drawn.
 */
import type { RddInfo } from '../events/events.js';
import type { LineageNode } from '../plan/lineage.js';

/** The user's name for an RDD (setName), else its kind, as Spark names RDDs in its UI. */
function displayName(rdd: LineageNode): string {
  return rdd.name ?? rdd.constructor.name;
}

export function stageRdds(finalRdd: LineageNode): RddInfo[] {
  const out: RddInfo[] = [];
  const seen = new Set<number>();
  const queue: LineageNode[] = [finalRdd];
  while (queue.length > 0) {
    const rdd = queue.shift()!;
    if (seen.has(rdd.id)) continue;
    seen.add(rdd.id);
    // A checkpointed RDD reads its files: its lineage no longer runs.
    const deps = rdd.checkpointFiles() ? [] : rdd.dependencies();
    const parentIds: number[] = [];
    for (const d of deps) {
      if (d.kind === 'narrow') {
        parentIds.push(d.rdd.id);
        queue.push(d.rdd);
      } else {
        parentIds.push(d.dep.rdd.id);
      }
    }
    const storage = rdd.storageDesc();
    out.push({
      rddId: rdd.id,
      name: displayName(rdd),
      callSite: rdd.callSite,
      parentIds,
      numPartitions: rdd.numPartitions(),
      storageLevel: storage ? { useDisk: storage.useDisk, useMemory: storage.useMemory, deserialized: storage.deserialized, replication: storage.replication } : null,
    });
  }
  return out;
}
