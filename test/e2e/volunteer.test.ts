// Browser volunteers in Debian's Chromium: tabs open /volunteer on a coordinator that has no Node
// worker and run word count, a join and a sortByKey with their shuffles tab to tab over WebRTC data
// channels, or through the coordinator's relay when no channel opens; tabs that close, go silent or
// lie; and what the page tells the person whose browser it is.
import { Flint, FlintError } from 'flint';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, startCluster, startProcess, flintBin, type TestCluster } from '../cluster/harness.js';
import { grantWebRtc, launchChromium, watchErrors, type Chromium } from '../helpers/chromium.js';

const SAMPLE = join(root, 'data', 'sample.txt');

interface Answers {
  words: Array<[string, number]>;
  joined: Array<[number, [string, number]]>;
  sorted: Array<[number, number]>;
}

/** The three jobs of issue 9, each with a shuffle; results in an order that does not depend on placement. */
async function threeJobs(fl: Flint): Promise<Answers> {
  const words = await fl
    .textFile(SAMPLE, 8)
    .flatMap((l) => l.split(/\s+/))
    .filter((w) => w.length > 0)
    .map((w) => [w, 1] as [string, number])
    .reduceByKey((a, b) => a + b, 4)
    .collect();
  words.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const users = fl.parallelize(Array.from({ length: 500 }, (_, i) => [i, `user${i}`] as [number, string]), 4);
  const orders = fl.parallelize(Array.from({ length: 3000 }, (_, i) => [(i * 7) % 600, i] as [number, number]), 6);
  const joined = await users.join(orders, 4).collect();
  joined.sort((a, b) => a[0] - b[0] || a[1][1] - b[1][1]);
  let seed = 42;
  const keys = Array.from({ length: 20_000 }, (_, i) => [(seed = (seed * 1103515245 + 12345) % 2 ** 31), i] as [number, number]);
  // Order is the answer here: sortByKey's output is collected as it comes, partition after partition.
  const sorted = await fl.parallelize(keys, 8).sortByKey(true, 4).collect();
  return { words, joined, sorted };
}

