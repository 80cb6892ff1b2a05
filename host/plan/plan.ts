/**
 * Tasks are data: everything an executor needs to compute a partition travels as these plain,
 * serializable descriptors (structured clone between threads, msgpack over sockets). The plan of a
 * stage is the lineage of its final RDD up to the shuffle reads that feed it, with narrow
 * transformations fused into `pipe` nodes so one pass over a partition runs them all.
 */
import type { ClosureSpec } from '../codec/closure-spec.js';
import type { FileSplit } from './sources.js';

export type OpDesc =
  | { op: 'map' | 'filter' | 'flatMap' | 'mapValues' | 'flatMapValues' | 'keyBy'; f: ClosureSpec }
  | { op: 'keys' | 'values' | 'glom' | 'pairWithNull' | 'swap' }
  | { op: 'mapPartitions'; f: ClosureSpec; withIndex: boolean }
  | { op: 'sample'; withReplacement: boolean; fraction: number; seed: number }
  | { op: 'sampleByKey'; withReplacement: boolean; fractions: [unknown, number][]; seed: number }
  | { op: 'randomSplit'; lower: number; upper: number; seed: number }
  | { op: 'zipWithIndex'; startIndices: number[] }
  | { op: 'zipWithUniqueId'; numPartitions: number }
  | { op: 'takeOrdered'; n: number; key: ClosureSpec | null; descending: boolean }
  | { op: 'take'; n: number }
  | { op: 'count' }
  | { op: 'stats' }
  | { op: 'countByValue' }
  | { op: 'histogram'; buckets: number[] | string[]; evenBuckets: boolean; inc: number }
  | { op: 'sortPartition'; ascending: boolean; key: ClosureSpec | null }
  /** A reservoir of at most `n` keys of a partition's [key, value] pairs (the range partitioner's sample), streamed. */
  | { op: 'sampleKeys'; n: number };

/** How a map task assigns a record's key to a reduce partition. */
export type PartitionerDesc =
  | { kind: 'hash'; numPartitions: number }
  | { kind: 'range'; numPartitions: number; bounds: unknown[]; ascending: boolean }
  | { kind: 'custom'; numPartitions: number; f: ClosureSpec }
  /** Round-robin from a per-partition random start, as Spark's repartition does for balance. */
  | { kind: 'roundRobin'; numPartitions: number };

/**
 * Spark's Aggregator. Built-in names are the seam where aggregation runs on the WebAssembly
 * operators; closures take the general path and must give the same answer.
 */
export type AggregatorDesc =
  | { kind: 'builtin'; name: 'sum' | 'min' | 'max' | 'count' }
  | { kind: 'closures'; createCombiner: ClosureSpec; mergeValue: ClosureSpec; mergeCombiners: ClosureSpec }
  /** groupByKey: values gathered into arrays, no map-side combine (it would save nothing). */
  | { kind: 'group' };

export type PlanNode =
  | { kind: 'parallel'; rddId: number }
  /** Slice i holds indices [floor(i*count/slices), floor((i+1)*count/slices)): computed, not shipped. */
  | { kind: 'range'; rddId: number; start: number; step: number; count: number; slices: number }
  | { kind: 'textFile'; rddId: number; splits: FileSplit[] }
  /**
   * Fused by the planner (fusion.ts): `textFile → flatMap(words)` scanned as bytes by the
   * WebAssembly word scanner. `pair` adds a following `map(pairWith(value))`; `count` is what the
   * scan folds in: 'lines' for `count()` on the text, 'words' for `countByValue()` on the words;
   * shuffle writers of built-in aggregations fold `pair` with value 1 into the scan themselves.
   */
  | { kind: 'textScan'; rddId: number; splits: FileSplit[]; words: boolean; pair?: { value: unknown }; count?: 'lines' | 'words' }
  | { kind: 'wholeTextFiles'; rddId: number; groups: FileSplit[][] }
  | { kind: 'pipe'; rddId: number; parent: PlanNode; ops: OpDesc[] }
  | { kind: 'union'; rddId: number; parents: PlanNode[]; offsets: number[] }
  | { kind: 'coalesce'; rddId: number; parent: PlanNode; groups: number[][] }
  | { kind: 'zip'; rddId: number; left: PlanNode; right: PlanNode }
  | { kind: 'cartesian'; rddId: number; left: PlanNode; right: PlanNode; rightPartitions: number }
  | {
      kind: 'shuffleRead';
      rddId: number;
      shuffleId: number;
      aggregator: AggregatorDesc | null;
      mapSideCombined: boolean;
      sort: { ascending: boolean } | null;
    }
  /** Groups values per key from every source; with `combine`, one source combined per key instead. */
  | { kind: 'cogroup'; rddId: number; sources: CogroupSource[]; combine?: AggregatorDesc }
  | { kind: 'cached'; rddId: number; storage: StorageLevelDesc; child: PlanNode }
  | { kind: 'checkpoint'; rddId: number; files: string[] }
  | { kind: 'empty'; rddId: number };

