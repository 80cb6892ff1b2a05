/** `flint worker flint://HOST:PORT`: lends this machine's cores to a coordinator until SIGTERM. */
import { availableParallelism } from 'node:os';
import { parseChaos } from '../../exec/chaos.js';
import { FlintError } from '../../errors.js';
import { defaultWorkerMemoryMb, WorkerAgent } from '../cluster/worker-agent.js';

export interface WorkerFlags {
  cores?: number | string;
  memory?: number | string;
  token?: string;
  untrusted?: boolean;
  chaos?: string;
  dataHost?: string;
  spillDir?: string;
}

export async function worker(master: string, flags: WorkerFlags): Promise<number> {
  const cores = flags.cores === undefined ? availableParallelism() : Number(flags.cores);
  if (!Number.isInteger(cores) || cores < 1) throw new FlintError('INVALID_ARGUMENT', `--cores must be a positive integer, got ${String(flags.cores)}`);
  const memoryMb = flags.memory === undefined ? defaultWorkerMemoryMb() : Number(flags.memory);
  if (!Number.isInteger(memoryMb) || memoryMb < 128) throw new FlintError('INVALID_ARGUMENT', `--memory must be a number of MB (at least 128), got ${String(flags.memory)}`);
  const token = flags.token ?? process.env.FLINT_TOKEN;
  if (!token) throw new FlintError('UNAUTHORIZED', 'flint worker needs the coordinator\'s token: pass --token TOKEN or set FLINT_TOKEN (flint serve printed it)');
  const agent = new WorkerAgent({
    master,
    token,
    cores,
    memoryMb,
    untrusted: flags.untrusted === true,
    chaos: flags.chaos ? parseChaos(flags.chaos) : null,
    dataHost: flags.dataHost,
    spillDir: flags.spillDir,
    fetchTimeoutMs: process.env.FLINT_FETCH_TIMEOUT_MS ? Number(process.env.FLINT_FETCH_TIMEOUT_MS) : undefined,
    maxMessageBytes: process.env.FLINT_MAX_MESSAGE_BYTES ? Number(process.env.FLINT_MAX_MESSAGE_BYTES) : undefined,
    log: (m) => process.stderr.write(`flint worker: ${m}\n`),
  });
  await agent.start();
  process.stderr.write(`flint worker: ${agent.workerId} serving ${cores} core${cores === 1 ? '' : 's'} to ${master}\n`);
  process.once('SIGTERM', () => agent.decommission());
  process.once('SIGINT', () => {
    process.stderr.write('flint worker: SIGINT: leaving now\n');
    void agent.stop();
  });
  return agent.done;
}
