/**
 * `flint serve`: the coordinator on an HTTP server. WebSocket upgrades at /ws carry drivers, workers
 * and volunteer tabs; REST under /api/v1 reports applications and executors; / and /volunteer are
 * the pages. Every request and every upgrade must present the cluster token (constant-time check);
 * the dashboard takes it once from its URL and keeps it in an HttpOnly cookie.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { Coordinator } from '../../cluster/coordinator.js';
import { FlintError } from '../../errors.js';
import { systemClock } from '../../schedule/clock.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../transport/framing.js';
import { COORDINATOR_KEEPALIVE, keepAlive } from './keep-alive.js';
import { TOKEN_COOKIE, presentedToken, tokensMatch } from './token.js';
import { nodeWebSocketEndpoint } from './ws-endpoint.js';

export interface CoordinatorServerOptions {
  host: string;
  port: number;
  token: string;
  heartbeatTimeoutMs?: number;
  /** Largest message accepted on a connection; a larger one closes it (default 1 GiB). */
  maxMessageBytes?: number;
  log?: (message: string) => void;
}

export interface RunningCoordinator {
  coordinator: Coordinator;
  /** flint://host:port */
  url: string;
  httpUrl: string;
  port: number;
  close(reason?: string): Promise<void>;
}

export async function startCoordinator(options: CoordinatorServerOptions): Promise<RunningCoordinator> {
  const log = options.log ?? ((m: string) => process.stderr.write(`flint serve: ${m}\n`));
  const coordinator = new Coordinator({ clock: systemClock, heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 3000, helloTimeoutMs: 10_000, log });
  const sockets = new Set<Socket>();
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  // A frame is at most one message and its header: larger ones are refused before they are buffered.
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes + 1024 });
  const server: Server = createServer((req, res) => handleHttp(req, res, options.token, coordinator, log));
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
    if (!tokensMatch(presentedToken(req), options.token)) {
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
  let closing: Promise<void> | null = null;
  return {
    coordinator,
    url: `flint://${shownHost}:${port}`,
    httpUrl: `http://${shownHost}:${port}`,
    port,
    close(reason) {
      closing ??= (async () => {
        coordinator.stop(reason);
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

function handleHttp(req: IncomingMessage, res: ServerResponse, token: string, coordinator: Coordinator, log: (m: string) => void): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const presented = presentedToken(req);
  if (!tokensMatch(presented, token)) {
    log(`refused HTTP ${req.method} ${url.pathname} from ${req.socket.remoteAddress}: wrong or missing token`);
    send(res, 401, 'text/plain; charset=utf-8', 'wrong or missing token: open the URL that flint serve printed, or send Authorization: Bearer TOKEN');
    return;
  }
  // A page opened with ?token= keeps it in a cookie and drops it from the address bar and history.
  if (url.searchParams.has('token') && req.method === 'GET' && !url.pathname.startsWith('/api/')) {
    url.searchParams.delete('token');
    res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`);
    res.setHeader('Location', url.pathname + (url.search || ''));
    send(res, 303, 'text/plain; charset=utf-8', '');
    return;
  }
  switch (url.pathname) {
    case '/api/v1/applications':
      sendJson(res, coordinator.applications());
      return;
    case '/api/v1/executors':
      sendJson(res, coordinator.executorSummaries());
      return;
    case '/':
      send(res, 200, 'text/html; charset=utf-8', statusPage(coordinator));
      return;
    case '/volunteer':
      send(res, 200, 'text/html; charset=utf-8', page('Flint volunteer', '<p>Browser volunteers are not part of this version of Flint yet: this page will turn the tab into an executor.</p>'));
      return;
    default:
      send(res, 404, 'text/plain; charset=utf-8', `not found: ${url.pathname}`);
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  res.end(body);
}

function sendJson(res: ServerResponse, value: unknown): void {
  send(res, 200, 'application/json', JSON.stringify(value));
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1d2433}
table{border-collapse:collapse;width:100%;margin:1rem 0}td,th{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #e3e6ee}
th{font-weight:600;color:#5a6275}h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}</style></head><body>${body}</body></html>`;
}

/** A server-rendered overview until the live dashboard exists: workers, executors, applications. */
function statusPage(coordinator: Coordinator): string {
  const apps = coordinator.applications();
  const executors = coordinator.executorSummaries();
  const appRows = apps
    .map((a) => `<tr><td>${escapeHtml(a.id)}</td><td>${escapeHtml(a.name)}</td><td>${a.attempts[0]!.completed ? 'finished' : 'running'}</td><td>${new Date(a.attempts[0]!.startTime).toISOString()}</td><td>${(a.attempts[0]!.duration / 1000).toFixed(1)} s</td></tr>`)
    .join('');
  const execRows = executors
    .map((e) => `<tr><td>${escapeHtml(e.id)}</td><td>${escapeHtml(e.workerId)}</td><td>${e.kind}</td><td>${escapeHtml(e.hostPort)}</td><td>${e.appId ? escapeHtml(e.appId) : 'idle'}</td><td>${e.activeTasks}</td><td>${e.completedTasks}</td><td>${e.failedTasks}</td></tr>`)
    .join('');
  return page(
    'Flint coordinator',
    `<h1>Flint coordinator</h1><p>${coordinator.workerCount} worker${coordinator.workerCount === 1 ? '' : 's'}, ${executors.length} executor slot${executors.length === 1 ? '' : 's'}, ${apps.filter((a) => !a.attempts[0]!.completed).length} running application(s). This page does not refresh itself; reload it.</p>
<h2>Applications</h2><table><tr><th>id</th><th>name</th><th>state</th><th>started</th><th>duration</th></tr>${appRows || '<tr><td colspan="5">none yet</td></tr>'}</table>
<h2>Executor slots</h2><table><tr><th>executor</th><th>worker</th><th>kind</th><th>host</th><th>application</th><th>active</th><th>completed</th><th>failed</th></tr>${execRows || '<tr><td colspan="8">no worker has joined</td></tr>'}</table>`,
  );
}
