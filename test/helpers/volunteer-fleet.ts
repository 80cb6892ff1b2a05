/**
 * Many simulated browser volunteers (test/helpers/simulated-volunteer.ts) in a few Node processes,
 * for scale tests and bench:volunteer-scale: each process hosts some volunteers (a share of them
 * with WebRTC), reports when each joined and which executors it was lent, and makes volunteers leave
 * by decommission (a tab closing) or by crashing (a socket gone without a word); a whole process
 * can be SIGKILLed. The child's entry (volunteer-fleet-child.ts) is bundled here with esbuild.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EXECUTOR_BUNDLE = join(root, 'browser', 'build', 'volunteer-executor.js');

export type FleetToChild =
  | { t: 'start'; httpUrl: string; token: string; count: number; webRtc: number; executorBundle: string; executorHeapMb: number; verbose: boolean }
  | { t: 'leave'; workerId: string; how: 'decommission' | 'crash' }
  | { t: 'stats'; reqId: number }
  | { t: 'stop' };

export type ChildToFleet =
  | { t: 'ready' }
  | { t: 'joined'; workerId: string; webRtc: boolean; ms: number }
  | { t: 'failed'; workerId: string; message: string }
  | { t: 'executor'; workerId: string; executorId: string }
  | { t: 'done'; workerId: string; code: number }
  | { t: 'stats'; reqId: number; rssBytes: number; heapUsedBytes: number; maxRssBytes: number };

export type LeaveHow = 'decommission' | 'crash' | 'process-kill';

export interface FleetVolunteer {
  workerId: string;
  process: number;
  webRtc: boolean;
  /** Milliseconds from its process's start message to the coordinator's welcome. */
  joinedMs: number | null;
  executors: string[];
  /** How it was made to leave, if it was. */
  left: LeaveHow | null;
  done: boolean;
}

export interface FleetOptions {
  httpUrl: string;
  token: string;
  /** One entry per process: how many volunteers it hosts, and how many of them have WebRTC. */
  processes: Array<{ volunteers: number; webRtc: number }>;
  executorHeapMb?: number;
  /** Volunteers' own log lines on stderr. */
  verbose?: boolean;
  /** Node's flags for the volunteer processes (e.g. --cpu-prof). */
  nodeArgs?: string[];
  log?(message: string): void;
}

export interface ProcessStats {
  pid: number;
  volunteers: number;
  rssBytes: number;
  heapUsedBytes: number;
  maxRssBytes: number;
}

interface Child {
  proc: ChildProcess;
  index: number;
  exited: Promise<void>;
  stderr: string;
  /** How it ended, once it did; `expected` when the fleet ended it. */
  exit: { code: number | null; signal: string | null; expected: boolean } | null;
  stopping: boolean;
}

