/**
 * A `ws` socket as a framed endpoint, the way every cluster connection of a Node process uses it:
 * what is sent while one turn of the event loop is handled leaves in one frame (see
 * FramingOptions.schedule), so a worker relaying a burst of its threads' results, or a coordinator
 * relaying a burst of tasks, makes one write instead of one per message.
 */
import type { WebSocket } from 'ws';
import type { Endpoint } from '../../transport/endpoint.js';
import type { FramingOptions } from '../../transport/framing.js';
import { webSocketEndpoint, type WebSocketLike } from '../../transport/websocket.js';

export function nodeWebSocketEndpoint(ws: WebSocket, options: Omit<FramingOptions, 'schedule'> = {}): Endpoint {
  return webSocketEndpoint(ws as unknown as WebSocketLike, { ...options, schedule: setImmediate });
}
