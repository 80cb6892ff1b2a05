/**
 * History benchmark: `npm run bench:history [-- --quick]`.
 *
 * Writes the event log of an application with a 100,000-task stage (plus a 200-task reduce stage)
 * through the same converter and writer a live application uses, then measures how long it takes
 * to turn that log into the views a page asks for first:
 *   1. in process: replay the log into a status store, then answer jobs, stages, the stage's
 *      taskSummary (min/25th/median/75th/max), its task timeline (binned, 1,000 px) and the first
 *      page of its slowest tasks; median of several runs;
 *   2. end to end: `flint history DIR` as a child process, then the stage's taskSummary over HTTP
 *      (the first request replays the log).
 * The target is under 2 s for each. Writes bench/results/history.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { replayLog } from '../host/node/ui/history.js';
import { routeApi, type StatusSource } from '../host/ui/rest.js';
import { applicationInfo } from '../host/ui/rest-views.js';
import type { AppStatusStore } from '../host/ui/status-store.js';
import { median } from './lib/stats.js';
import { SYNTHETIC_APP as APP, writeSyntheticLog } from './lib/synthetic-log.js';

const quick = process.argv.includes('--quick');
const TASKS = 100_000;
const REDUCE_TASKS = 200;
const RUNS = quick ? 3 : 7;
const root = join(dirname(process.argv[1]!), '..');

function views(store: AppStatusStore): void {
  const source: StatusSource = { info: () => ({ mode: 'history', title: 'bench' }), applications: () => [applicationInfo(store)], store: () => store };
  const q = (path: string, query = '') => {
    const r = routeApi(source, `/api/v1/applications/${APP}${path}`, new URLSearchParams(query));
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${String(r.body)}`);
    return r.body;
  };
  q('/jobs');
  q('/stages');
  const summary = q('/stages/0/0/taskSummary', 'quantiles=0,0.25,0.5,0.75,1') as { count: number };
  if (summary.count !== TASKS) throw new Error(`taskSummary counted ${summary.count} tasks, expected ${TASKS}`);
  q('/stages/0/0/taskTimeline', 'bins=1000');
  q('/stages/0/0/taskList', 'offset=0&length=50&sortBy=-duration');
  q('/stages/0/0', 'details=false&executorSummary=true');
}

async function endToEnd(dir: string): Promise<{ readyMs: number; firstViewMs: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [join(root, 'bin', 'flint.js'), 'history', dir, '--port', '0', '--token', 'bench'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`flint history did not start:\n${out}`)), 30_000);
      const on = (c: Buffer) => {
        out += c.toString();
        const m = /dashboard:\s+(http:\/\/[^/\s]+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      child.stdout.on('data', on);
      child.stderr.on('data', on);
    });
    const readyMs = performance.now() - started;
    const t0 = performance.now();
    const res = await fetch(`${url}/api/v1/applications/${APP}/stages/0/0/taskSummary?quantiles=0,0.25,0.5,0.75,1`, { headers: { authorization: 'Bearer bench' } });
    const body = (await res.json()) as { count: number };
    if (body.count !== TASKS) throw new Error(`flint history answered ${body.count} tasks`);
    return { readyMs, firstViewMs: performance.now() - t0 };
  } finally {
    child.kill('SIGTERM');
  }
}

const dir = mkdtempSync(join(tmpdir(), 'flint-history-bench-'));
try {
  const tw = performance.now();
  const path = await writeSyntheticLog(dir, { tasks: TASKS, reduceTasks: REDUCE_TASKS });
  const writeMs = performance.now() - tw;
  const bytes = statSync(path).size;
  console.log(`log: ${(bytes / 1024 / 1024).toFixed(1)} MiB, ${TASKS + REDUCE_TASKS} tasks, written in ${Math.round(writeMs)} ms`);
  const replayMs: number[] = [];
  const totalMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const store = replayLog(path);
    const t1 = performance.now();
    views(store);
    const t2 = performance.now();
    replayMs.push(t1 - t0);
    totalMs.push(t2 - t0);
    console.log(`run ${i + 1}: replay ${Math.round(t1 - t0)} ms, replay + first views ${Math.round(t2 - t0)} ms`);
  }
  const e2e = await endToEnd(dir);
  console.log(`flint history: ready in ${Math.round(e2e.readyMs)} ms, first stage view (replay included) in ${Math.round(e2e.firstViewMs)} ms`);
  const result = {
    bench: 'history',
    mode: quick ? 'quick' : 'full',
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', totalMemGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10, node: process.version, date: new Date().toISOString(), loadavgAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
    log: { tasks: TASKS + REDUCE_TASKS, largestStageTasks: TASKS, bytes, events: 2 * (TASKS + REDUCE_TASKS) + 12, writeMs: Math.round(writeMs) },
    metrics: {
      replayMs: { median: Math.round(median(replayMs)), runs: replayMs.map(Math.round) },
      replayAndFirstViewsMs: { median: Math.round(median(totalMs)), runs: totalMs.map(Math.round) },
      cliReadyMs: Math.round(e2e.readyMs),
      cliFirstStageViewMs: Math.round(e2e.firstViewMs),
    },
    targets: [
      { name: 'replay a 100,000-task log into its views', measured: `${Math.round(median(totalMs))} ms`, target: '< 2000 ms', pass: median(totalMs) < 2000 },
      { name: 'flint history: first stage view of that log', measured: `${Math.round(e2e.firstViewMs)} ms`, target: '< 2000 ms', pass: e2e.firstViewMs < 2000 },
    ],
  };
  const out = join(root, 'bench', 'results', 'history.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  for (const t of result.targets) console.log(`${t.pass ? 'PASS' : 'MISS'}  ${t.name}: ${t.measured} (target ${t.target})`);
  console.log(`wrote ${out}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
