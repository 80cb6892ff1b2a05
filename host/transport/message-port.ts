import type { Endpoint } from './endpoint.js';

/** Anything shaped like a MessagePort: Node's MessagePort and parentPort, a browser MessagePort,
 *  a Web Worker, or the global scope inside one. */
export interface PortLike {
  postMessage(message: unknown, transfer?: unknown[]): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  close?(): void;
  start?(): void;
}

/**
 * Said by a port that closes: Node's MessagePort tells the other side with a 'close' event, a
 * browser's does not, so a closing endpoint says so in band (after everything it sent).
 */
const CLOSED = '\u0000flint:port-closed';

export function portEndpoint(port: PortLike): Endpoint {
  const closeHandlers: Array<(reason?: Error) => void> = [];
  let closed = false;
  const fireClose = (reason?: Error) => {
    if (closed) return;
    closed = true;
    for (const h of closeHandlers.splice(0)) h(reason);
  };
  // Node's MessagePort reports the other side closing with a 'close' event; browsers do not.
  (port as unknown as { addEventListener(t: string, l: () => void): void }).addEventListener('close', () => fireClose());
  return {
    send(message, transfer) {
      if (closed) return;
      port.postMessage(message, transfer as unknown[] | undefined);
    },
    onMessage(handler) {
      port.addEventListener('message', (event) => {
        if (event.data === CLOSED) fireClose();
        else if (!closed) handler(event.data);
      });
      port.start?.();
    },
    onClose(handler) {
      if (closed) queueMicrotask(() => handler());
      else closeHandlers.push(handler);
    },
    close() {
      if (!closed) {
        try {
          port.postMessage(CLOSED);
        } catch {
          // Already closed on the other side: nothing to tell.
        }
      }
      port.close?.();
      fireClose();
    },
  };
}
