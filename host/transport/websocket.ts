/**
 * A WebSocket as a byte channel for framed endpoints. Written against the WHATWG WebSocket shape, so
 * the same code adapts a browser's WebSocket and a Node `ws` socket (client or server side).
 */
import { framedEndpoint, type ByteChannel, type FramingOptions } from './framing.js';
import type { Endpoint } from './endpoint.js';
import { Inbox, frameOf } from './inbox.js';

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
  const inbox = new Inbox<Uint8Array>();
  const end = (reason?: Error) => inbox.end(reason);
  let closedByUs = false;
  ws.addEventListener('message', (event) => {
    const frame = frameOf(event.data);
    if (frame) {
      inbox.deliver(frame);
      return;
    }
    ws.close(CLOSE_POLICY, 'text frames are not accepted');
    end(new Error('the peer sent a text frame'));
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
      if (!inbox.ended && ws.readyState === OPEN) ws.send(frame);
    },
    onFrame: (handler) => inbox.onDelivery(handler),
    onClose: (handler) => inbox.onClose(handler),
    close(reason) {
      if (inbox.ended) return;
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
