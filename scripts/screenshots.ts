/**
 * Screenshots of every dashboard page for docs/screenshots: `node scripts/run-ts.mjs scripts/screenshots.ts`
 * (after `npm run build`). Runs real jobs: a word count over the sample text on local[2] with a
 * cached RDD, a job whose task fails, a cluster of `flint serve` and two `flint worker`s, and
 * `flint history` over the logs (plus a synthetic 100,000-task log), then photographs each page in
 * Debian's Chromium.
 */
import { Flint, pairWith, words } from 'flint';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { writeSyntheticLog } from '../bench/lib/synthetic-log.js';
import { startCoordinator } from '../host/node/cluster/coordinator-server.js';
import { LiveHub } from '../host/ui/live.js';
import { HistoryProvider } from '../host/node/ui/history.js';
import { startUiServer } from '../host/node/ui/ui-server.js';
import { launchChromium } from '../test/helpers/chromium.js';

// run-ts.mjs bundles this file elsewhere; argv[1] is where it really is.
const root = join(dirname(process.argv[1]!), '..');
// Call sites (stage names) then point at this file's lines, as `flint run` makes them for jobs.
process.setSourceMapsEnabled(true);
const out = join(root, 'docs', 'screenshots');
mkdirSync(out, { recursive: true });
const logs = mkdtempSync(join(tmpdir(), 'flint-shots-'));
const chromium = await launchChromium();
const children: ChildProcess[] = [];

async function shoot(page: Page, url: string, ready: string, name: string, settle = 400): Promise<void> {
  await page.goto(url);
  await page.waitForSelector(ready, { timeout: 30_000 });
  // Charts and the timeline draw once their container has a size; give the page a moment.
  await new Promise((r) => setTimeout(r, settle));
  await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
  console.log(`docs/screenshots/${name}.png`);
}

try {
  const page = await chromium.browser.newPage();
  await page.setViewport({ width: 1440, height: 900 });

  // ---- a local application ----------------------------------------------------------------------
  const fl = await Flint.start({ master: 'local[2]', ui: 0, eventLog: logs, appName: 'word count' });
  const text = fl.textFile(join(root, 'data', 'sample.txt'), 4);
  const counts = text
    .flatMap(words)
    .map((w) => [w.toLowerCase(), 1] as [string, number])
    .reduceByKey((a, b) => a + b, 8)
    .setName('word counts')
    .cache();
  await counts.count();
  await counts.takeOrdered(20, ([, n]) => -n);
  await text.flatMap(words).map(pairWith(1)).reduceByKey('sum').sortBy(([, n]) => -n, { numPartitions: 4 }).take(10);
  await fl
    .parallelize(Array.from({ length: 40 }, (_, i) => i), 8)
    .map((i) => {
      if (i === 37) throw new Error(`record ${i} is malformed`);
      return i;
    })
    .collect()
    .catch(() => undefined);
  const base = new URL(fl.uiUrl!).origin;
  const app = `${base}/app/${fl.applicationId}`;
  await page.goto(fl.uiUrl!);
  await shoot(page, `${app}/jobs`, '#completed-jobs tbody tr', 'jobs', 800);
  await shoot(page, `${app}/jobs/1`, 'svg.dag .dag-stage', 'job-dag');
  await shoot(page, `${app}/stages`, '#stages-complete tbody tr', 'stages');
  await shoot(page, `${app}/stages/0/0`, '#task-quantiles', 'stage', 800);
  await shoot(page, `${app}/executors`, '#executors-active tbody tr', 'executors');
  await shoot(page, `${app}/storage`, '#storage-table tbody tr', 'storage', 600);
  void counts;
  await fl.stop();

  // ---- flint history, with a 100,000-task application ---------------------------------------------
  await writeSyntheticLog(logs, { tasks: 100_000, reduceTasks: 200 });
  const history = new HistoryProvider(logs);
  const ui = await startUiServer(history, { host: '127.0.0.1', port: 0, portRetries: 0, token: 'history', hub: new LiveHub() });
  await page.goto(ui.url);
  await shoot(page, `${ui.baseUrl}/applications`, '#apps-completed tbody tr', 'history', 400);
  await shoot(page, `${ui.baseUrl}/app/app-bench-history/stages/0/0`, '[data-field="timeline-count"]', 'stage-100k-tasks', 1200);
  await ui.close();
  // ---- a cluster ------------------------------------------------------------------------------------
  const coordinator = await startCoordinator({ host: '127.0.0.1', port: 0, token: 'screenshots', eventLogDir: logs, log: () => undefined });
  for (let i = 0; i < 2; i++) {
    children.push(spawn(process.execPath, [join(root, 'bin', 'flint.js'), 'worker', coordinator.url, '--token', 'screenshots', '--cores', '2'], { stdio: 'ignore' }));
  }
  const deadline = Date.now() + 20_000;
  while (coordinator.coordinator.executorSummaries().length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const remote = await Flint.start({ master: coordinator.url, token: 'screenshots', appName: 'nightly aggregation' });
  await remote.textFile(join(root, 'data', 'sample.txt'), 8).flatMap(words).map(pairWith(1)).reduceByKey('sum', 8).count();
  await new Promise((r) => setTimeout(r, 300));
  await page.goto(`${coordinator.httpUrl}/?token=screenshots`);
  await shoot(page, `${coordinator.httpUrl}/`, '#cluster-workers tbody tr', 'cluster', 600);
  // Last: the browser's connection did not survive the coordinator's shutdown in this script.
  await chromium.close();
  await remote.stop();
  await coordinator.close();

} finally {
  for (const c of children) c.kill('SIGTERM');
  await chromium.close().catch(() => undefined);
  rmSync(logs, { recursive: true, force: true });
}
