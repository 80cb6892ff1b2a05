/**
 * Master 'local[N]': N executors, each in its own worker thread. Executors are connected pairwise
 * by MessageChannels so shuffle blocks move thread to thread as transferred ArrayBuffers, never
 * through the driver. A thread that dies (process.exit in a closure, out of memory, terminate()) is
 * reported lost and replaced by a fresh one.
 *
 * Threads start a batch at a time: `start` returns once the first batch is ready and the rest join
 * while jobs run, so `local[999]` runs its first job as soon as `local[4]` would. Threads that keep
 * dying before they are ready are not respawned forever: after a few in a row, `start` fails with the
 * thread's own error.
 *
 * Threads keep the process alive only while a job runs (`keepAlive`): a script that forgets
 * `fl.stop()` still ends when its code does, as a Spark script does.
 */
import { MessageChannel, type Worker } from 'node:worker_threads';
import type { BackendListener, ExecutorBackend } from '../cluster/backend.js';
import { FlintError } from '../errors.js';
import type { Endpoint } from '../transport/endpoint.js';
import { startExecutorWorker } from './executor-thread.js';
import type { FileServer } from './file-server.js';
import type { ScratchDirs } from './scratch-disk.js';
import { workerEndpoint } from './worker-endpoint.js';

export interface ThreadBackendOptions {
  threads: number;
  /** Threads starting at once; `start` waits for this many (or all, if fewer). */
  startBatch: number;
  /** Each executor's memory budget (memory-defaults.ts). */
  executorMemoryMb: number;
  cacheMemoryMb?: number;
  /** Where executors' scratch directories go (one per thread, removed when the thread ends). */
  scratch: ScratchDirs;
  useWasm: boolean;
  /**
   * Starts the driver's file server for threads that must not touch its files (FLINT_LOCAL_FILES=0):
   * they then read and write exactly as executors on another machine do.
   */
  fileServer?: () => Promise<FileServer>;
}

/** Threads that die before they are ready, in a row, before the backend stops respawning them. */
export const MAX_START_FAILURES = 3;

interface ThreadExecutor {
  id: string;
  worker: Worker;
  endpoint: Endpoint;
  ready: boolean;
  error: Error | null;
  /** Terminated on purpose (killExecutor): its loss is not the task's doing. */
  terminated: boolean;
}

export class ThreadBackend implements ExecutorBackend {
  private readonly executors = new Map<string, ThreadExecutor>();
  private listener: BackendListener | null = null;
  private nextId = 0;
  private stopping = false;
  private starting = 0;
  private ready = 0;
  private startFailures = 0;
  private gaveUp = false;
  /** Threads are ref'd (hold the event loop) while starting up and while jobs run. */
  private held = true;
  private started: { resolve(): void; reject(err: Error): void } | null = null;
  private fileServer: FileServer | null = null;

  constructor(private readonly options: ThreadBackendOptions) {}

  get defaultParallelism(): number {
    return this.options.threads;
  }

  async start(listener: BackendListener): Promise<void> {
    this.listener = listener;
    if (this.options.fileServer) this.fileServer = await this.options.fileServer();
    return new Promise<void>((resolve, reject) => {
      this.started = { resolve, reject };
      this.fill();
    });
  }

  keepAlive(on: boolean): void {
    if (this.held === on) return;
    this.held = on;
    for (const e of this.executors.values()) {
      if (on) e.worker.ref();
      else e.worker.unref();
    }
  }

  /** Starts threads until N are running or starting, at most a batch at a time. */
  private fill(): void {
    while (!this.stopping && !this.gaveUp && this.executors.size < this.options.threads && this.starting < this.options.startBatch) {
      this.spawn();
    }
  }

  private newWorker(executorId: string): Worker {
    return startExecutorWorker({
      executorId,
      executorMemoryMb: this.options.executorMemoryMb,
      cacheMemoryMb: this.options.cacheMemoryMb,
      scratchDir: this.options.scratch.executorDir(executorId),
      // Decided once by the driver, so that replacement threads behave like the first ones.
      ...(this.fileServer
        ? { files: { url: this.fileServer.url, secret: this.fileServer.secret, driverMachineId: this.fileServer.driverMachineId }, localFiles: false }
        : {}),
    });
  }

