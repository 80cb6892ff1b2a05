/**
 * WebSocket ping/pong for links whose other end can vanish without a word: a machine that is
 * switched off or cut off by the network sends no FIN and no RST, and TCP alone notices only after
 * minutes of retransmissions. A link that has shown no sign of life (a pong or a message) for
 * `timeoutMs` is terminated, so that its owner's close handlers run and the traffic moves elsewhere.
 */
import type { WebSocket } from 'ws';

export interface KeepAlive {
  /** Ping every this many milliseconds. */
  intervalMs: number;
  /** Terminate after this long without a pong or a message. */
  timeoutMs: number;
}

/** Coordinator connections: their owners also watch application-level heartbeats. */
export const COORDINATOR_KEEPALIVE: KeepAlive = { intervalMs: 15_000, timeoutMs: 30_000 };

/**
 * Data links between workers: a dead one holds fetches that reducers wait for, so it is found within
 * a few seconds and its unanswered fetches go through the coordinator's relay instead.
 */
export const DATA_LINK_KEEPALIVE: KeepAlive = { intervalMs: 1000, timeoutMs: 3000 };

export function keepAlive(ws: WebSocket, { intervalMs, timeoutMs }: KeepAlive): void {
  let lastSign = Date.now();
  const alive = () => (lastSign = Date.now());
  ws.on('pong', alive);
  ws.on('message', alive);
  const timer = setInterval(() => {
    if (Date.now() - lastSign > timeoutMs) {
      // Said as an error so that whoever reports the close can say why (websocket.ts keeps it).
      if (ws.listenerCount('error') > 0) ws.emit('error', new Error(`no sign of life for ${timeoutMs} ms`));
      ws.terminate();
      return;
    }
    if (ws.readyState === ws.OPEN) ws.ping();
  }, intervalMs);
  timer.unref();
  ws.on('close', () => clearInterval(timer));
}
