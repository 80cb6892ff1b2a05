/**
 * CPU time of processes, for figures that a busy shared machine does not skew the way it skews
 * wall-clock time: this process through process.cpuUsage(), others through /proc (Linux; elsewhere
 * they read as null).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

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
