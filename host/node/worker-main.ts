/** Entry of an executor worker thread: the environment-neutral Executor over the parent port. */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Executor } from '../exec/executor.js';
import { portEndpoint, type PortLike } from '../transport/message-port.js';
import type { Endpoint } from '../transport/endpoint.js';
import { nodeExecutorPlatform, workerExecutorPlatform, type DriverFiles } from './node-platform.js';

const port = parentPort!;
const data = workerData as { executorId: string; cacheMemoryMb?: number; files?: DriverFiles; localFiles?: boolean };

// Peer channels are a transport detail of threads: handled here, everything else goes to the executor.
let executorHandler: ((m: unknown) => void) | null = null;
const early: unknown[] = [];
let executor: Executor | null = null;
const pendingPeers: Array<{ executorId: string; port: MessagePort }> = [];

port.on('message', (m: { t?: string; executorId?: string; port?: MessagePort }) => {
  if (m && m.t === 'peer') {
    const peer = { executorId: m.executorId!, port: m.port! };
    if (executor) executor.addPeer(peer.executorId, portEndpoint(peer.port as unknown as PortLike));
    else pendingPeers.push(peer);
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

executor = new Executor(driver, {
  executorId: data.executorId,
  platform: data.files ? workerExecutorPlatform(data.files, data.localFiles) : nodeExecutorPlatform,
  memoryBudgetBytes: (data.cacheMemoryMb ?? 512) * 1024 * 1024,
});
for (const p of pendingPeers.splice(0)) executor.addPeer(p.executorId, portEndpoint(p.port as unknown as PortLike));
