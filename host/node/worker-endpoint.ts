/** A Node worker thread as an Endpoint, seen from the driver's side. */
import type { Worker } from 'node:worker_threads';
import type { Endpoint } from '../transport/endpoint.js';

export function workerEndpoint(worker: Worker): Endpoint {
  const closeHandlers: Array<(reason?: Error) => void> = [];
  let closed = false;
  let handler: ((m: unknown) => void) | null = null;
  const pending: unknown[] = [];
  worker.on('message', (m) => {
    if (handler) handler(m);
    else pending.push(m);
  });
  worker.on('exit', () => {
    if (closed) return;
    closed = true;
    for (const h of closeHandlers) h();
  });
  return {
    send(message, transfer) {
      if (!closed) worker.postMessage(message, transfer as never);
    },
    onMessage(h) {
      handler = h;
      for (const m of pending.splice(0)) h(m);
    },
    onClose(h) {
      closeHandlers.push(h);
    },
    close() {
      void worker.terminate();
    },
  };
}
