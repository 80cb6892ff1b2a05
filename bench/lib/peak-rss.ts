/**
 * The process's peak resident set since a point in time (Linux): `resetPeakRss` clears the kernel's
 * high-water mark (VmHWM, through /proc/self/clear_refs), `peakRssBytes` reads it. getrusage's
 * maxRSS cannot be reset, so it keeps whatever came before the measured job: in a process started
 * through scripts/run-ts.mjs, bundling the entry with esbuild peaks above many jobs.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export function resetPeakRss(): void {
  writeFileSync('/proc/self/clear_refs', '5');
}

export function peakRssBytes(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  if (!m) throw new Error('no VmHWM in /proc/self/status');
  return Number(m[1]) * 1024;
}
