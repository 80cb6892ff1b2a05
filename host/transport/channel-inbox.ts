/**
 * The receiving half that browser-style channels (WebSocket, RTCDataChannel) share: binary messages
 * become frames, held until a frame handler is attached, and the end of the link is reported once.
 */

/** A message event's data as a frame; null for text, which is not part of the protocol. */
export function frameOf(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

export class ChannelInbox {
  private frameHandler: ((frame: Uint8Array) => void) | null = null;
  private readonly early: Uint8Array[] = [];
  private readonly closeHandlers: Array<(reason?: Error) => void> = [];
  ended = false;

  deliver(frame: Uint8Array): void {
    if (this.frameHandler) this.frameHandler(frame);
    else this.early.push(frame);
  }

  onFrame(handler: (frame: Uint8Array) => void): void {
    this.frameHandler = handler;
    for (const f of this.early.splice(0)) handler(f);
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
