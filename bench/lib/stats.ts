/** Small measurement helpers shared by the benches: warm-up, repeated runs, median and min. */
import { performance } from 'node:perf_hooks';

export interface Stat {
  unit: string;
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

export function stat(unit: string, runs: number[]): Stat {
  return { unit, median: median(runs), min: Math.min(...runs), max: Math.max(...runs), runs };
}

/** Runs of `amount` (tasks, bytes, ...) in `msRuns` milliseconds each, as a rate per second. */
export function rateStat(unit: string, amount: number, msRuns: number[]): Stat {
  return stat(unit, msRuns.map((ms) => amount / (ms / 1000)));
}

/** Milliseconds one call of `fn` takes. */
export async function timeMs(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export interface Contender {
  name: string;
  run: () => Promise<unknown> | unknown;
}

/**
 * Runs `warmup` then `runs` rounds; each round runs every contender once, in order, so that a
 * change of load on a busy machine hits all contenders alike. Returns milliseconds per run.
 */
export async function interleaved(contenders: Contender[], warmup: number, runs: number, log?: (s: string) => void): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const c of contenders) out[c.name] = [];
  for (let r = 0; r < warmup + runs; r++) {
    for (const c of contenders) {
      const ms = await timeMs(c.run);
      if (r >= warmup) out[c.name]!.push(ms);
      log?.(`  ${r < warmup ? 'warm-up' : `run ${r - warmup + 1}/${runs}`} ${c.name}: ${ms.toFixed(1)} ms`);
    }
  }
  return out;
}

export const fmt = (x: number, digits = 3): string => {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(digits);
};
