/**
 * A `ws` socket as a framed endpoint, the way every cluster connection of a Node process uses it:
 * - what is sent while one turn of the event loop is handled leaves in one frame (see
 *   FramingOptions.schedule), so a worker relaying a burst of its threads' results, or a
 *   coordinator relaying a burst of tasks, makes one write instead of one per message;
 * - a WebSocket frame may be as large as the largest message, so a shuffle block is never cut into
 *   chunks, which the other side would have to copy once more to put together again.
 */
import type { WebSocket } from 'ws';
import type { Endpoint } from '../../transport/endpoint.js';
import { DEFAULT_MAX_MESSAGE_BYTES, type FramingOptions } from '../../transport/framing.js';
import { webSocketEndpoint, type WebSocketLike } from '../../transport/websocket.js';

export function nodeWebSocketEndpoint(ws: WebSocket, options: Omit<FramingOptions, 'schedule' | 'frameBytes'> = {}): Endpoint {
  return webSocketEndpoint(ws as unknown as WebSocketLike, {
    ...options,
    schedule: setImmediate,
    frameBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
  });
}
