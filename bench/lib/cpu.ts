/**
 * CPU time of processes, for figures that a busy shared machine does not skew the way it skews
 * wall-clock time: this process through process.cpuUsage(), others through /proc (Linux; elsewhere
 * they read as null).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | null = null;

/** Milliseconds of CPU (user + system, every thread) that process `pid` has used, or null. */
export function processCpuMs(pid: number): number | null {
  try {
    // Fields after the command name; utime and stime are the 12th and 13th of them.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return null;
  }
}

/**
 * Milliseconds of CPU that process `pid` and every process below it use now (a browser and its
 * renderers, network service and GPU processes), or null. Processes that ended are not counted.
 */
export function processTreeCpuMs(pid: number): number | null {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ');
      parent.set(Number(entry), Number(fields[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  if (!parent.has(pid)) return null;
  const inTree = (p: number): boolean => {
    for (let q: number | undefined = p, hops = 0; q !== undefined && q > 1 && hops < 64; q = parent.get(q), hops++) if (q === pid) return true;
    return false;
  };
  let total = 0;
  for (const p of parent.keys()) if (inTree(p)) total += processCpuMs(p) ?? 0;
  return total;
}

/** Milliseconds of CPU this process has used, every thread. */
export function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Adds up the CPU that named processes use while `run` runs. */
export class CpuMeter {
  readonly totals: Record<string, number> = {};

  constructor(private readonly processes: Record<string, () => number | null>) {
    for (const name of Object.keys(processes)) this.totals[name] = 0;
  }

  async measure<T>(run: () => Promise<T>): Promise<T> {
    const before = this.read();
    const out = await run();
    const after = this.read();
    for (const name of Object.keys(this.processes)) {
      if (before[name] !== null && after[name] !== null) this.totals[name]! += after[name]! - before[name]!;
    }
    return out;
  }

  private read(): Record<string, number | null> {
    const out: Record<string, number | null> = {};
    for (const [name, read] of Object.entries(this.processes)) out[name] = read();
    return out;
  }
}
