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

export type FlintEvent =
  | { type: 'jobStart'; time: number; jobId: number; description: string; stageIds: number[] }
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
  | { type: 'executorAdded'; time: number; executorId: string; cores: number; host: string; kind: ExecutorKind; capabilities: Capability[] }
  | { type: 'executorRemoved'; time: number; executorId: string; reason: string; causedByApp: boolean }
  /** `until` is null when the exclusion is for good (a convicted liar). */
  | { type: 'executorExcluded'; time: number; executorId: string; until: number | null; failures: number; reason: string }
  /** Leaving on purpose: decommissioned, or lent to another application. */
  | { type: 'executorDraining'; time: number; executorId: string }
  | { type: 'blockUpdated'; time: number; executorId: string; blockId: string; bytes: number; removed: boolean }
  | { type: 'broadcastSent'; time: number; broadcastId: number; executorId: string; bytes: number };

export type FlintEventType = FlintEvent['type'];
