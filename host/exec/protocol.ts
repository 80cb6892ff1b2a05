/** Messages between the driver and an executor; the same over every transport. */
import type { TaskDescriptor, TaskResult } from '../plan/plan.js';

export type DriverToExecutor =
  | { t: 'task'; task: TaskDescriptor }
  | { t: 'broadcast'; id: number; bytes: Uint8Array }
  | { t: 'dropBroadcast'; id: number }
  | { t: 'dropBlocks'; prefix: string }
  | { t: 'peerGone'; executorId: string }
  | { t: 'shutdown' };

export type ExecutorToDriver =
  | { t: 'ready'; executorId: string }
  | { t: 'taskEnd'; result: TaskResult }
  | { t: 'blockRemoved'; executorId: string; blockId: string }
  | { t: 'heartbeat'; executorId: string; runningTasks: number[]; memoryBytes: number };

/** Between executors: shuffle block fetches. */
export type PeerMessage =
  | { t: 'fetch'; reqId: number; blocks: Array<{ shuffleId: number; mapId: number; reduceId: number }> }
  | { t: 'blocks'; reqId: number; data: Array<Uint8Array | null> };
