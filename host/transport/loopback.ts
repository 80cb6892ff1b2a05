import type { Endpoint } from './endpoint.js';

/**
 * Two connected endpoints in one thread, for master 'local' where the executor runs beside the
 * driver. Delivery is asynchronous like a real channel so both sides keep the same re-entrancy
 * guarantees; messages are not cloned (nothing crosses a thread).
 */
export function loopbackPair(): [Endpoint, Endpoint] {
  const a = new LoopbackEndpoint();
  const b = new LoopbackEndpoint();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

class LoopbackEndpoint implements Endpoint {
  peer!: LoopbackEndpoint;
  private handler: ((m: unknown) => void) | null = null;
  private readonly pending: unknown[] = [];
  private readonly closeHandlers: Array<(reason?: Error) => void> = [];
  private closed = false;

  send(message: unknown): void {
    if (this.closed) return;
    const peer = this.peer;
    queueMicrotask(() => peer.deliver(message));
  }

  private deliver(message: unknown): void {
    if (this.closed) return;
    if (this.handler) this.handler(message);
    else this.pending.push(message);
  }

  onMessage(handler: (message: unknown) => void): void {
    this.handler = handler;
    for (const m of this.pending.splice(0)) handler(m);
  }

  onClose(handler: (reason?: Error) => void): void {
    if (this.closed) queueMicrotask(() => handler());
    else this.closeHandlers.push(handler);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.closeHandlers.splice(0)) h();
    this.peer.close();
  }
}