/** Word counts computed here, without Flint. */
function plainWordCount(): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const line of readFileSync(SAMPLE, 'utf8').split('\n')) for (const w of line.split(/\s+/)) if (w) counts.set(w, (counts.get(w) ?? 0) + 1);
  return [...counts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

interface Tab {
  page: Page;
  errors: string[];
  /** The assets the page loaded (documents, scripts, styles, images, fonts). */
  assets: string[];
  workerId: string;
}

async function field(page: Page, name: string): Promise<string> {
  return page.$eval(`[data-field=${name}]`, (e) => e.textContent ?? '');
}

async function waitForField(page: Page, name: string, pattern: RegExp, ms = 15_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const text = await field(page, name).catch(() => '');
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`[data-field=${name}] is "${text}", never matched ${pattern}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function openTab(browser: Browser, httpUrl: string, query: string, options: { noDirectLinks?: boolean } = {}): Promise<Tab> {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  const assets: string[] = [];
  page.on('request', (r) => {
    if (['document', 'script', 'stylesheet', 'image', 'font'].includes(r.resourceType())) assets.push(r.url());
  });
  if (options.noDirectLinks) {
    // A network where no direct path exists: ICE may only use TURN relays, and there are none, so
    // no data channel ever opens and the page must fall back to the coordinator's relay.
    await page.evaluateOnNewDocument(() => {
      const Native = window.RTCPeerConnection;
      window.RTCPeerConnection = class extends Native {
        constructor(config?: RTCConfiguration) {
          super({ ...config, iceTransportPolicy: 'relay' });
        }
      };
    });
  }
  await page.goto(`${httpUrl}/volunteer?${query}`);
  await waitForField(page, 'headline', /Ready to lend|Lending/);
  const workerId = await field(page, 'worker-id');
  return { page, errors, assets, workerId };
}

async function openTabs(browser: Browser, cluster: TestCluster, n: number, query = 'cores=1', options: { noDirectLinks?: boolean } = {}): Promise<Tab[]> {
  const tabs = await Promise.all(Array.from({ length: n }, () => openTab(browser, cluster.httpUrl, `token=${cluster.token}&${query}`, options)));
  return tabs;
}

/** A click from the page's own script: puppeteer's waits for an animation frame, which a background tab never draws. */
async function press(page: Page, selector: string): Promise<void> {
  await page.$eval(selector, (e) => (e as HTMLElement).click());
}

async function links(tab: Tab): Promise<{ direct: number; relayed: number }> {
  return tab.page.$eval('[data-field=links]', (e) => ({ direct: Number((e as HTMLElement).dataset.directBytes), relayed: Number((e as HTMLElement).dataset.relayedBytes) }));
}

async function waitForWorkers(cluster: TestCluster, predicate: (workers: Array<{ id: string; cores: number }>) => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const res = await fetch(`${cluster.httpUrl}/api/v1/workers`, { headers: { authorization: `Bearer ${cluster.token}` } });
    const workers = (await res.json()) as Array<{ id: string; cores: number }>;
    if (predicate(workers)) return;
    if (Date.now() > deadline) throw new Error(`the coordinator's workers never matched: ${JSON.stringify(workers)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let chromium: Chromium;
let reference: Answers;

beforeAll(async () => {
  chromium = await launchChromium({ webRtc: true });
  const local = await Flint.start({ master: 'local[2]' });
  try {
    reference = await threeJobs(local);
  } finally {
    await local.stop();
  }
  expect(reference.words).toEqual(plainWordCount());
}, 120_000);

afterAll(async () => {
  await chromium?.close();
});

describe('volunteer tabs on a coordinator without Node workers', () => {
  let cluster: TestCluster;
  let tabs: Tab[];
  let fl: Flint;

  beforeAll(async () => {
    cluster = await startCluster({ workers: 0 });
    await grantWebRtc(chromium.browser, cluster.httpUrl);
    tabs = await openTabs(chromium.browser, cluster, 4);
    await cluster.waitForSlots(4);
    fl = await Flint.start({ master: cluster.url, token: cluster.token, appName: 'volunteers e2e' });
  });

  afterAll(async () => {
    await fl?.stop().catch(() => undefined);
    for (const t of tabs ?? []) await t.page.close().catch(() => undefined);
    await cluster?.stop();
  });

  it('run word count, a join and a sortByKey with results equal to local[2], blocks going tab to tab over WebRTC', async () => {
    const executors = await cluster.executors();
    expect(executors).toHaveLength(4);
    expect(new Set(executors.map((e) => e.workerId))).toEqual(new Set(tabs.map((t) => t.workerId)));
    expect(await threeJobs(fl)).toEqual(reference);
    let direct = 0;
    for (const tab of tabs) {
      const l = await links(tab);
      direct += l.direct;
      // Every channel opened: nothing needed the coordinator's relay.
      expect(l.relayed).toBe(0);
      expect(Number((await field(tab.page, 'tasks')).replace(/,/g, ''))).toBeGreaterThan(0);
      // A split's reader stops its ranged request at the line that ends the split: aborted on purpose.
      expect(tab.errors.filter((e) => !/request failed: .*\/file\?.* net::ERR_ABORTED/.test(e))).toEqual([]);
      // Every asset of the page came from the coordinator: nothing from a CDN.
      const origin = new URL(cluster.httpUrl).origin;
      expect(tab.assets.length).toBeGreaterThanOrEqual(3);
      expect(tab.assets.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:'))).toEqual([]);
    }
    expect(direct).toBeGreaterThan(100_000);
  });

  it('move a shuffle block larger than a data channel queues (16 MiB) tab to tab, not through the relay', async () => {
    const before = await Promise.all(tabs.map(links));
    const started = Date.now();
    // Each of 2 map tasks writes one 20 MiB block for each of 2 reducers.
    const n = await fl
      .parallelize([0, 1], 2)
      .flatMap(() => {
        const out: Array<[number, Uint8Array]> = [];
        for (let r = 0; r < 2; r++) for (let i = 0; i < 320; i++) out.push([r, new Uint8Array(65536).fill(i & 255)]);
        return out;
      })
      .partitionBy(2, (k: number) => k)
      .count();
    expect(n).toBe(1280);
    // Before the data channels paced their frames, the 17th MiB made Chromium refuse the send: the
    // fetch waited out its two-minute timeout, then everything went through the relay.
    expect(Date.now() - started).toBeLessThan(60_000);
    const after = await Promise.all(tabs.map(links));
    const moved = (k: 'direct' | 'relayed') => after.reduce((a, l, i) => a + l[k] - before[i]![k], 0);
    expect(moved('relayed')).toBe(0);
    expect(moved('direct')).toBeGreaterThanOrEqual(20 * 1024 * 1024);
  }, 90_000);

  it('show the application, the tasks done and the time lent', async () => {
    for (const tab of tabs) {
      expect(await field(tab.page, 'headline')).toMatch(/Lending 1 core to volunteers e2e/);
      expect(await field(tab.page, 'cpu')).toMatch(/^\d+(\.\d)? s$|min/);
      expect(await tab.page.$eval('[data-state]', (e) => e.getAttribute('data-state'))).toBe('connected');
    }
  });

  it('a job that needs Node fails at once with a clear error, and the cluster keeps working', async () => {
    const started = Date.now();
    const err = await fl
      .parallelize([1, 2, 3], 2)
      .map((x) => x + Number(process.pid > 0))
      .collect()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlintError);
    expect((err as FlintError).code).toBe('CAPABILITY_MISSING');
    expect((err as FlintError).message).toMatch(/node/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await fl.parallelize([1, 2, 3], 2).map((x) => x * 2).collect()).toEqual([2, 4, 6]);
  });

  it('pause lends no core, a changed count is what the coordinator sees, resume lends again', async () => {
    const tab = tabs[0]!;
    await press(tab.page, '[data-action=pause]');
    await waitForWorkers(cluster, (ws) => ws.find((w) => w.id === tab.workerId)?.cores === 0);
    expect(await tab.page.$eval('[data-state]', (e) => e.getAttribute('data-state'))).toBe('paused');
    // Work goes on without it.
    expect(await fl.parallelize([1, 2, 3, 4], 4).map((x) => x + 1).collect()).toEqual([2, 3, 4, 5]);
    await press(tab.page, '[data-action=pause]');
    await waitForWorkers(cluster, (ws) => ws.find((w) => w.id === tab.workerId)?.cores === 1);
    await press(tab.page, '[aria-label="more cores"]');
    await waitForWorkers(cluster, (ws) => ws.find((w) => w.id === tab.workerId)?.cores === 2);
    await press(tab.page, '[aria-label="fewer cores"]');
    await waitForWorkers(cluster, (ws) => ws.find((w) => w.id === tab.workerId)?.cores === 1);
  });
});
