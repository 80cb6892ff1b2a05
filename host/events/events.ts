import type { Capability, ExecutorKind } from '../cluster/backend.js';

/** Scheduler and cluster events, as delivered to listeners and written to the JSON-lines event log. */
export interface TaskMetrics {
  durationMs: number;
  recordsRead: number;
  recordsWritten: number;
  shuffleReadBytes: number;
  shuffleWriteBytes: number;
  resultBytes: number;
  /**
   * Where the task's time went, for the timeline's phases (ms, the executor's clock). `durationMs`
   * is the run from the executor's start of the task to its result being ready; computing is what
   * the phases below leave of it. `queuedMs` comes before it: the driver sends tasks ahead of free
   * cores, and a task waits in the executor's queue until one frees up. Optional: executors of
   * earlier versions do not report them.
   */
  queuedMs?: number;
  /** Of shuffleReadBytes, what came from other executors. */
  shuffleRemoteBytesRead?: number;
  /** Waiting for shuffle blocks to arrive (local or from peers). */
  fetchWaitMs?: number;
  /** Partitioning, combining and encoding the map output into shuffle blocks. */
  shuffleWriteMs?: number;
  /** Encoding the result records for the driver (result tasks only). */
  resultSerializeMs?: number;
  /** Most execution memory the task held at once, in bytes (Spark's peakExecutionMemory). */
  peakExecutionMemory?: number;
  /** Memory the task released by spilling, in bytes (Spark's memoryBytesSpilled). */
  memoryBytesSpilled?: number;
  /** Bytes the task wrote to its spill files (Spark's diskBytesSpilled). */
  diskBytesSpilled?: number;
  /**
   * Operators of host/ops the task ran, as `impl:name` ('wasm:hashAgg', 'js:radixSort', ...):
   * hashAgg, mergeAgg, wordScan, lineScan, radixSort, stats. Empty when it took only the general path.
   */
  operators: string[];
}

/** Which attempt of which task an event is about, and where and when it ran. */
export interface TaskIdentity {
  time: number;
  taskId: number;
  stageId: number;
  stageAttempt: number;
  partition: number;
  attempt: number;
  executorId: string;
}

/** An RDD of a stage, as the stage DAG shows it (Spark's RDDInfo). */
export interface RddInfo {
  rddId: number;
  /** The user's name (setName), else the RDD's kind ("MapPartitionsRDD") or input path. */
  name: string;
  /** The user's call that created it: "map at job.ts:12". */
  callSite: string;
  /** Parents in the lineage; a parent in another stage is read through a shuffle. */
  parentIds: number[];
  numPartitions: number;
  /** Set for RDDs the user persisted. */
  storageLevel: StorageLevelInfo | null;
}

export interface StorageLevelInfo {
  useDisk: boolean;
  useMemory: boolean;
  deserialized: boolean;
  replication: number;
}

/** A stage of a job as the job starts: what the DAG needs before (or without) the stage running. */
export interface StageInfo {
  stageId: number;
  name: string;
  kind: 'shuffleMap' | 'result';
  numTasks: number;
  parentStageIds: number[];
  /** The stage's RDDs, its final RDD first; narrow ancestors down to the shuffle reads. */
  rdds: RddInfo[];
}

export type FlintEvent =
  | { type: 'applicationStart'; time: number; appId: string; appName: string; master: string; user: string }
  | { type: 'applicationEnd'; time: number }
  | { type: 'jobStart'; time: number; jobId: number; description: string; stageIds: number[]; stages: StageInfo[] }
  | { type: 'jobEnd'; time: number; jobId: number; succeeded: boolean; error?: string }
  | {
      type: 'stageSubmitted';
      time: number;
      stageId: number;
      attempt: number;
      name: string;
      kind: 'shuffleMap' | 'result';
      numTasks: number;
      partitions: number[];
      rddId: number;
      parentStageIds: number[];
    }
  | { type: 'stageCompleted'; time: number; stageId: number; attempt: number; succeeded: boolean; error?: string }
  | { type: 'stageSkipped'; time: number; stageId: number; jobId: number }
  | ({ type: 'taskStart'; speculative: boolean } & TaskIdentity)
  /**
   * `failed` counts towards the task's attempts; `lost` (its executor went away for reasons of its
   * own) and `killed` (the driver stopped it: a lost speculative race, an ended job) do not.
   */
  | ({ type: 'taskEnd'; status: 'success' | 'failed' | 'killed' | 'lost'; error?: string; metrics?: TaskMetrics } & TaskIdentity)
  | { type: 'executorAdded'; time: number; executorId: string; cores: number; host: string; kind: ExecutorKind; capabilities: Capability[]; memoryMb?: number }
  | { type: 'executorRemoved'; time: number; executorId: string; reason: string; causedByApp: boolean }
  /** `until` is null when the exclusion is for good (a convicted liar). */
  | { type: 'executorExcluded'; time: number; executorId: string; until: number | null; failures: number; reason: string }
  /** Leaving on purpose: decommissioned, or lent to another application. */
  | { type: 'executorDraining'; time: number; executorId: string }
  /**
   * A leaving executor's shuffle map outputs: `outputs` (of `bytes`) handed on to `toExecutorId`,
   * `lost` declared lost and recomputed (no executor could take them, or the hand-off failed: `reason`).
   */
  | { type: 'shuffleOutputsHandedOn'; time: number; executorId: string; toExecutorId: string | null; outputs: number; bytes: number; lost: number; reason?: string }
  /** A cached block (`rdd_<id>_<partition>`) stored on an executor, or gone from it. */
  | { type: 'blockUpdated'; time: number; executorId: string; blockId: string; bytes: number; removed: boolean }
  /**
   * A result of an untrusted executor was checked by replication: `agreed` when its output digest
   * matched the majority's, false when it was caught disagreeing.
   */
  | { type: 'taskVerified'; time: number; executorId: string; stageId: number; partition: number; agreed: boolean }
  | { type: 'broadcastSent'; time: number; broadcastId: number; executorId: string; bytes: number };

export type FlintEventType = FlintEvent['type'];
