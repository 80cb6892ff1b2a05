/**
 * Real clusters for tests: a `flint serve` process and `flint worker` processes started from the
 * built CLI, talking over real sockets on loopback (or inside network namespaces). Every process a
 * test starts is stopped by `stop()`, whatever happened.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const flintBin = join(root, 'bin', 'flint.js');

export interface Proc {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** Resolves once `pattern` appears in stdout or stderr. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

const running = new Set<ChildProcess>();

/** A child process of `node` (or of `command`, e.g. `ip netns exec`), with its output captured. */
export function startProcess(args: string[], options: { env?: Record<string, string>; command?: string[] } = {}): Proc {
  const [cmd, ...pre] = options.command ?? [process.execPath];
  const child = spawn(cmd!, [...pre, ...args], { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? -1);
    }),
  );
  return {
    child,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${pattern} in the output of ${args.join(' ')}:\n${out}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}

export interface TestCluster {
  url: string;
  httpUrl: string;
  token: string;
  coordinator: Proc;
  workers: Proc[];
  /** `command` runs the worker through another program, e.g. `ip netns exec NS node`. */
  addWorker(options?: { cores?: number; args?: string[]; env?: Record<string, string>; command?: string[] }): Promise<Proc>;
  /** The coordinator's view of executor slots. */
  executors(): Promise<Array<{ id: string; workerId: string; appId: string | null; activeTasks: number; hostPort: string }>>;
  waitForSlots(n: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startCluster(
  options: {
    workers: number;
    cores?: number;
    token?: string;
    workerArgs?: string[];
    workerEnv?: Record<string, string>;
    host?: string;
    serveEnv?: Record<string, string>;
    serveArgs?: string[];
    /** Node's own flags (a benchmark's --cpu-prof) for every process of the cluster. */
    nodeArgs?: string[];
  } = { workers: 2 },
): Promise<TestCluster> {
  const token = options.token ?? `test-${Math.random().toString(36).slice(2)}`;
  const command = [process.execPath, ...(options.nodeArgs ?? [])];
  const coordinator = startProcess([flintBin, 'serve', '--port', '0', '--token', token, ...(options.host ? ['--host', options.host] : []), ...(options.serveArgs ?? [])], { env: options.serveEnv, command });
  const [, url] = await coordinator.waitFor(/cluster:\s+(flint:\/\/\S+)/);
  const [, httpUrl] = await coordinator.waitFor(/dashboard:\s+(http:\/\/[^/\s]+)/);
  const workers: Proc[] = [];
  const cluster: TestCluster = {
    url: url!,
    httpUrl: httpUrl!,
    token,
    coordinator,
    workers,
    async addWorker(o = {}) {
      const w = startProcess([flintBin, 'worker', url!, '--cores', String(o.cores ?? options.cores ?? 1), '--token', token, ...(o.args ?? options.workerArgs ?? [])], {
        env: { ...options.workerEnv, ...o.env },
        command: o.command ?? command,
      });
      workers.push(w);
      await w.waitFor(/registered with/);
      return w;
    },
    async executors() {
      const res = await fetch(`${httpUrl}/api/v1/executors`, { headers: { authorization: `Bearer ${token}` } });
      return (await res.json()) as Array<{ id: string; workerId: string; appId: string | null; activeTasks: number; hostPort: string }>;
    },
    async waitForSlots(n, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const slots = await cluster.executors().catch(() => []);
        if (slots.length >= n) return;
        if (Date.now() > deadline) throw new Error(`only ${slots.length} of ${n} executor slots joined`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      for (const p of [...workers, coordinator]) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await Promise.all([...workers, coordinator].map((p) => p.exited));
    },
  };
  await Promise.all(Array.from({ length: options.workers }, () => cluster.addWorker()));
  await cluster.waitForSlots(options.workers * (options.cores ?? 1));
  return cluster;
}

/** Kills whatever a failed test left running. */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}
