/**
 * An executor running behind a message port: a Node worker thread (host/node/worker-main.ts) or a
 * browser Web Worker (browser/executor/worker.ts). Beside the executor's own protocol the port
 * carries thread-level messages: the parent hands over channels to peers (`peer`, or
 * `peerUnavailable`), the executor asks for one it lacks (`wantPeer`), and a host passes on several
 * of the executor's messages at once (`batch`, in order).
 */
import type { ChaosSpec } from './chaos.js';
import { Executor } from './executor.js';
import { warmUp } from './warm-up.js';
import type { ExecutorPlatform } from './platform.js';
import { portEndpoint, type PortLike } from '../transport/message-port.js';
import type { Endpoint } from '../transport/endpoint.js';

/** What an executor's host tells it at start. */
export interface ExecutorStartData {
  executorId: string;
  /** The executor's memory budget, shared by its running tasks and its cached blocks. */
  executorMemoryMb: number;
  /** The most cached blocks may hold in memory; the whole budget when absent. */
  cacheMemoryMb?: number;
  chaos?: ChaosSpec | null;
  fetchTimeoutMs?: number;
  maxDirectResultBytes?: number;
}

export type ThreadControl =
  | { t: 'peer'; executorId: string; port: unknown }
  | { t: 'peerUnavailable'; executorId: string; reason: string }
  | { t: 'wantPeer'; executorId: string }
  | { t: 'batch'; messages: unknown[] };

/** The executor's side of its port: Node's parentPort, or a Web Worker's global scope. */
export interface ParentPortLike {
  postMessage(message: unknown, transfer?: unknown[]): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

/**
 * Starts the executor. `early` holds messages that arrived before (a Web Worker's init message is
 * followed at once by the first tasks). `exit` ends the thread when the host says shutdown.
 */
export function runExecutorOnPort(parent: ParentPortLike, data: ExecutorStartData, platform: ExecutorPlatform, exit: () => void): Executor {
  let executorHandler: ((m: unknown) => void) | null = null;
  const early: unknown[] = [];
  const wanted = new Map<string, { resolve(e: Endpoint): void; reject(err: Error): void }>();
  let executor: Executor | null = null;
  const pendingPeers: Array<{ executorId: string; endpoint: Endpoint }> = [];

  const deliver = (m: unknown) => {
    if (executorHandler) executorHandler(m);
    else early.push(m);
  };
  parent.addEventListener('message', (event) => {
    const m = event.data as ThreadControl | { t?: undefined };
    if (m && m.t === 'peer') {
      const endpoint = portEndpoint(m.port as PortLike);
      if (executor) executor.addPeer(m.executorId, endpoint);
      else pendingPeers.push({ executorId: m.executorId, endpoint });
      wanted.get(m.executorId)?.resolve(endpoint);
      wanted.delete(m.executorId);
      return;
    }
    if (m && m.t === 'peerUnavailable') {
      wanted.get(m.executorId)?.reject(new Error(m.reason));
      wanted.delete(m.executorId);
      return;
    }
    if (m && m.t === 'batch') {
      for (const one of m.messages) deliver(one);
      return;
    }
    deliver(m);
  });

  const driver: Endpoint = {
    send: (message, transfer) => parent.postMessage(message, transfer as unknown[] | undefined),
    onMessage: (h) => {
      executorHandler = h;
      for (const m of early.splice(0)) h(m);
    },
    onClose: () => undefined,
    close: exit,
  };

  // Before saying it is ready: what the first task would otherwise compile (warm-up.ts).
  try {
    warmUp();
  } catch {
    // A warm-up that fails costs nothing but the time: the tasks meet the same code and report.
  }
  executor = new Executor(driver, {
    executorId: data.executorId,
    platform,
    memoryBytes: data.executorMemoryMb * 1024 * 1024,
    ...(data.cacheMemoryMb ? { cacheBytes: data.cacheMemoryMb * 1024 * 1024 } : {}),
    chaos: data.chaos ?? null,
    ...(data.fetchTimeoutMs ? { fetchTimeoutMs: data.fetchTimeoutMs } : {}),
    ...(data.maxDirectResultBytes ? { maxDirectResultBytes: data.maxDirectResultBytes } : {}),
    connectPeer: (executorId) =>
      new Promise<Endpoint>((resolve, reject) => {
        wanted.set(executorId, { resolve, reject });
        parent.postMessage({ t: 'wantPeer', executorId } satisfies ThreadControl);
      }),
  });
  for (const p of pendingPeers.splice(0)) executor.addPeer(p.executorId, p.endpoint);
  return executor;
}
