/**
 * `flint serve`: the coordinator on an HTTP server. WebSocket upgrades at /ws carry drivers, workers
 * and volunteer tabs; /volunteer is the volunteer page; everything else is the cluster's dashboard
 * and REST API (host/node/ui). Every request and every upgrade must present the cluster token
 * (constant-time check); the dashboard takes it once from its URL and keeps it in an HttpOnly cookie.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { Coordinator } from '../../cluster/coordinator.js';
import { FlintError } from '../../errors.js';
import { systemClock } from '../../schedule/clock.js';
import { ClusterStatus } from '../../ui/cluster-status.js';
import { openEventLogDir } from '../ui/event-log.js';
import { createUiHandler, send } from '../ui/ui-handler.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../transport/framing.js';
import { COORDINATOR_KEEPALIVE, keepAlive } from './keep-alive.js';
import { startHealthMonitor } from './process-health.js';
import { presentedToken, tokenCookieName, tokensMatch } from './token.js';
import { serveVolunteer } from './volunteer-page.js';
import { nodeWebSocketEndpoint } from './ws-endpoint.js';

export interface CoordinatorServerOptions {
  host: string;
  port: number;
  token: string;
  heartbeatTimeoutMs?: number;
  /** Writes each application's events here (Spark's listener format), for `flint history`. */
  eventLogDir?: string;
  /** Largest message accepted on a connection; a larger one closes it (default 1 GiB). */
  maxMessageBytes?: number;
  log?: (message: string) => void;
}

export interface RunningCoordinator {
  coordinator: Coordinator;
  status: ClusterStatus;
  /** flint://host:port */
  url: string;
  httpUrl: string;
  port: number;
  close(reason?: string): Promise<void>;
}

export async function startCoordinator(options: CoordinatorServerOptions): Promise<RunningCoordinator> {
  const log = options.log ?? ((m: string) => process.stderr.write(`flint serve: ${m}\n`));
  let master = '';
  const eventLogDir = options.eventLogDir;
  const monitor = startHealthMonitor();
  // The master URL is known once the port is; nothing can connect before.
  const status = new ClusterStatus({
    master: '',
    health: () => monitor.health(),
    openLog: eventLogDir ? () => openEventLogDir(eventLogDir, (err) => log(`event log: ${err.message}`)) : undefined,
  });
  const coordinator = new Coordinator({
    clock: systemClock,
    heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 3000,
    helloTimeoutMs: 10_000,
    log,
    applications: status,
    clusterChanged: () => status.hub.cluster(),
  });
  status.attach(coordinator);
  const sockets = new Set<Socket>();
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  // A frame is at most one message and its header: larger ones are refused before they are buffered.
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes + 1024 });
  let dashboard: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  const server: Server = createServer((req, res) => handleHttp(req, res, dashboard!));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const peer = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== '/ws') {
      refuseUpgrade(socket, 404, `no WebSocket endpoint at ${path}; connect to /ws`);
      return;
    }
    if (!tokensMatch(presentedToken(req, tokenCookieName(port)), options.token)) {
      log(`refused ${peer}: wrong or missing token`);
      refuseUpgrade(socket, 401, 'wrong or missing token: the coordinator printed its token when it started (flint serve), or set it with --token / FLINT_TOKEN');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      // Half-open connections (a peer whose machine vanished) are found by WebSocket pings.
      keepAlive(ws, COORDINATOR_KEEPALIVE);
      coordinator.accept(nodeWebSocketEndpoint(ws, { label: peer, maxMessageBytes }), peer);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      monitor.stop();
      coordinator.stop();
      if (err.code === 'EADDRINUSE') {
        reject(new FlintError('INVALID_ARGUMENT', `port ${options.port} on ${options.host} is already in use (another flint serve?); choose another with --port`));
      } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'EACCES') {
        reject(new FlintError('INVALID_ARGUMENT', `cannot listen on ${options.host}:${options.port}: ${err.message}`));
      } else reject(err);
    });
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  master = `flint://${shownHost}:${port}`;
  status.setMaster(master);
  dashboard = createUiHandler({ source: status, hub: status.hub, token: options.token, cookieName: tokenCookieName(port), log });
  let closing: Promise<void> | null = null;
  return {
    coordinator,
    status,
    url: master,
    httpUrl: `http://${shownHost}:${port}`,
    port,
    close(reason) {
      closing ??= (async () => {
        coordinator.stop(reason);
        monitor.stop();
        await status.close();
        // Give the goodbye frames a moment to leave before the sockets go.
        await new Promise((r) => setTimeout(r, 50));
        for (const ws of wss.clients) ws.terminate();
        await new Promise<void>((r) => server.close(() => r()));
        for (const s of sockets) s.destroy();
      })();
      return closing;
    },
  };
}

function refuseUpgrade(socket: Socket, status: number, message: string): void {
  const reason = status === 401 ? 'Unauthorized' : 'Not Found';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(message)}\r\nConnection: close\r\n\r\n${message}`);
}

function handleHttp(req: IncomingMessage, res: ServerResponse, dashboard: (req: IncomingMessage, res: ServerResponse) => void): void {
  if (serveVolunteer(req, res)) return;
  // Everything else, the token check included, is the dashboard's.
  dashboard(req, res);
}
