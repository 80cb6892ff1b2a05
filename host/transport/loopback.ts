import type { Endpoint } from './endpoint.js';
import { Inbox } from './inbox.js';

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
  private readonly inbox = new Inbox<unknown>();

  send(message: unknown): void {
    if (this.inbox.ended) return;
    const peer = this.peer;
    queueMicrotask(() => peer.deliver(message));
  }

  private deliver(message: unknown): void {
    if (!this.inbox.ended) this.inbox.deliver(message);
  }

  onMessage(handler: (message: unknown) => void): void {
    this.inbox.onDelivery(handler);
  }

  onClose(handler: (reason?: Error) => void): void {
    this.inbox.onClose(handler);
  }

  close(): void {
    if (this.inbox.ended) return;
    this.inbox.end();
    this.peer.close();
  }
}
