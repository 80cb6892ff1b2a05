/**
 * Where executors come from: worker threads on this machine, the driver's own thread, remote Node
 * workers and browser tabs lent by a coordinator. A backend starts (or is lent) executors, connects
 * them for shuffle fetches, and reports their arrival and loss; it replaces lost ones when it can.
 */
import type { EventBus } from '../events/bus.js';
import type { Endpoint } from '../transport/endpoint.js';

export type ExecutorKind = 'driver' | 'thread' | 'node' | 'browser';

/**
 * What an executor can do. Tasks carry requirements (a closure using `process` needs 'node') and the
 * task scheduler places them only on executors that have every one.
 * - 'node': Node's globals (process, Buffer) are available to closures;
 * - 'fs': the driver's local paths can be read and written directly (same machine);
 * - 'wasm': the WebAssembly operators load;
 * - 'trusted': results count without verification;
 * - 'disk': a scratch disk for spills and disk storage levels (a browser tab has none: tasks that
 *   persist at DISK_ONLY go elsewhere, and its memory levels keep what does not fit nowhere).
 */
export type Capability = 'node' | 'fs' | 'wasm' | 'trusted' | 'disk';

export interface ExecutorDescription {
  id: string;
  host: string;
  cores: number;
  kind: ExecutorKind;
  capabilities: Capability[];
  /** The machine or tab this executor runs in: executors of one worker share it. */
  workerId?: string;
  memoryMb?: number;
  /**
   * Tasks its worker's executors had verified in a row for earlier applications of the same
   * coordinator (the host's reputation, as BOINC keeps it across workunits): the verifier starts
   * its record there, so a volunteer that stays is not re-vetted by every new job.
   */
  verifiedBefore?: number;
}

/** Why an executor went away. Only a loss the application caused counts as a task failure. */
export interface ExecutorLoss {
  reason: string;
  /** True when the task itself killed its executor (process.exit, out of memory). */
  causedByApp: boolean;
}

export interface BackendListener {
  executorAdded(executor: ExecutorDescription, endpoint: Endpoint): void;
  executorLost(executorId: string, loss: ExecutorLoss): void;
  /**
   * The executor is leaving on purpose (its worker is decommissioned, or the coordinator lends it to
   * another application): no new tasks go there, what it holds is declared lost at once, and
   * `whenIdle` runs once its running tasks have ended, so the backend can let it go.
   */
  executorDraining(executorId: string, whenIdle: () => void): void;
  /** The backend cannot provide executors any more (its coordinator is gone): running jobs fail. */
  backendUnavailable(error: Error): void;
}

export interface ExecutorBackend {
  readonly defaultParallelism: number;
  /** Resolves once executors can take the first job (not necessarily all of them). */
  start(listener: BackendListener): Promise<void>;
  stop(): Promise<void>;
  /** Spark's DeveloperApi killExecutor; false when the backend cannot. */
  killExecutor?(executorId: string): Promise<boolean>;
  /**
   * Whether the backend's threads or sockets may keep the host process alive: on while jobs run,
   * off in between, so that a script that never calls `stop()` still ends with its code.
   */
  keepAlive?(on: boolean): void;
  /** The application's events, for backends that share them (a coordinator's dashboard and logs). */
  attachEvents?(bus: EventBus): void;
  /** The id the cluster manager gave the application, once started. */
  readonly applicationId?: string | null;
}
