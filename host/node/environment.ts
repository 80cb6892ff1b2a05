/** Flint on Node: file access through fs, executors as worker threads, event logs on disk, the dashboard over HTTP. */
import { availableParallelism, userInfo } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { setEnvironment, type FlintEnvironment, type FlintOptions, type Master } from '../api/context.js';
import { FlintError } from '../errors.js';
import { setSourceLocator } from '../codec/closure-frames.js';
import { InProcessBackend } from '../exec/in-process-backend.js';
import { RemoteBackend } from './cluster/remote-backend.js';
import { loadModule } from './module-bundler.js';
import { serveDriverFiles } from './file-server.js';
import { localFilesEnabled, machineId } from './machine-id.js';
import { defaultExecutorMemoryMb, defaultInProcessMemoryMb } from './memory-defaults.js';
import { ScratchDirs, nodeScratchDisk, scratchRoot } from './scratch-disk.js';
import { NodeDriverPlatform, nodeExecutorPlatform } from './node-platform.js';
import { nodeSourceLocator } from './source-locator.js';
import { ThreadBackend } from './thread-backend.js';
import { openEventLogDir } from './ui/event-log.js';
import { startLocalUi } from './ui/ui-server.js';

const CLI_HOOK = Symbol.for('flint.cli');
/** Threads per core beyond which `local[N]` is most likely a mistake worth a word. */
const MANY_THREADS_PER_CORE = 4;
let warnedManyThreads = false;

function warnManyThreads(threads: number, cores: number, startBatch: number): void {
  if (warnedManyThreads || threads <= MANY_THREADS_PER_CORE * cores) return;
  warnedManyThreads = true;
  process.emitWarning(
    `local[${threads}] asks for ${threads} worker threads on ${cores} core${cores === 1 ? '' : 's'}. Each thread is an ` +
      'executor with its own JavaScript heap, so threads beyond the cores add memory and start-up time, not speed. ' +
      `They start ${startBatch} at a time while jobs run; local[*] starts one per core.`,
    { type: 'FlintWarning', code: 'FLINT_MANY_THREADS' },
  );
}

function userInfoName(): string {
  try {
    return userInfo().username;
  } catch {
    return '';
  }
}

export const nodeEnvironment: FlintEnvironment = {
  createDriverPlatform: () => new NodeDriverPlatform(),
  executorPlatform: nodeExecutorPlatform,
  cores: () => availableParallelism(),
  env: (name) => process.env[name],
  loadModule,
  // Decoded records take several times their encoded size: an eighth of the heap leaves room for that.
  defaultMaxResultSizeMb: () => Math.min(1024, Math.floor(getHeapStatistics().heap_size_limit / 1024 / 1024 / 8)),
  createBackend(master: Master, options: FlintOptions, driverPlatform) {
    switch (master.kind) {
      case 'local': {
        const scratch = new ScratchDirs(scratchRoot(options.spillDir), 'local');
        return new InProcessBackend(
          { ...nodeExecutorPlatform, scratch: nodeScratchDisk(scratch.executorDir('driver')) },
          ['node', 'fs', 'wasm', 'trusted', 'disk'],
          { executorMemoryMb: options.executorMemoryMb ?? defaultInProcessMemoryMb(), cacheMemoryMb: options.cacheMemoryMb },
        );
      }
      case 'threads': {
        const cores = availableParallelism();
        // At least a few at once: local[4] on two cores still starts all four before the first job.
        const startBatch = Math.max(4, cores);
        warnManyThreads(master.threads, cores, startBatch);
        return new ThreadBackend({
          threads: master.threads,
          startBatch,
          // The machine's share of each thread: threads beyond the cores still share its memory.
          executorMemoryMb: options.executorMemoryMb ?? defaultExecutorMemoryMb(master.threads),
          cacheMemoryMb: options.cacheMemoryMb,
          scratch: new ScratchDirs(scratchRoot(options.spillDir), 'threads'),
          useWasm: options.wasm ?? process.env.FLINT_WASM !== '0',
          ...(localFilesEnabled() ? {} : { fileServer: () => serveDriverFiles((driverPlatform as NodeDriverPlatform).grants) }),
        });
      }
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
          // Bound where the coordinator connection leaves from: the address workers can reach.
          fileServer: (host) => serveDriverFiles((driverPlatform as NodeDriverPlatform).grants, { host, log: (m) => process.stderr.write(`flint: file server: ${m}\n`) }),
          machineId: machineId(),
          log: (m) => process.stderr.write(`flint: ${m}\n`),
        });
      }
    }
  },
  openEventLog: (dir) => openEventLogDir(dir),
  startUi: (source, port) => startLocalUi(source, port),
  userName: () => process.env.USER ?? process.env.USERNAME ?? userInfoName(),
  cliHook: () => (globalThis as Record<symbol, unknown>)[CLI_HOOK] as ReturnType<NonNullable<FlintEnvironment['cliHook']>>,
};

setEnvironment(nodeEnvironment);
setSourceLocator(nodeSourceLocator);
