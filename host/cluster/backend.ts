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
  /** Resolves once executors can take the first job (not necessarily all of them). */
  start(listener: BackendListener): Promise<void>;
  stop(): Promise<void>;
  /**
   * Whether the backend's threads or sockets may keep the host process alive: on while jobs run,
   * off in between, so that a script that never calls `stop()` still ends with its code.
   */
  keepAlive?(on: boolean): void;
}
