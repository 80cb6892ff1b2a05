/**
 * The receiving half every channel shares (a WebSocket, an RTCDataChannel, the in-thread loopback):
 * what arrives before a handler is attached is held for it, and the end of the link is reported
 * once, to handlers attached before or after it.
 */

/** A message event's data as a frame; null for text, which is not part of the protocol. */
export function frameOf(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

export class Inbox<T> {
  private handler: ((item: T) => void) | null = null;
  private readonly early: T[] = [];
  private readonly closeHandlers: Array<(reason?: Error) => void> = [];
  ended = false;

  deliver(item: T): void {
    if (this.handler) this.handler(item);
    else this.early.push(item);
  }

  onDelivery(handler: (item: T) => void): void {
    this.handler = handler;
    for (const item of this.early.splice(0)) handler(item);
  }

  onClose(handler: (reason?: Error) => void): void {
    if (this.ended) queueMicrotask(() => handler());
    else this.closeHandlers.push(handler);
  }

  /** The link ended: with an Error unless it was closed cleanly. Only the first call counts. */
  end(reason?: Error): void {
    if (this.ended) return;
    this.ended = true;
    for (const h of this.closeHandlers.splice(0)) h(reason);
  }
}
