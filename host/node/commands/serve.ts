/** `flint serve`: runs a coordinator until SIGINT or SIGTERM, then tells everyone and exits. */
import { FlintError } from '../../errors.js';
import { startCoordinator } from '../cluster/coordinator-server.js';
import { resolveToken } from '../cluster/token.js';

export interface ServeFlags {
  host?: string;
  port?: number | string;
  token?: string;
  eventLogDir?: string;
}

export async function serve(flags: ServeFlags): Promise<number> {
  const port = flags.port === undefined ? 7077 : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FlintError('INVALID_ARGUMENT', `--port must be a port number (0-65535), got ${String(flags.port)}`);
  const host = flags.host ?? '127.0.0.1';
  const { token, source } = resolveToken(flags.token, process.env.FLINT_TOKEN);
  // A lower message limit lets tests send an oversized message without a gigabyte of traffic.
  const maxMessageBytes = process.env.FLINT_MAX_MESSAGE_BYTES ? Number(process.env.FLINT_MAX_MESSAGE_BYTES) : undefined;
  const running = await startCoordinator({ host, port, token, maxMessageBytes });
  const tokenNote = source === 'generated' ? '(generated; pass it to workers and drivers with --token or FLINT_TOKEN)' : `(from ${source === 'flag' ? '--token' : 'FLINT_TOKEN'})`;
  process.stdout.write(
    `flint coordinator ready\n` +
      `  cluster:    ${running.url}\n` +
      `  dashboard:  ${running.httpUrl}/?token=${encodeURIComponent(token)}\n` +
      `  volunteer:  ${running.httpUrl}/volunteer?token=${encodeURIComponent(token)}\n` +
      `  token:      ${token} ${tokenNote}\n` +
      `join a worker:  npx flint worker ${running.url} --token ${token}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.stderr.write(`flint serve: ${signal}: telling drivers and workers, shutting down\n`);
      void running.close(`the coordinator was stopped (${signal})`).then(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}
