/**
 * Lineage as the planner sees it: every RDD knows its partitions, its dependencies (narrow, with
 * the parent partitions each partition reads, or shuffle) and how to describe the computation of a
 * partition as a plan node.
 */
import type { AggregatorDesc, PartitionerDesc, PlanNode, StorageLevelDesc } from './plan.js';

export interface ShuffleDependency {
  shuffleId: number;
  /** The map side. */
  rdd: LineageNode;
  /** Resolved when the job is prepared (range bounds come from sampling). */
  partitioner(): PartitionerDesc;
  /** Map-side combine; null when map tasks only partition records. */
  combiner: AggregatorDesc | null;
  /** The operation that reads the shuffle ("join at job.ts:20"): the map stage is named after it. */
  callSite?: string;
}

export type Dependency =
  | { kind: 'narrow'; rdd: LineageNode; parents(partition: number): number[] }
  | { kind: 'shuffle'; dep: ShuffleDependency };

export interface LineageNode {
  readonly id: number;
  /** What the stage is called in events and progress bars, e.g. "reduceByKey at job.ts:12". */
  readonly callSite: string;
  /** The user's name for it (Spark's setName); null when none was given. */
  readonly name?: string | null;
  numPartitions(): number;
  dependencies(): Dependency[];
  /** The node for this RDD alone; `child` builds (and fuses) the nodes of its parents. */
  planNode(child: (rdd: LineageNode) => PlanNode): PlanNode;
  storageDesc(): StorageLevelDesc | null;
  checkpointFiles(): string[] | null;
  /** Encoded records of slice `partition` for parallelized collections; null otherwise. */
  sliceBytes(partition: number): Uint8Array | null;
  /** Work that must happen before planning, e.g. sampling range bounds or counting partitions. */
  prepare?(): Promise<void>;
}
