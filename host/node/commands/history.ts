/** `flint history DIR`: serves the applications whose event logs are in DIR until SIGINT or SIGTERM. */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { FlintError } from '../../errors.js';
import { LiveHub } from '../../ui/live.js';
import { resolveToken } from '../cluster/token.js';
import { HistoryProvider } from '../ui/history.js';
import { startUiServer } from '../ui/ui-server.js';

export interface HistoryFlags {
  host?: string;
  port?: number | string;
  token?: string;
}

export async function history(dir: string, flags: HistoryFlags): Promise<number> {
  const port = flags.port === undefined ? 18080 : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FlintError('INVALID_ARGUMENT', `--port must be a port number (0-65535), got ${String(flags.port)}`);
  const logDir = resolve(dir);
  if (!existsSync(logDir) || !statSync(logDir).isDirectory()) {
    throw new FlintError('INPUT_NOT_FOUND', `${dir} is not a directory of event logs (write them with Flint.start({ eventLog: DIR }) or flint serve --event-log-dir DIR)`);
  }
  const provider = new HistoryProvider(logDir, {
    onLoad: (appId, ms, store) => {
      let tasks = 0;
      for (const s of store.stages.values()) tasks += s.tasks.length;
      process.stderr.write(`flint history: replayed ${appId} (${tasks.toLocaleString('en-US')} tasks) in ${Math.round(ms)} ms\n`);
    },
  });
  provider.scan(true);
  const { token, source } = resolveToken(flags.token, process.env.FLINT_TOKEN);
  const hub = new LiveHub();
  const host = flags.host ?? '127.0.0.1';
  const ui = await startUiServer(provider, { host, port, portRetries: 0, token, hub, log: (m) => process.stderr.write(`flint history: ${m}\n`) });
  const count = provider.applications().length;
  process.stdout.write(
    `flint history ready\n` +
      `  dashboard:  ${ui.url}\n` +
      `  event logs: ${logDir} (${count} application${count === 1 ? '' : 's'})\n` +
      `  token:      ${token} ${source === 'generated' ? '(generated)' : `(from ${source === 'flag' ? '--token' : 'FLINT_TOKEN'})`}\n`,
  );
  await new Promise<void>((done) => {
    // The server's sockets do not hold the process (see ui-server.ts); this timer does, until a signal.
    const keep = setInterval(() => undefined, 1 << 30);
    const stop = () => {
      clearInterval(keep);
      void ui.close().then(done);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
