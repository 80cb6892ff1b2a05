/**
 * A dashboard's HTTP server: the local application's (`Flint.start({ ui })`, 127.0.0.1:4040 or the
 * next free port, as Spark's) and `flint history`'s. Its sockets never keep the process alive: a
 * script that ends without `fl.stop()` still exits, open pages or not.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { UiServerHandle } from '../../api/context.js';
import { FlintError } from '../../errors.js';
import { LiveHub } from '../../ui/live.js';
import type { StatusSource } from '../../ui/rest.js';
import { generateToken, tokenCookieName } from '../cluster/token.js';
import { createUiHandler } from './ui-handler.js';

export interface UiServerOptions {
  host: string;
  port: number;
  /** Try the next ports when `port` is taken (Spark tries 16). */
  portRetries: number;
  token: string;
  hub: LiveHub;
  log?: (message: string) => void;
}

export interface RunningUi extends UiServerHandle {
  port: number;
  /** Without the token. */
  baseUrl: string;
}

export async function startUiServer(source: StatusSource, options: UiServerOptions): Promise<RunningUi> {
  let port = options.port;
  for (let attempt = 0; ; attempt++) {
    try {
      return await listen(source, { ...options, port });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' || port === 0 || attempt >= options.portRetries) {
        throw new FlintError('INVALID_ARGUMENT', `cannot serve the dashboard on ${options.host}:${port}: ${(err as Error).message}`);
      }
      port++;
    }
  }
}

async function listen(source: StatusSource, options: UiServerOptions): Promise<RunningUi> {
  const sockets = new Set<Socket>();
  let handler: ReturnType<typeof createUiHandler> | null = null;
  const server: Server = createServer((req, res) => handler!(req, res));
  server.on('connection', (socket) => {
    socket.unref();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  const port = (server.address() as AddressInfo).port;
  handler = createUiHandler({ source, hub: options.hub, token: options.token, cookieName: tokenCookieName(port), log: options.log });
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const baseUrl = `http://${host}:${port}`;
  let closing: Promise<void> | null = null;
  return {
    port,
    baseUrl,
    url: `${baseUrl}/?token=${encodeURIComponent(options.token)}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        options.hub.stop();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

/** `Flint.start({ ui })`: the application's own dashboard on 127.0.0.1. */
export async function startLocalUi(source: StatusSource, port: number): Promise<UiServerHandle> {
  const hub = new LiveHub();
  for (const app of source.applications()) {
    const store = source.store(app.id);
    if (store) hub.watch(store);
  }
  const token = process.env.FLINT_TOKEN || generateToken();
  return startUiServer(source, { host: '127.0.0.1', port, portRetries: 16, token, hub, log: (m) => process.stderr.write(`flint: ui: ${m}\n`) });
}
