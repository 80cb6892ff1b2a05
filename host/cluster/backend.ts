/**
 * Where executors come from: worker threads on this machine, the driver's own thread, and (next)
 * remote Node workers and browser tabs. A backend starts executors, connects them to each other
 * for shuffle fetches, and reports their arrival and loss; it replaces lost ones when it can.
 */
import type { Endpoint } from '../transport/endpoint.js';

export interface BackendListener {
  executorAdded(executorId: string, endpoint: Endpoint, cores: number, host: string): void;
  executorLost(executorId: string, reason: string): void;
}

export interface ExecutorBackend {
  readonly defaultParallelism: number;
  start(listener: BackendListener): Promise<void>;
  stop(): Promise<void>;
}
