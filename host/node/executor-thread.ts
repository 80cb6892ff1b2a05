/**
 * One executor in its own worker thread (the entry is host/node/worker-main.ts): started, told about
 * its peers, stopped, and watched for its death. `flint worker` runs one per lent slot.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type MessagePort } from 'node:worker_threads';
import type { ThreadControl } from '../exec/executor-port.js';
import type { ExecutorThreadData } from './worker-main.js';
import { threadHeapLimitMb } from './memory-defaults.js';
import { withoutRefusedFlags, workerExecArgv } from './worker-exec-argv.js';

/** The bundled worker entry sits beside the bundled library; tests running from source use dist/. */
export function workerScript(): URL {
  const beside = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  return new URL('../../dist/worker.js', import.meta.url);
}

/** Options of this process that worker threads can run with (see worker-exec-argv.ts). */
let execArgv = workerExecArgv(process.execArgv);

/** A worker thread running one executor, its heap limit set from its budget (memory-defaults.ts). */
export function startExecutorWorker(data: ExecutorThreadData): Worker {
  const options = {
    workerData: data,
    resourceLimits: {
      // Pipelines allocate a short-lived object per record; a larger young generation means
      // fewer scavenges, which is what keeps two busy threads from slowing each other down.
      maxYoungGenerationSizeMb: 64,
      maxOldGenerationSizeMb: threadHeapLimitMb(data.executorMemoryMb),
    },
    stdout: false,
    stderr: false,
  };
  for (;;) {
    try {
      return new Worker(workerScript(), { ...options, ...(execArgv ? { execArgv } : {}) });
    } catch (err) {
      const fewer = execArgv && withoutRefusedFlags(execArgv, err);
      if (!fewer || fewer.length === execArgv!.length) throw err;
      execArgv = fewer;
    }
  }
}

export interface ThreadExit {
  code: number;
  error: Error | null;
  /** Stopped on purpose (terminate()); otherwise its own code ended it. */
  terminated: boolean;
  /** Whether it had said it was ready. */
  wasReady: boolean;
}

export class ExecutorThread {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  private isReady = false;
  private terminated = false;
  private error: Error | null = null;
  private handler: ((m: unknown) => void) | null = null;
  private readonly early: unknown[] = [];
  private wantPeer: ((executorId: string) => void) | null = null;
  private outbox: unknown[] = [];
  private outboxTransfer: unknown[] = [];

  constructor(
    readonly id: string,
    data: Omit<ExecutorThreadData, 'executorId'>,
  ) {
    this.worker = startExecutorWorker({ ...data, executorId: id });
    this.worker.on('error', (err) => (this.error = err));
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (m: { t?: string; executorId?: string }) => {
        if (!this.isReady && m?.t === 'ready') {
          this.isReady = true;
          resolve();
          return;
        }
        if (m?.t === 'wantPeer') {
          this.wantPeer?.((m as Extract<ThreadControl, { t: 'wantPeer' }>).executorId);
          return;
        }
        if (this.handler) this.handler(m);
        else this.early.push(m);
      });
      this.worker.once('exit', (code) => {
        if (!this.isReady) reject(this.error ?? new Error(`executor thread exited with code ${code} before it was ready`));
      });
    });
    this.ready.catch(() => undefined);
  }

  /** Messages of the executor protocol (ExecutorToDriver) from the thread. */
  onMessage(handler: (m: unknown) => void): void {
    this.handler = handler;
    for (const m of this.early.splice(0)) handler(m);
  }

  /** The executor asks for a channel to a peer it has none to. */
  onWantPeer(handler: (executorId: string) => void): void {
    this.wantPeer = handler;
  }

  onExit(handler: (exit: ThreadExit) => void): void {
    this.worker.once('exit', (code) => handler({ code, error: this.error, terminated: this.terminated, wasReady: this.isReady }));
  }

  /**
   * A message of the executor protocol to the thread. Those sent in one tick cross in one
   * postMessage: a frame from the coordinator often carries dozens of tasks for one executor, and
   * each postMessage costs a serialization and a wake-up of the thread.
   */
  send(message: unknown, transfer?: readonly unknown[]): void {
    this.outbox.push(message);
    if (transfer) this.outboxTransfer.push(...transfer);
    if (this.outbox.length === 1) queueMicrotask(() => this.flush());
  }

  private flush(): void {
    const messages = this.outbox;
    const transfer = this.outboxTransfer;
    this.outbox = [];
    this.outboxTransfer = [];
    if (messages.length === 1) this.worker.postMessage(messages[0], transfer as never);
    else this.worker.postMessage({ t: 'batch', messages } satisfies ThreadControl, transfer as never);
  }

  givePeer(executorId: string, port: MessagePort): void {
    this.worker.postMessage({ t: 'peer', executorId, port } satisfies ThreadControl, [port]);
  }

  refusePeer(executorId: string, reason: string): void {
    this.worker.postMessage({ t: 'peerUnavailable', executorId, reason } satisfies ThreadControl);
  }

  async terminate(): Promise<void> {
    this.terminated = true;
    await this.worker.terminate();
  }
}
