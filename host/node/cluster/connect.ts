/**
 * Client connections to a coordinator or a worker's data server, over `ws`, with the token in the
 * Authorization header. A refused token is reported as such (it is not worth retrying); other
 * failures are retried by the callers with jittered exponential backoff.
 */
import WebSocket from 'ws';
import { FlintError } from '../../errors.js';
import type { Endpoint } from '../../transport/endpoint.js';
import { keepAlive, type KeepAlive } from './keep-alive.js';
import { nodeWebSocketEndpoint } from './ws-endpoint.js';

export interface ConnectOptions {
  token: string;
  /** What is at the other end, for messages. */
  label: string;
  timeoutMs?: number;
  maxMessageBytes?: number;
  /** Local address to connect from (the interface other peers should reach us on). */
  localAddress?: string;
  /** Pings the other end, and gives the link up when it stops answering. */
  keepAlive?: KeepAlive;
}

export interface Connection {
  endpoint: Endpoint;
  /** The local address the connection left from: how the other side sees us. */
  localAddress: string;
  socket: WebSocket;
}

/** `flint://host:port` → `ws://host:port/ws` (`flints://` → `wss://`). */
export function coordinatorWebSocketUrl(master: string): string {
  const m = /^flint(s?):\/\/([^/]+)\/?$/.exec(master);
  if (!m) throw new FlintError('INVALID_ARGUMENT', `"${master}" is not a coordinator URL: use flint://HOST:PORT`);
  return `ws${m[1]}://${m[2]}/ws`;
}

export function connect(url: string, options: ConnectOptions): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, {
      headers: { authorization: `Bearer ${options.token}` },
      handshakeTimeout: options.timeoutMs ?? 10_000,
      maxPayload: (options.maxMessageBytes ?? 1024 * 1024 * 1024) + 1024,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    let settled = false;
    socket.once('unexpected-response', (_req, res) => {
      settled = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body = (body + c).slice(0, 500)));
      res.on('end', () => {
        socket.terminate();
        if (res.statusCode === 401) {
          reject(new FlintError('UNAUTHORIZED', `${options.label} refused the token (wrong or missing): use the token that flint serve printed, with --token TOKEN or FLINT_TOKEN`));
        } else {
          reject(new FlintError('IO_ERROR', `${options.label} answered HTTP ${res.statusCode}: ${body.trim()}`));
        }
      });
    });
    socket.once('open', () => {
      settled = true;
      if (options.keepAlive) keepAlive(socket, options.keepAlive);
      const raw = (socket as unknown as { _socket?: { localAddress?: string } })._socket;
      resolve({
        endpoint: nodeWebSocketEndpoint(socket, { label: options.label, maxMessageBytes: options.maxMessageBytes }),
        localAddress: raw?.localAddress ?? '127.0.0.1',
        socket,
      });
    });
    socket.once('error', (err) => {
      if (settled) return;
      settled = true;
      reject(new FlintError('IO_ERROR', `cannot reach ${options.label} at ${url}: ${err.message}`, { cause: err }));
    });
  });
}

/** Full-jitter exponential backoff: attempt 0 waits up to `base`, doubling to at most `max`. */
export function backoffDelay(attempt: number, baseMs = 250, maxMs = 10_000, random = Math.random): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** attempt));
}
