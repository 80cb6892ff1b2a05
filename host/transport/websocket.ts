/**
 * A WebSocket as a byte channel for framed endpoints. Written against the WHATWG WebSocket shape, so
 * the same code adapts a browser's WebSocket and a Node `ws` socket (client or server side).
 */
import { framedEndpoint, type ByteChannel, type FramingOptions } from './framing.js';
import type { Endpoint } from './endpoint.js';

/** The part of the WHATWG WebSocket this adapter uses. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
}

const OPEN = 1;
/** Close codes: 1000 normal, 1008 policy violation (a peer we refuse). */
export const CLOSE_NORMAL = 1000;
export const CLOSE_POLICY = 1008;

export function webSocketChannel(ws: WebSocketLike): ByteChannel {
  ws.binaryType = 'arraybuffer';
  let frameHandler: ((frame: Uint8Array) => void) | null = null;
  const early: Uint8Array[] = [];
  const closeHandlers: Array<(reason?: Error) => void> = [];
  let ended = false;
  let closedByUs = false;
  const end = (reason?: Error) => {
    if (ended) return;
    ended = true;
    for (const h of closeHandlers.splice(0)) h(reason);
  };
  ws.addEventListener('message', (event) => {
    const data = event.data;
    let frame: Uint8Array;
    if (data instanceof ArrayBuffer) frame = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) frame = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else {
      // Text frames are not part of the protocol.
      ws.close(CLOSE_POLICY, 'text frames are not accepted');
      end(new Error('the peer sent a text frame'));
      return;
    }
    if (frameHandler) frameHandler(frame);
    else early.push(frame);
  });
  // What went wrong locally (a frame over the size limit, a keepalive that gave up) is only said in
  // an error event; the close event that follows has no reason of its own.
  let lastError = '';
  ws.addEventListener('close', (event) => {
    const clean = closedByUs || event.code === CLOSE_NORMAL;
    const why = event.reason || lastError;
    end(clean ? undefined : new Error(`connection closed (${event.code}${why ? `: ${why}` : ''})`));
  });
  ws.addEventListener('error', (event) => {
    const message = (event as { message?: unknown }).message;
    if (typeof message === 'string') lastError = message;
  });
  return {
    send(frame) {
      if (!ended && ws.readyState === OPEN) ws.send(frame);
    },
    onFrame(handler) {
      frameHandler = handler;
      for (const f of early.splice(0)) handler(f);
    },
    onClose(handler) {
      if (ended) queueMicrotask(() => handler());
      else closeHandlers.push(handler);
    },
    close(reason) {
      if (ended) return;
      closedByUs = true;
      // WebSocket close reasons are limited to 123 bytes.
      const text = reason ? new TextEncoder().encode(reason).byteLength > 123 ? reason.slice(0, 60) : reason : undefined;
      ws.close(reason ? CLOSE_POLICY : CLOSE_NORMAL, text);
      end();
    },
    bufferedAmount: () => ws.bufferedAmount,
  };
}

/** A framed endpoint over a WebSocket. */
export function webSocketEndpoint(ws: WebSocketLike, options: FramingOptions = {}): Endpoint {
  return framedEndpoint(webSocketChannel(ws), options);
}