export type CogroupSource =
  | { kind: 'shuffle'; shuffleId: number; mapSideCombined: false }
  | { kind: 'narrow'; node: PlanNode };

export interface StorageLevelDesc {
  useMemory: boolean;
  useDisk: boolean;
  deserialized: boolean;
  replication: number;
}

/** Where the records of a shuffle map stage go. */
export interface ShuffleOutput {
  shuffleId: number;
  partitioner: PartitionerDesc;
  /** Map-side combine; null when records are only partitioned. */
  combiner: AggregatorDesc | null;
}

/** Where a task's records go; a shuffle map task's buckets are described by its stage plan. */
export type TaskOutput =
  | { kind: 'result' }
  | { kind: 'shuffle' }
  | { kind: 'text'; path: string }
  | { kind: 'checkpoint'; path: string };

/** A shuffle block this task must read: map output `mapId` of `shuffleId`, held by `executorId`. */
export interface BlockLocation {
  shuffleId: number;
  mapId: number;
  /** The reduce partition: under union or coalesce a task reads other partitions than its own. */
  reduceId: number;
  executorId: string;
  bytes: number;
}

/**
 * What every task of a stage attempt shares: the plan (closures, splits, groups), the shuffle it
 * writes, the broadcasts it reads. It travels to an executor once, before that executor's first task
 * of the stage, and stays cached there under `stageKey` until the stage attempt ends.
 */
export interface StagePlan {
  stageKey: string;
  stageId: number;
  stageAttempt: number;
  plan: PlanNode;
  /** Shuffle map stages: how buckets are cut; null for result stages. */
  shuffle: ShuffleOutput | null;
  broadcasts: number[];
  /** Modules (fl.module) the stage's closures use: shipped to an executor before its first task. */
  modules: string[];
  /** Built-in aggregations and sorts on the WebAssembly operators (else their TypeScript twins). */
  useWasm: boolean;
  /**
   * Capabilities an executor needs to run these tasks: 'node' for closures using process, 'disk'
   * for a partition persisted at DISK_ONLY.
   */
  requirements: StageRequirement[];
}

export type StageRequirement = 'node' | 'disk';

/** One attempt of one task: only what is particular to its partition. */
export interface TaskDescriptor {
  taskId: number;
  stageKey: string;
  stageId: number;
  stageAttempt: number;
  partition: number;
  attempt: number;
  output: TaskOutput;
  /** Encoded records of parallelized slices this partition reads, by `${rddId}:${slice}`. */
  slices: Record<string, Uint8Array>;
  /** Shuffle blocks the partition reads through its narrow lineage (only non-empty ones). */
  blocks: BlockLocation[];
  /** Report the output's digest (its result is to be compared with another executor's). */
  digest?: boolean;
}

export interface TaskSuccess {
  taskId: number;
  ok: true;
  /** Encoded result records for result tasks. */
  result: Uint8Array | null;
  /**
   * A result too large to push in one message stays on the executor as a block of this many bytes;
   * the driver pulls it in parts (Spark's maxDirectResultSize), then `result` is filled in.
   */
  resultBlock?: { bytes: number };
  /** Bytes written per reduce partition, for shuffle map tasks. */
  mapSizes: number[] | null;
  /** SHA-256 of the output's canonical bytes (exec/digest.ts), when the task asked for it. */
  digest?: string;
  /** Cached blocks this task added (`rdd_<id>_<partition>`), with their sizes. */
  blocksAdded: Array<{ blockId: string; bytes: number }>;
  metrics: import('../events/events.js').TaskMetrics;
}

export interface TaskFailure {
  taskId: number;
  ok: false;
  error: import('../errors.js').WireError;
  fetchFailed: { shuffleId: number; mapId: number; executorId: string } | null;
  /** The driver asked for the attempt to stop (it lost a speculative race, or its job ended). */
  killed?: boolean;
  metrics: import('../events/events.js').TaskMetrics;
}

export type TaskResult = TaskSuccess | TaskFailure;

export function blockIdOfRdd(rddId: number, partition: number): string {
  return `rdd_${rddId}_${partition}`;
}