  private spawn(): void {
    const id = `thread-${this.nextId++}`;
    const worker = this.newWorker(id);
    if (!this.held) worker.unref();
    const endpoint = workerEndpoint(worker);
    const exec: ThreadExecutor = { id, worker, endpoint, ready: false, error: null, terminated: false };
    this.executors.set(id, exec);
    this.starting++;
    worker.on('error', (err) => {
      exec.error = err;
    });
    worker.on('exit', (code) => this.onExit(exec, code));
    let downstream: ((m: unknown) => void) | null = null;
    const queued: unknown[] = [];
    endpoint.onMessage((m) => {
      if (!exec.ready && (m as { t?: string }).t === 'ready') {
        this.onReady(exec, {
          send: (msg, transfer) => endpoint.send(msg, transfer),
          onMessage: (h) => {
            downstream = h;
            for (const q of queued.splice(0)) h(q);
          },
          onClose: (h) => endpoint.onClose(h),
          close: () => endpoint.close(),
        });
        return;
      }
      if ((m as { t?: string }).t === 'wantPeer') {
        this.answerWantPeer(exec, (m as { executorId: string }).executorId);
        return;
      }
      if (downstream) downstream(m);
      else queued.push(m);
    });
  }

  /** Every ready thread is connected when it starts; a peer asked for later is one that is gone. */
  private answerWantPeer(exec: ThreadExecutor, executorId: string): void {
    const other = this.executors.get(executorId);
    if (other?.ready) {
      const { port1, port2 } = new MessageChannel();
      exec.worker.postMessage({ t: 'peer', executorId, port: port1 }, [port1]);
      other.worker.postMessage({ t: 'peer', executorId: exec.id, port: port2 }, [port2]);
    } else {
      exec.worker.postMessage({ t: 'peerUnavailable', executorId, reason: `executor ${executorId} is gone` });
    }
  }

  /** The driver sees an endpoint whose messages start after 'ready'. */
  private onReady(exec: ThreadExecutor, driverSide: Endpoint): void {
    exec.ready = true;
    this.starting--;
    this.ready++;
    this.startFailures = 0;
    this.connectPeers(exec);
    this.listener?.executorAdded(
      { id: exec.id, host: 'localhost', cores: 1, kind: 'thread', capabilities: ['node', 'fs', 'wasm', 'trusted', 'disk'], memoryMb: this.options.executorMemoryMb },
      driverSide,
    );
    if (this.ready >= Math.min(this.options.threads, this.options.startBatch)) this.settleStart(null);
    this.fill();
  }

  private settleStart(err: Error | null): void {
    const started = this.started;
    if (!started) return;
    this.started = null;
    if (err) started.reject(err);
    else started.resolve();
  }

  /** Gives the new executor a channel to every ready executor, for shuffle block fetches. */
  private connectPeers(exec: ThreadExecutor): void {
    for (const other of this.executors.values()) {
      if (other === exec || !other.ready) continue;
      const { port1, port2 } = new MessageChannel();
      exec.worker.postMessage({ t: 'peer', executorId: other.id, port: port1 }, [port1]);
      other.worker.postMessage({ t: 'peer', executorId: exec.id, port: port2 }, [port2]);
    }
  }

  private onExit(exec: ThreadExecutor, code: number): void {
    this.executors.delete(exec.id);
    // A thread killed in the middle of a spill leaves its files: they go with it.
    this.options.scratch.removeExecutor(exec.id);
    if (exec.ready) this.ready--;
    else this.starting--;
    if (this.stopping) return;
    const reason = exec.error ? `worker thread crashed: ${exec.error.message}` : `worker thread exited with code ${code}`;
    if (exec.ready) {
      // A thread dies on its own only through what its task did (process.exit, out of memory).
      this.listener?.executorLost(exec.id, { reason, causedByApp: !exec.terminated });
    } else if (++this.startFailures >= MAX_START_FAILURES) {
      this.giveUp(exec.error ?? new Error(reason));
      return;
    }
    // Replace the lost thread so the application keeps its parallelism.
    this.fill();
  }

  private giveUp(cause: Error): void {
    this.gaveUp = true;
    if (this.ready > 0) {
      this.settleStart(null);
      return;
    }
    const err = new FlintError(
      'EXECUTOR_LOST',
      `worker threads die as they start (${MAX_START_FAILURES} in a row), so Flint has no executors: ${cause.message}`,
      { cause },
    );
    // Before start settled this fails Flint.start; after, the jobs that wait for executors.
    if (this.started) this.settleStart(err);
    else this.listener?.backendUnavailable(err);
  }

  async killExecutor(executorId: string): Promise<boolean> {
    const exec = this.executors.get(executorId);
    if (!exec) return false;
    exec.terminated = true;
    await exec.worker.terminate();
    return true;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.settleStart(new FlintError('CONTEXT_STOPPED', 'the Flint context was stopped while its executors started'));
    await Promise.all([...this.executors.values()].map((e) => e.worker.terminate()));
    this.executors.clear();
    this.options.scratch.removeAll();
    await this.fileServer?.close();
  }
}
