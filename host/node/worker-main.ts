/** Entry of an executor worker thread: the environment-neutral Executor over the parent port. */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { ChaosSpec } from '../exec/chaos.js';
import { Executor } from '../exec/executor.js';
import { portEndpoint, type PortLike } from '../transport/message-port.js';
import type { Endpoint } from '../transport/endpoint.js';
import { nodeExecutorPlatform, workerExecutorPlatform, type DriverFiles } from './node-platform.js';
import { nodeScratchDisk } from './scratch-disk.js';

/** What the thread's parent (a local backend or a `flint worker`) tells it at start. */
export interface ExecutorThreadData {
  executorId: string;
  /** The executor's memory budget (its heap limit is set from it by the parent). */
  executorMemoryMb: number;
  cacheMemoryMb?: number;
  /** Its own scratch directory, which the parent removes when the thread ends. */
  scratchDir?: string;
  chaos?: ChaosSpec | null;
  fetchTimeoutMs?: number;
  maxDirectResultBytes?: number;
  /** The driver's file server, for executors that must not (or cannot) read its files directly. */
  files?: DriverFiles;
  /** Whether files that are the same here as on the driver may be read and written directly. */
  localFiles?: boolean;
}

/**
 * Thread-level messages beside the executor's own protocol: the parent hands over channels to
 * peers (`peer`, or `peerUnavailable`), and the executor asks for one it lacks (`wantPeer`).
 */
export type ThreadControl =
  | { t: 'peer'; executorId: string; port: MessagePort }
  | { t: 'peerUnavailable'; executorId: string; reason: string }
  | { t: 'wantPeer'; executorId: string };

const port = parentPort!;
const data = workerData as ExecutorThreadData;

let executorHandler: ((m: unknown) => void) | null = null;
const early: unknown[] = [];
let executor: Executor | null = null;
const pendingPeers: Array<{ executorId: string; port: MessagePort }> = [];
const wanted = new Map<string, { resolve(e: Endpoint): void; reject(err: Error): void }>();

port.on('message', (m: ThreadControl | { t?: undefined }) => {
  if (m && m.t === 'peer') {
    const endpoint = portEndpoint(m.port as unknown as PortLike);
    if (executor) executor.addPeer(m.executorId, endpoint);
    else pendingPeers.push({ executorId: m.executorId, port: m.port });
    wanted.get(m.executorId)?.resolve(endpoint);
    wanted.delete(m.executorId);
    return;
  }
  if (m && m.t === 'peerUnavailable') {
    wanted.get(m.executorId)?.reject(new Error(m.reason));
    wanted.delete(m.executorId);
    return;
  }
  if (executorHandler) executorHandler(m);
  else early.push(m);
});

const driver: Endpoint = {
  send: (message, transfer) => port.postMessage(message, transfer as never),
  onMessage: (h) => {
    executorHandler = h;
    for (const m of early.splice(0)) h(m);
  },
  onClose: () => undefined,
  close: () => process.exit(0),
};

const platform = data.files ? workerExecutorPlatform(data.files, data.localFiles) : nodeExecutorPlatform;
executor = new Executor(driver, {
  executorId: data.executorId,
  platform: data.scratchDir ? { ...platform, scratch: nodeScratchDisk(data.scratchDir) } : platform,
  memoryBytes: data.executorMemoryMb * 1024 * 1024,
  ...(data.cacheMemoryMb ? { cacheBytes: data.cacheMemoryMb * 1024 * 1024 } : {}),
  chaos: data.chaos ?? null,
  ...(data.fetchTimeoutMs ? { fetchTimeoutMs: data.fetchTimeoutMs } : {}),
  ...(data.maxDirectResultBytes ? { maxDirectResultBytes: data.maxDirectResultBytes } : {}),
  connectPeer: (executorId) =>
    new Promise<Endpoint>((resolve, reject) => {
      wanted.set(executorId, { resolve, reject });
      port.postMessage({ t: 'wantPeer', executorId } satisfies ThreadControl);
    }),
});
for (const p of pendingPeers.splice(0)) executor.addPeer(p.executorId, portEndpoint(p.port as unknown as PortLike));
