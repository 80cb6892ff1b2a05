/**
 * HTTP for a dashboard: the token check (Bearer header, ?token=, or the HttpOnly cookie a page
 * opened with ?token= receives), the REST API under /api/v1, the live stream at /live
 * (server-sent events), the bundle under /static and the page shell for every other path. The
 * local UI, `flint history` and the coordinator all serve through this one handler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveHub } from '../../ui/live.js';
import { routeApi, type StatusSource } from '../../ui/rest.js';
import type { LiveChange } from '../../ui/types.js';
import { presentedToken, tokensMatch } from '../cluster/token.js';
import { asset, indexHtml } from './static-assets.js';

export interface UiHandlerOptions {
  source: StatusSource;
  hub: LiveHub;
  token: string;
  /** The cookie that keeps the token for pages; one per port, since cookies ignore ports. */
  cookieName: string;
  log?: (message: string) => void;
}

/** Pages get only this origin's scripts and data; styles may be inline (charts set them). */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

export function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...extra });
  res.end(body);
}

export function createUiHandler(options: UiHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { source, hub, token, cookieName } = options;
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!tokensMatch(presentedToken(req, cookieName), token)) {
      options.log?.(`refused HTTP ${req.method} ${url.pathname} from ${req.socket.remoteAddress}: wrong or missing token`);
      send(res, 401, 'text/plain; charset=utf-8', 'wrong or missing token: open the URL that Flint printed (it carries ?token=), or send Authorization: Bearer TOKEN');
      return;
    }
    // A page opened with ?token= keeps it in a cookie and drops it from the address bar and history.
    if (url.searchParams.has('token') && req.method === 'GET' && !url.pathname.startsWith('/api/')) {
      url.searchParams.delete('token');
      send(res, 303, 'text/plain; charset=utf-8', '', {
        'Set-Cookie': `${cookieName}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
        Location: url.pathname + url.search,
      });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'the dashboard and its API are read-only', { Allow: 'GET, HEAD' });
      return;
    }
    const path = url.pathname;
    if (path === '/api/v1' || path.startsWith('/api/v1/')) {
      let response;
      try {
        response = routeApi(source, path, url.searchParams);
      } catch (err) {
        options.log?.(`REST ${path} failed: ${(err as Error).stack ?? err}`);
        send(res, 500, 'text/plain; charset=utf-8', `internal error: ${(err as Error).message}`);
        return;
      }
      if (response.status === 200) send(res, 200, 'application/json', JSON.stringify(response.body));
      else send(res, response.status, 'text/plain; charset=utf-8', String(response.body));
      return;
    }
    if (path === '/live') {
      serveLive(req, res, hub);
      return;
    }
    if (path.startsWith('/static/')) {
      const file = asset(path.slice('/static/'.length));
      if (!file) send(res, 404, 'text/plain; charset=utf-8', `not found: ${path}`);
      else send(res, 200, file.type, file.body);
      return;
    }
    send(res, 200, 'text/html; charset=utf-8', indexHtml(source.info().title), { 'Content-Security-Policy': CSP, 'Referrer-Policy': 'no-referrer' });
  };
}

/** Merges two notifications: what changed in either. */
export function mergeChanges(a: LiveChange | null, b: LiveChange): LiveChange {
  if (!a) return b;
  const apps = { ...a.apps };
  for (const [id, c] of Object.entries(b.apps)) {
    const prev = apps[id];
    apps[id] = prev ? { stages: [...new Set([...prev.stages, ...c.stages])], any: prev.any || c.any } : c;
  }
  const out: LiveChange = { seq: b.seq, apps, applications: a.applications || b.applications };
  if (a.cluster || b.cluster) out.cluster = true;
  return out;
}

/**
 * Server-sent events: a notification per change interval. A page that reads slowly gets the
 * notifications merged while its socket is full, never a growing backlog, and never loses one: the
 * merged notification names everything that changed.
 */
function serveLive(req: IncomingMessage, res: ServerResponse, hub: LiveHub): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  res.write(`retry: 1000\nevent: hello\ndata: ${JSON.stringify({ seq: hub.position })}\n\n`);
  let held: LiveChange | null = null;
  const deliver = (change: LiveChange) => {
    if (res.writableNeedDrain) {
      held = mergeChanges(held, change);
      return;
    }
    res.write(`data: ${JSON.stringify(change)}\n\n`);
  };
  res.on('drain', () => {
    if (!held) return;
    const change = held;
    held = null;
    deliver(change);
  });
  const unsubscribe = hub.subscribe(deliver);
  const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
  ping.unref();
  const end = () => {
    unsubscribe();
    clearInterval(ping);
  };
  req.on('close', end);
  res.on('error', end);
}
