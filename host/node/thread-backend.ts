/**
 * Master 'local[N]': N executors, each in its own worker thread. Executors are connected pairwise
 * by MessageChannels so shuffle blocks move thread to thread as transferred ArrayBuffers, never
 * through the driver. A thread that dies (process.exit in a closure, out of memory, terminate()) is
 * reported lost and replaced by a fresh one.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { BackendListener, ExecutorBackend } from '../cluster/backend.js';
import type { Endpoint } from '../transport/endpoint.js';
import type { FileServer } from './file-server.js';
import { workerEndpoint } from './worker-endpoint.js';

export interface ThreadBackendOptions {
  threads: number;
  executorMemoryMb?: number;
  cacheMemoryMb?: number;
  useWasm: boolean;
  /**
   * Starts the driver's file server for threads that must not touch its files (FLINT_LOCAL_FILES=0):
   * they then read and write exactly as executors on another machine do.
   */
  fileServer?: () => Promise<FileServer>;
}

interface ThreadExecutor {
  id: string;
  worker: Worker;
  endpoint: Endpoint;
  ready: boolean;
  error: Error | null;
  /** Terminated on purpose (killExecutor): its loss is not the task's doing. */
  terminated: boolean;
}

/** The bundled worker entry sits beside the bundled library; tests running from source use dist/. */
function workerScript(): URL {
  const beside = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  return new URL('../../dist/worker.js', import.meta.url);
}

export class ThreadBackend implements ExecutorBackend {
  private readonly executors = new Map<string, ThreadExecutor>();
  private listener: BackendListener | null = null;
  private nextId = 0;
  private stopping = false;
  private fileServer: FileServer | null = null;

  constructor(private readonly options: ThreadBackendOptions) {}

  get defaultParallelism(): number {
    return this.options.threads;
  }

  async start(listener: BackendListener): Promise<void> {
    this.listener = listener;
    if (this.options.fileServer) this.fileServer = await this.options.fileServer();
    await Promise.all(Array.from({ length: this.options.threads }, () => this.spawn()));
  }

  private spawn(): Promise<void> {
    const id = `thread-${this.nextId++}`;
    const worker = new Worker(workerScript(), {
      workerData: {
        executorId: id,
        cacheMemoryMb: this.options.cacheMemoryMb,
        useWasm: this.options.useWasm,
        // Decided once by the driver, so that replacement threads behave like the first ones.
        ...(this.fileServer
          ? { files: { url: this.fileServer.url, secret: this.fileServer.secret, driverMachineId: this.fileServer.driverMachineId }, localFiles: false }
          : {}),
      },
      resourceLimits: {
        // Pipelines allocate a short-lived object per record; a larger young generation means
        // fewer scavenges, which is what keeps two busy threads from slowing each other down.
        maxYoungGenerationSizeMb: 64,
        ...(this.options.executorMemoryMb ? { maxOldGenerationSizeMb: this.options.executorMemoryMb } : {}),
      },
      stdout: false,
      stderr: false,
    });
    const endpoint = workerEndpoint(worker);
    const exec: ThreadExecutor = { id, worker, endpoint, ready: false, error: null, terminated: false };
    this.executors.set(id, exec);
    worker.on('error', (err) => {
      exec.error = err;
    });
    worker.on('exit', (code) => this.onExit(exec, code));
    return new Promise<void>((resolve) => {
      let downstream: ((m: unknown) => void) | null = null;
      const queued: unknown[] = [];
      endpoint.onMessage((m) => {
        if (!exec.ready && (m as { t?: string }).t === 'ready') {
          exec.ready = true;
          this.connectPeers(exec);
          // The driver sees an endpoint whose messages start after 'ready'.
          this.listener?.executorAdded(
            { id, host: 'localhost', cores: 1, kind: 'thread', capabilities: ['node', 'fs', 'wasm', 'trusted'] },
            {
              send: (msg, transfer) => endpoint.send(msg, transfer),
              onMessage: (h) => {
                downstream = h;
                for (const q of queued.splice(0)) h(q);
              },
              onClose: (h) => endpoint.onClose(h),
              close: () => endpoint.close(),
            },
          );
          resolve();
          return;
        }
        if (downstream) downstream(m);
        else queued.push(m);
      });
      worker.once('exit', () => resolve());
    });
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
    if (this.stopping) return;
    const reason = exec.error
      ? `worker thread crashed: ${exec.error.message}`
      : `worker thread exited with code ${code}`;
    // A thread dies on its own only through what its task did (process.exit, out of memory).
    this.listener?.executorLost(exec.id, { reason, causedByApp: !exec.terminated });
    // Replace the lost thread so the application keeps its parallelism.
    void this.spawn();
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
    await Promise.all([...this.executors.values()].map((e) => e.worker.terminate()));
    this.executors.clear();
    await this.fileServer?.close();
  }
}
