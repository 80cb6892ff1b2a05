// The coordinator's dashboard in Chromium: the cluster page (workers, executor slots of kind node
// lent to the application, the application), the application's own pages built from the events its
// driver pushed, REST across applications with appId, and the event log --event-log-dir wrote.
import { Flint } from 'flint';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayLog } from '../../host/node/ui/history.js';
import { routeApi } from '../../host/ui/rest.js';
import { applicationInfo } from '../../host/ui/rest-views.js';
import type { ApplicationInfo, ExecutorSummary, JobData, StageData, WorkerSummary } from '../../host/ui/types.js';
import { startCluster, type TestCluster } from '../cluster/harness.js';
import { launchChromium, watchErrors, type Chromium } from '../helpers/chromium.js';
import { expected, knownLines, LINES, runKnownJob, SLICES, REDUCERS } from '../helpers/known-job.js';

const logDir = mkdtempSync(join(tmpdir(), 'flint-coordinator-logs-'));
let cluster: TestCluster;
let chromium: Chromium;
let fl: Flint;
let known: Awaited<ReturnType<typeof runKnownJob>>;
const want = expected(knownLines());

async function rest<T>(path: string): Promise<T> {
  const res = await fetch(`${cluster.httpUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${cluster.token}` } });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

/** Polls the coordinator's REST until `ok` (events reach it in batches every 100 ms). */
async function restUntil<T>(path: string, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await rest<T>(path);
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting on ${path}: ${JSON.stringify(v).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  cluster = await startCluster({ workers: 2, cores: 1, serveArgs: ['--event-log-dir', logDir] });
  chromium = await launchChromium();
  // The pages and the REST API are checked against a known job's exact counts: no task copies
  // (speculation, and the stealing that comes with it, may run a task twice on a loaded machine).
  fl = await Flint.start({ master: cluster.url, token: cluster.token, appName: 'cluster e2e', speculation: false });
  known = await runKnownJob(fl, knownLines());
});

afterAll(async () => {
  await fl?.stop().catch(() => undefined);
  await chromium?.close();
  await cluster?.stop();
  rmSync(logDir, { recursive: true, force: true });
});

describe("the coordinator's dashboard", () => {
  it('REST: executors across applications carry appId and kind; the application is the driver’s, with its jobs', async () => {
    expect(known.counts).toEqual(want.counts);
    // The driver's events arrive in batches: wait for the jobs' ends, then everything before them is in.
    const jobs = await restUntil<JobData[]>(`/applications/${fl.applicationId}/jobs`, (j) => j.length === 2 && j.every((x) => x.status === 'SUCCEEDED'));
    const executors = await rest<ExecutorSummary[]>('/executors');
    expect(executors).toHaveLength(2);
    expect(executors.map((e) => [e.kind, e.appId])).toEqual([
      ['node', fl.applicationId],
      ['node', fl.applicationId],
    ]);
    const apps = await rest<ApplicationInfo[]>('/applications');
    expect(apps.map((a) => [a.id, a.name, a.attempts[0]!.completed])).toEqual([[fl.applicationId, 'cluster e2e', false]]);
    expect(jobs[1]!.numCompletedTasks).toBe(SLICES + REDUCERS);
    const stages = await rest<StageData[]>(`/applications/${fl.applicationId}/stages`);
    expect(stages.find((s) => s.stageId === 0)!.inputRecords).toBe(LINES);
    expect(stages.find((s) => s.stageId === 1)!.outputRecords).toBe(want.distinct);
    const app = await rest<ExecutorSummary[]>(`/applications/${fl.applicationId}/executors`);
    expect(app.reduce((n, e) => n + e.completedTasks, 0)).toBe(SLICES + REDUCERS + REDUCERS);
    expect(executors.reduce((n, e) => n + e.totalShuffleWrite, 0)).toBe(stages.find((s) => s.stageId === 0)!.shuffleWriteBytes);
  });

  it('the cluster page, then the application’s pages, with no console error', async () => {
    const page = await chromium.browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    const errors = watchErrors(page);
    await page.goto(`${cluster.httpUrl}/?token=${encodeURIComponent(cluster.token)}`);
    await page.waitForSelector('#cluster-workers tbody tr');
    const workers = await rest<WorkerSummary[]>('/workers');
    expect(await page.$$eval('#cluster-workers tbody tr', (trs) => trs.length)).toBe(workers.length);
    expect(await page.$eval('[data-field="slots"]', (el) => el.textContent)).toBe('2/2');
    const kinds = await page.$$eval('#cluster-executors tbody td[data-col="kind"]', (tds) => tds.map((td) => td.textContent));
    expect(kinds).toEqual(['node', 'node']);
    await page.click('#cluster-apps tbody td[data-col="name"] a');
    await page.waitForSelector('#completed-jobs tbody tr');
    expect(page.url()).toBe(`${cluster.httpUrl}/app/${fl.applicationId}/jobs`);
    expect(await page.$$eval('#completed-jobs tbody tr', (trs) => trs.length)).toBe(2);
    await page.goto(`${cluster.httpUrl}/app/${fl.applicationId}/stages/0/0`);
    await page.waitForSelector('#task-quantiles');
    expect(await page.$eval('[data-field="stage-records"]', (el) => el.textContent)).toBe(LINES.toLocaleString('en-US'));
    expect(errors).toEqual([]);
    await page.close();
  });

  it('--event-log-dir: the application’s log, complete once it stops, replays to the same jobs', async () => {
    const jobs = await rest<JobData[]>(`/applications/${fl.applicationId}/jobs`);
    await fl.stop();
    await restUntil<ApplicationInfo[]>('/applications', (a) => a[0]!.attempts[0]!.completed);
    const deadline = Date.now() + 10_000;
    while (!readdirSync(logDir).includes(fl.applicationId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(logDir)).toEqual([fl.applicationId]);
    const store = replayLog(join(logDir, fl.applicationId));
    const source = { info: () => ({ mode: 'history' as const, title: '' }), applications: () => [applicationInfo(store)], store: () => store };
    expect(routeApi(source, `/api/v1/applications/${fl.applicationId}/jobs`, new URLSearchParams()).body).toEqual(jobs);
    expect(applicationInfo(store).attempts[0]!.completed).toBe(true);
  });
});
