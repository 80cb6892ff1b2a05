/** Messages between the driver and an executor; the same over every transport (docs/PROTOCOL.md). */
import type { StagePlan, TaskDescriptor, TaskResult } from '../plan/plan.js';

export type DriverToExecutor =
  /** The shared part of a stage attempt's tasks; sent once per executor before its first task. */
  | { t: 'stage'; stage: StagePlan }
  | { t: 'task'; task: TaskDescriptor }
  /** Stop an attempt (a lost speculative race, an ended job); answered by its taskEnd, killed. */
  | { t: 'killTask'; taskId: number; reason: string }
  /** The stage attempt is over: its plan may go once no task of it runs or waits here. */
  | { t: 'dropStage'; stageKey: string }
  /** Pull part of a result kept as a block (TaskSuccess.resultBlock); `dropResult` once all arrived. */
  | { t: 'fetchResult'; taskId: number; offset: number; length: number }
  | { t: 'dropResult'; taskId: number }
  | { t: 'broadcast'; id: number; bytes: Uint8Array }
  | { t: 'dropBroadcast'; id: number }
  /** A module's code for this executor's platform (fl.module), sent before the first task using it. */
  | { t: 'module'; id: string; code: string }
  | { t: 'dropBlocks'; prefix: string }
  | { t: 'peerGone'; executorId: string }
  /**
   * Take over the map outputs of an executor that is leaving (`from`): fetch every block, keep them
   * as this executor's own, answer `adopted`. `digest` asks for each output's digest, to compare
   * with the one it was verified by.
   */
  | { t: 'adoptOutputs'; adoptId: number; from: string; outputs: AdoptedOutput[]; digest: boolean }
  | { t: 'shutdown' };

export interface AdoptedOutput {
  shuffleId: number;
  mapId: number;
  sizes: number[];
}

export type ExecutorToDriver =
  | { t: 'ready'; executorId: string }
  | { t: 'taskEnd'; result: TaskResult }
  /** `bytes` is null when the executor no longer holds that result. */
  | { t: 'resultPart'; taskId: number; offset: number; total: number; bytes: Uint8Array | null }
  | { t: 'blockRemoved'; executorId: string; blockId: string }
  | { t: 'heartbeat'; executorId: string; runningTasks: number[]; memoryBytes: number }
  /** The outputs of an `adoptOutputs` now held here (with their digests when asked); `error` why the rest are not. */
  | { t: 'adopted'; adoptId: number; outputs: Array<{ shuffleId: number; mapId: number; digest?: string }>; error: string | null };

/** Between executors: shuffle block fetches. */
export type PeerMessage =
  /** Blocks, or byte ranges of them (`offset`, `length`: a reducer bounds the bytes it has in flight). */
  | { t: 'fetch'; reqId: number; blocks: Array<{ shuffleId: number; mapId: number; reduceId: number; offset?: number; length?: number }> }
  | { t: 'blocks'; reqId: number; data: Array<Uint8Array | null> };
