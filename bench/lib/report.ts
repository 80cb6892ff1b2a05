/** What every bench writes at its end: the machine it ran on, its JSON report, its tables. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { fmt, type Stat } from './stats.js';

export function machineFacts() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    totalMemGiB: +(totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
    loadavgAtEnd: loadavg().map((x) => +x.toFixed(2)),
  };
}

/** A goal of a bench: what was measured (medians), the ratio to its baseline, the goal, met or not. */
export interface Target {
  name: string;
  measured: string;
  ratio: number;
  target: string;
  pass: boolean;
}

export interface Report {
  params: object;
  metrics: Record<string, Stat>;
  targets: Array<{ name: string }>;
  extra: Record<string, unknown>;
}

/**
 * Writes `report` to `path`. A partial run (`--only`) updates its sections in the last full report
 * instead of replacing it.
 */
export function writeReport<R extends Report>(path: string, report: R, partial: boolean): void {
  if (partial && existsSync(path)) {
    const previous = JSON.parse(readFileSync(path, 'utf8')) as R;
    report.params = { ...previous.params, ...report.params };
    report.metrics = { ...previous.metrics, ...report.metrics };
    report.targets = [...previous.targets.filter((t) => !report.targets.some((n) => n.name === t.name)), ...report.targets];
    report.extra = { ...previous.extra, ...report.extra };
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(report, null, 2) + '\n');
}

/** Columns padded to their widest cell, a rule under the header; the first column left-aligned. */
export function textTable(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows
    .map((row, j) => row.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ') + (j === 0 ? '\n' + w.map((x) => '-'.repeat(x)).join('  ') : ''))
    .join('\n');
}

/** Every metric's median, min, max, unit and number of runs, as a text table. */
export function metricsTable(metrics: Record<string, Stat>): string {
  const rows: string[][] = [['metric', 'median', 'min', 'max', 'unit', 'runs']];
  for (const [name, m] of Object.entries(metrics)) rows.push([name, fmt(m.median), fmt(m.min), fmt(m.max), m.unit, String(m.runs.length)]);
  return textTable(rows);
}

/**
 * Replaces what stands between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in `readme` with
 * `body`; false when the markers are not there.
 */
export function updateReadmeSection(readme: string, name: string, body: string): boolean {
  const text = readFileSync(readme, 'utf8');
  const begin = `<!-- ${name}:begin -->`;
  const a = text.indexOf(begin);
  const b = text.indexOf(`<!-- ${name}:end -->`);
  if (a < 0 || b <= a) return false;
  writeFileSync(readme, `${text.slice(0, a + begin.length)}\n${body}\n${text.slice(b)}`);
  return true;
}
