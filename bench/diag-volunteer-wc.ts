/**
 * Word count in a tab, diagnosed (not part of `npm run bench:volunteer`):
 * node scripts/run-ts.mjs bench/diag-volunteer-wc.ts [MB] [rounds]
 * One tab (cores=1) and one `flint worker --cores 1` reading through the driver's file server, same
 * splits: a line count (read and split lines only), the built-in word count, per map task the
 * executor's own run time, to tell reading from scanning, and the CPU time of each kind of Chromium
 * process (renderer: the page and its Web Worker executor; the network service; the browser) beside
 * the worker process's.
 */
import { Flint, pairWith, words } from 'flint';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { launchChromium } from '../test/helpers/chromium.js';
import { processCpuMs } from './lib/cpu.js';
import { median } from './lib/stats.js';
import { ensureText } from './lib/textgen.js';
import { startVolunteerCluster } from './lib/volunteer-tabs.js';

const mb = Number(process.argv[2] ?? 100);
const rounds = Number(process.argv[3] ?? 3);
const root = join(dirname(process.argv[1]!), '..');
const path = ensureText(join(root, 'bench', 'data'), { bytes: mb * 1_000_000, seed: 4, vocabulary: 100_000, zipfS: 1 }, console.log);
const bytes = statSync(path).size;
const chromium = await launchChromium({ webRtc: true });
const tab = await startVolunteerCluster(chromium.browser, { tabQueries: ['cores=1'] });
const worker = await startVolunteerCluster(chromium.browser, { tabQueries: [], nodeWorkers: 1, workerEnv: { FLINT_LOCAL_FILES: '0' } });
const fls = {
  tab: await Flint.start({ master: tab.cluster.url, token: tab.cluster.token, verify: 'none' }),
  worker: await Flint.start({ master: worker.cluster.url, token: worker.cluster.token, verify: 'none' }),
};
const jobs = {
  lines: (fl: Flint) => fl.textFile(path, 8).count(),
  words: (fl: Flint) => fl.textFile(path, 8).flatMap(words).map(pairWith(1)).reduceByKey('sum').collect(),
};
const out: Record<string, { wall: number[]; task: number[] }> = {};
const browserPid = chromium.browser.process()!.pid!;
const workerPid = worker.cluster.workers[0]!.child.pid!;

/** CPU ms of every Chromium process by its --type (and utility sub-type), and of the worker process. */
function cpuByProcess(): Record<string, number> {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      parent.set(Number(e), Number(readFileSync(`/proc/${e}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  const cpu: Record<string, number> = { 'flint worker': processCpuMs(workerPid) ?? 0 };
  for (const p of parent.keys()) {
    let q: number | undefined = p;
    let inTree = false;
    for (let hops = 0; q !== undefined && q > 1 && hops < 64; q = parent.get(q), hops++) if (q === browserPid) inTree = true;
    if (!inTree) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const kind = `chromium ${/--type=([\w-]+)/.exec(cmd)?.[1] ?? 'browser'}${/--utility-sub-type=([\w.]+)/.exec(cmd)?.[1]?.replace(/^/, ' ') ?? ''}`;
    cpu[kind] = (cpu[kind] ?? 0) + (processCpuMs(p) ?? 0);
  }
  return cpu;
}
try {
  for (let r = 0; r < rounds; r++) {
    for (const [jn, job] of Object.entries(jobs)) {
      for (const [name, fl] of Object.entries(fls)) {
        const tasks: number[] = [];
        const off = fl.events.on('taskEnd', (e) => {
          if (e.partition >= 0 && e.metrics && e.metrics.recordsRead > 0) tasks.push(e.metrics.durationMs);
        });
        const cpu0 = cpuByProcess();
        const t0 = performance.now();
        await job(fl);
        const wall = performance.now() - t0;
        const cpu1 = cpuByProcess();
        const used = Object.entries(cpu1).map(([k, v]) => [k, v - (cpu0[k] ?? 0)] as const).filter(([, v]) => v > 0);
        await fl.events.delivered();
        off();
        const k = `${jn} ${name}`;
        (out[k] ??= { wall: [], task: [] }).wall.push(wall);
        out[k]!.task.push(tasks.reduce((a, b) => a + b, 0));
        console.log(`${k}: ${wall.toFixed(0)} ms (${(bytes / 1e3 / wall).toFixed(1)} MB/s), map tasks' own time ${tasks.reduce((a, b) => a + b, 0).toFixed(0)} ms: ${tasks.map((x) => x.toFixed(0)).join(', ')}`);
        console.log(`  CPU: ${used.map(([p, ms]) => `${p} ${ms.toFixed(0)} ms`).join(', ')}`);
      }
    }
  }
  for (const [k, v] of Object.entries(out)) console.log(`${k}: median ${median(v.wall).toFixed(0)} ms, tasks ${median(v.task).toFixed(0)} ms`);
} finally {
  for (const fl of Object.values(fls)) await fl.stop();
  await tab.stop();
  await worker.stop();
  await chromium.close();
}
