/** Flint on Node: file access through fs, executors as worker threads, an event log on disk. */
import { closeSync, openSync, writeSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { setEnvironment, type FlintEnvironment, type FlintOptions, type Master } from '../api/context.js';
import { FlintError } from '../errors.js';
import { InProcessBackend } from '../exec/in-process-backend.js';
import { nodeDriverPlatform, nodeExecutorPlatform } from './node-platform.js';
import { RemoteBackend } from './cluster/remote-backend.js';
import { ThreadBackend } from './thread-backend.js';

const CLI_HOOK = Symbol.for('flint.cli');

export const nodeEnvironment: FlintEnvironment = {
  driverPlatform: nodeDriverPlatform,
  executorPlatform: nodeExecutorPlatform,
  cores: () => availableParallelism(),
  env: (name) => process.env[name],
  createBackend(master: Master, options: FlintOptions) {
    switch (master.kind) {
      case 'local':
        return new InProcessBackend(nodeExecutorPlatform, ['node', 'fs', 'wasm', 'trusted']);
      case 'threads':
        return new ThreadBackend({
          threads: master.threads,
          executorMemoryMb: options.executorMemoryMb,
          cacheMemoryMb: options.cacheMemoryMb,
          useWasm: options.wasm ?? process.env.FLINT_WASM !== '0',
        });
      case 'remote': {
        const token = options.token ?? process.env.FLINT_TOKEN;
        if (!token) {
          throw new FlintError('UNAUTHORIZED', `master ${master.url}: a coordinator needs its token: pass { token } to Flint.start or set FLINT_TOKEN (flint serve printed it)`);
        }
        return new RemoteBackend({
          master: master.url,
          token,
          appName: options.appName ?? 'flint',
          maxCores: options.maxCores ?? null,
          useWasm: options.wasm ?? process.env.FLINT_WASM !== '0',
          files: null,
          machineId: hostname(),
          log: (m) => process.stderr.write(`flint: ${m}\n`),
        });
      }
    }
  },
  openEventLog(path) {
    const fd = openSync(path, 'a');
    return {
      write: (event) => {
        writeSync(fd, JSON.stringify(event) + '\n');
      },
      close: () => closeSync(fd),
    };
  },
  cliHook: () => (globalThis as Record<symbol, unknown>)[CLI_HOOK] as ReturnType<NonNullable<FlintEnvironment['cliHook']>>,
};

setEnvironment(nodeEnvironment);