/** Bundles the child's entry once per process of the caller. */
let bundled: Promise<string> | null = null;
function childEntry(): Promise<string> {
  bundled ??= (async () => {
    const outDir = join(root, '.cache', 'volunteer-fleet');
    mkdirSync(outDir, { recursive: true });
    const outfile = join(outDir, `child-${process.pid}.mjs`);
    await build({
      entryPoints: [join(root, 'test', 'helpers', 'volunteer-fleet-child.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      loader: { '.wasm': 'binary' },
      sourcemap: 'inline',
      logLevel: 'warning',
    });
    return outfile;
  })();
  return bundled;
}

export class VolunteerFleet {
  readonly volunteers = new Map<string, FleetVolunteer>();
  private readonly children: Child[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly statsWaiters = new Map<number, (s: ChildToFleet & { t: 'stats' }) => void>();
  private nextReq = 0;
  readonly failures: string[] = [];

  private constructor(private readonly options: FleetOptions) {}

  /** Starts the processes and their volunteers; they join on their own (see `whenJoined`). */
  static async start(options: FleetOptions): Promise<VolunteerFleet> {
    if (!existsSync(EXECUTOR_BUNDLE)) throw new Error(`${EXECUTOR_BUNDLE} is missing: run npm run build first`);
    const fleet = new VolunteerFleet(options);
    const entry = await childEntry();
    await Promise.all(options.processes.map((p, i) => fleet.startChild(entry, i, p)));
    return fleet;
  }

  private async startChild(entry: string, index: number, p: { volunteers: number; webRtc: number }): Promise<void> {
    const proc = spawn(process.execPath, [...(this.options.nodeArgs ?? []), entry], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const child: Child = { proc, index, stderr: '', exit: null, stopping: false, exited: new Promise((resolve) => proc.once('exit', () => resolve())) };
    proc.once('exit', (code, signal) => {
      child.exit = { code, signal, expected: child.stopping };
      if (!child.stopping) this.options.log?.(`volunteer process ${index} (pid ${proc.pid}) exited unexpectedly (${code ?? signal}):\n${child.stderr.slice(-3000)}`);
    });
    this.children.push(child);
    proc.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      child.stderr = (child.stderr + text).slice(-20_000);
      if (this.options.verbose) process.stderr.write(text);
    });
    const ready = new Promise<void>((resolve, reject) => {
      proc.once('exit', (code, signal) => reject(new Error(`volunteer process ${index} exited (${code ?? signal}) before it was ready:\n${child.stderr}`)));
      proc.on('message', (raw) => {
        const m = raw as ChildToFleet;
        if (m.t === 'ready') resolve();
        else this.onChildMessage(index, m);
      });
    });
    await ready;
    const start: FleetToChild = {
      t: 'start',
      httpUrl: this.options.httpUrl,
      token: this.options.token,
      count: p.volunteers,
      webRtc: p.webRtc,
      executorBundle: EXECUTOR_BUNDLE,
      executorHeapMb: this.options.executorHeapMb ?? 256,
      verbose: this.options.verbose ?? false,
    };
    proc.send(start);
  }

  private onChildMessage(index: number, m: ChildToFleet): void {
    const v = (id: string) => {
      let entry = this.volunteers.get(id);
      if (!entry) {
        entry = { workerId: id, process: index, webRtc: false, joinedMs: null, executors: [], left: null, done: false };
        this.volunteers.set(id, entry);
      }
      return entry;
    };
    switch (m.t) {
      case 'joined': {
        const entry = v(m.workerId);
        entry.webRtc = m.webRtc;
        entry.joinedMs = m.ms;
        break;
      }
      case 'failed':
        this.failures.push(`${m.workerId}: ${m.message}`);
        v(m.workerId);
        break;
      case 'executor':
        v(m.workerId).executors.push(m.executorId);
        break;
      case 'done':
        v(m.workerId).done = true;
        break;
      case 'stats':
        this.statsWaiters.get(m.reqId)?.(m);
        this.statsWaiters.delete(m.reqId);
        return;
      case 'ready':
        return;
    }
    for (const w of [...this.waiters]) w();
  }

  /** Volunteers the coordinator has welcomed. */
  get joinedCount(): number {
    let n = 0;
    for (const v of this.volunteers.values()) if (v.joinedMs !== null) n++;
    return n;
  }

  /** Resolves once `predicate` holds, re-checked at every report from the processes; rejects at the deadline. */
  until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${this.failures.length ? `; failures: ${this.failures.slice(0, 5).join('; ')}` : ''}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  whenJoined(n: number, timeoutMs: number): Promise<void> {
    return this.until(() => this.joinedCount >= n, timeoutMs, `${n} volunteers to join (${this.joinedCount} joined)`);
  }

  /** Makes a volunteer leave: as a closing tab (decommission) or a crashed one. */
  leave(workerId: string, how: 'decommission' | 'crash'): void {
    const v = this.volunteers.get(workerId);
    if (!v || v.left) return;
    v.left = how;
    this.children[v.process]!.proc.send({ t: 'leave', workerId, how } satisfies FleetToChild);
  }

  /** SIGKILLs a whole process: every volunteer it hosts vanishes at once. */
  async killProcess(index: number): Promise<void> {
    const child = this.children[index]!;
    for (const v of this.volunteers.values()) if (v.process === index && !v.left) v.left = 'process-kill';
    child.stopping = true;
    child.proc.kill('SIGKILL');
    await child.exited;
  }

  /** Memory of each volunteer process still running. */
  async stats(): Promise<ProcessStats[]> {
    const alive = this.children.filter((c) => c.proc.exitCode === null && c.proc.signalCode === null && c.proc.connected);
    return Promise.all(
      alive.map(
        (c) =>
          new Promise<ProcessStats>((resolve) => {
            const reqId = this.nextReq++;
            this.statsWaiters.set(reqId, (s) =>
              resolve({ pid: c.proc.pid!, volunteers: [...this.volunteers.values()].filter((v) => v.process === c.index).length, rssBytes: s.rssBytes, heapUsedBytes: s.heapUsedBytes, maxRssBytes: s.maxRssBytes }),
            );
            c.proc.send({ t: 'stats', reqId } satisfies FleetToChild);
          }),
      ),
    );
  }

  /** Stops every volunteer and process (gently, then by SIGKILL after `graceMs`). */
  async stop(graceMs = 5000): Promise<void> {
    for (const c of this.children) c.stopping = true;
    for (const c of this.children) if (c.proc.connected) c.proc.send({ t: 'stop' } satisfies FleetToChild);
    const timer = setTimeout(() => {
      for (const c of this.children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    }, graceMs);
    await Promise.all(this.children.map((c) => c.exited));
    clearTimeout(timer);
  }

  /** Processes that ended without being asked to (crashed), with the tail of their stderr. */
  unexpectedExits(): Array<{ index: number; code: number | null; signal: string | null; stderr: string }> {
    return this.children.filter((c) => c.exit && !c.exit.expected).map((c) => ({ index: c.index, code: c.exit!.code, signal: c.exit!.signal, stderr: c.stderr.slice(-3000) }));
  }

  /** The process ids of the volunteer processes still running. */
  pids(): number[] {
    return this.children.filter((c) => c.proc.exitCode === null && c.proc.signalCode === null).map((c) => c.proc.pid!);
  }

  /** The tail of a process's stderr (for a failure's message). */
  stderr(index: number): string {
    return this.children[index]?.stderr ?? '';
  }
}
