/** Flint on Node: file access through fs, executors as worker threads, an event log on disk. */
import { closeSync, openSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setEnvironment, type FlintEnvironment, type FlintOptions, type Master } from '../api/context.js';
import { FlintError } from '../errors.js';
import { InProcessBackend } from '../exec/in-process-backend.js';
import { serveDriverFiles } from './file-server.js';
import { localFilesEnabled } from './machine-id.js';
import { NodeDriverPlatform, nodeExecutorPlatform } from './node-platform.js';
import { ThreadBackend } from './thread-backend.js';

const CLI_HOOK = Symbol.for('flint.cli');

export const nodeEnvironment: FlintEnvironment = {
  createDriverPlatform: () => new NodeDriverPlatform(),
  executorPlatform: nodeExecutorPlatform,
  cores: () => availableParallelism(),
  env: (name) => process.env[name],
  createBackend(master: Master, options: FlintOptions, driverPlatform) {
    switch (master.kind) {
      case 'local':
        return new InProcessBackend(nodeExecutorPlatform, ['node', 'fs', 'wasm', 'trusted']);
      case 'threads':
        return new ThreadBackend({
          threads: master.threads,
          executorMemoryMb: options.executorMemoryMb,
          cacheMemoryMb: options.cacheMemoryMb,
          useWasm: options.wasm ?? process.env.FLINT_WASM !== '0',
          ...(localFilesEnabled() ? {} : { fileServer: () => serveDriverFiles((driverPlatform as NodeDriverPlatform).grants) }),
        });
      case 'remote':
        throw new FlintError(
          'INVALID_ARGUMENT',
          `master ${master.url}: remote coordinators (flint serve / flint worker) are not available in this version yet; use 'local[N]'`,
        );
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
