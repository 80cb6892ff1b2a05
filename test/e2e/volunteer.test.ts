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
import { grantWebRtc, launchChromium, type Chromium } from '../helpers/chromium.js';
import { field, linkBytes, openTab, waitForField, type Tab } from '../helpers/volunteer-tab.js';

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

async function openTabs(browser: Browser, cluster: TestCluster, n: number, query = 'cores=1', options: { noDirectLinks?: boolean } = {}): Promise<Tab[]> {
  const tabs = await Promise.all(Array.from({ length: n }, () => openTab(browser, cluster.httpUrl, `token=${cluster.token}&${query}`, options)));
  return tabs;
}

/** A click from the page's own script: puppeteer's waits for an animation frame, which a background tab never draws. */
async function press(page: Page, selector: string): Promise<void> {
  await page.$eval(selector, (e) => (e as HTMLElement).click());
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

interface VolunteerCluster {
  cluster: TestCluster;
  tabs: Tab[];
  fl: Flint;
}

/**
 * A coordinator with `nodeWorkers` Node workers and tabs opened with each of `tabQueries`, and a
 * driver, for the tests of one describe block: started before them, stopped after.
 */
function useVolunteerCluster(options: { nodeWorkers?: number; tabQueries: string[]; noDirectLinks?: boolean; appName: string; verify?: 'none' }): VolunteerCluster {
  const v = {} as VolunteerCluster;
  beforeAll(async () => {
    v.cluster = await startCluster({ workers: options.nodeWorkers ?? 0 });
    if (!options.noDirectLinks) await grantWebRtc(chromium.browser, v.cluster.httpUrl);
    v.tabs = [];
    for (const query of options.tabQueries) v.tabs.push(await openTab(chromium.browser, v.cluster.httpUrl, `token=${v.cluster.token}&${query}`, options));
    await v.cluster.waitForSlots((options.nodeWorkers ?? 0) + options.tabQueries.length);
    v.fl = await Flint.start({ master: v.cluster.url, token: v.cluster.token, appName: options.appName, ...(options.verify ? { verify: options.verify } : {}) });
  }, 120_000);
  afterAll(async () => {
    await v.fl?.stop().catch(() => undefined);
    for (const t of v.tabs ?? []) await t.page.close().catch(() => undefined);
    await v.cluster?.stop();
  });
  return v;
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
  const v = useVolunteerCluster({ tabQueries: Array(4).fill('cores=1'), appName: 'volunteers e2e' });

  it('run word count, a join and a sortByKey with results equal to local[2], blocks going tab to tab over WebRTC', async () => {
    const executors = await v.cluster.executors();
    expect(executors).toHaveLength(4);
    expect(new Set(executors.map((e) => e.workerId))).toEqual(new Set(v.tabs.map((t) => t.workerId)));
    expect(await threeJobs(v.fl)).toEqual(reference);
    let direct = 0;
    for (const tab of v.tabs) {
      const l = await linkBytes(tab);
      direct += l.direct;
      // Every channel opened: nothing needed the coordinator's relay.
      expect(l.relayed).toBe(0);
      expect(Number((await field(tab.page, 'tasks')).replace(/,/g, ''))).toBeGreaterThan(0);
      // A split's reader stops its ranged request at the line that ends the split: aborted on purpose.
      expect(tab.errors.filter((e) => !/request failed: .*\/file\?.* net::ERR_ABORTED/.test(e))).toEqual([]);
      // Every asset of the page came from the coordinator: nothing from a CDN.
      const origin = new URL(v.cluster.httpUrl).origin;
      expect(tab.assets.length).toBeGreaterThanOrEqual(3);
      expect(tab.assets.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:'))).toEqual([]);
    }
    expect(direct).toBeGreaterThan(100_000);
  });

  it('move a shuffle block larger than a data channel queues (16 MiB) tab to tab, not through the relay', async () => {
    const before = await Promise.all(v.tabs.map(linkBytes));
    const started = Date.now();
    // Each of 2 map tasks writes one 20 MiB block for each of 2 reducers.
    const n = await v.fl
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
    const after = await Promise.all(v.tabs.map(linkBytes));
    const moved = (k: 'direct' | 'relayed') => after.reduce((a, l, i) => a + l[k] - before[i]![k], 0);
    expect(moved('relayed')).toBe(0);
    expect(moved('direct')).toBeGreaterThanOrEqual(20 * 1024 * 1024);
  }, 90_000);

  it('show the application, the tasks done and the time lent', async () => {
    for (const tab of v.tabs) {
      expect(await field(tab.page, 'headline')).toMatch(/Lending 1 core to volunteers e2e/);
      expect(await field(tab.page, 'cpu')).toMatch(/^\d+(\.\d)? s$|min/);
      expect(await tab.page.$eval('[data-state]', (e) => e.getAttribute('data-state'))).toBe('connected');
    }
  });

  it('a job that needs Node fails at once with a clear error, and the cluster keeps working', async () => {
    const started = Date.now();
    const err = await v.fl
      .parallelize([1, 2, 3], 2)
      .map((x) => x + Number(process.pid > 0))
      .collect()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlintError);
    expect((err as FlintError).code).toBe('CAPABILITY_MISSING');
    expect((err as FlintError).message).toMatch(/node/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await v.fl.parallelize([1, 2, 3], 2).map((x) => x * 2).collect()).toEqual([2, 4, 6]);
  });

  it('pause lends no core, a changed count is what the coordinator sees, resume lends again', async () => {
    const tab = v.tabs[0]!;
    await press(tab.page, '[data-action=pause]');
    await waitForWorkers(v.cluster, (ws) => ws.find((w) => w.id === tab.workerId)?.cores === 0);
    expect(await tab.page.$eval('[data-state]', (e) => e.getAttribute('data-state'))).toBe('paused');
    // Work goes on without it.
    expect(await v.fl.parallelize([1, 2, 3, 4], 4).map((x) => x + 1).collect()).toEqual([2, 3, 4, 5]);
    await press(tab.page, '[data-action=pause]');
    await waitForWorkers(v.cluster, (ws) => ws.find((w) => w.id === tab.workerId)?.cores === 1);
    await press(tab.page, '[aria-label="more cores"]');
    await waitForWorkers(v.cluster, (ws) => ws.find((w) => w.id === tab.workerId)?.cores === 2);
    await press(tab.page, '[aria-label="fewer cores"]');
    await waitForWorkers(v.cluster, (ws) => ws.find((w) => w.id === tab.workerId)?.cores === 1);
  });
});

/** The coordinator's executor ids of a tab. */
async function executorsOf(cluster: TestCluster, tab: Tab): Promise<string[]> {
  return (await cluster.executors()).filter((e) => e.workerId === tab.workerId).map((e) => e.id);
}

type Event = Parameters<Parameters<Flint['events']['on']>[1]>[0];

describe('tabs that go away', () => {
  let cluster: TestCluster;
  let fl: Flint;

  beforeAll(async () => {
    cluster = await startCluster({ workers: 0 });
    await grantWebRtc(chromium.browser, cluster.httpUrl);
  });

  afterAll(async () => {
    await fl?.stop().catch(() => undefined);
    await cluster?.stop();
  });

  it('a tab closed mid-shuffle is lost within 2 s, only its map outputs are recomputed, and the result is right', async () => {
    const tabs = await openTabs(chromium.browser, cluster, 3);
    await cluster.waitForSlots(3);
    fl = await Flint.start({ master: cluster.url, token: cluster.token, appName: 'closing tabs' });
    const events: Event[] = [];
    fl.events.on('*', (e) => events.push(e));
    const data = Array.from({ length: 6000 }, (_, i) => i);
    const reduced = fl
      .parallelize(data, 6)
      .map((x) => [x % 12, x] as [number, number])
      .reduceByKey((a, b) => a + b, 6)
      .mapValues((v) => {
        const until = Date.now() + 300;
        while (Date.now() < until);
        return v;
      });
    let closedAt = Infinity;
    let victim: Tab | null = null;
    let victimExecutors: string[] = [];
    let resultStage = -1;
    fl.events.on('stageSubmitted', (s) => {
      if (s.kind === 'result') resultStage = s.stageId;
    });
    fl.events.on('taskEnd', (e) => {
      if (victim || e.stageId !== resultStage || e.status !== 'success') return;
      // Close a tab that holds map outputs and did not run the reduce task that just finished.
      const mapEnds = events.filter((t) => t.type === 'taskEnd' && t.stageId !== resultStage && t.status === 'success') as Array<{ executorId: string }>;
      void (async () => {
        const owners = await Promise.all(tabs.map(async (t) => ({ t, ids: await executorsOf(cluster, t) })));
        const candidate = owners.find((o) => !o.ids.includes(e.executorId) && mapEnds.some((m) => o.ids.includes(m.executorId)));
        if (!candidate || victim) return;
        victim = candidate.t;
        victimExecutors = candidate.ids;
        closedAt = Date.now();
        await candidate.t.page.close();
      })();
    });
    const result = await reduced.collect();
    const want = new Map<number, number>();
    for (const x of data) want.set(x % 12, (want.get(x % 12) ?? 0) + x);
    expect(new Map(result)).toEqual(want);
    await fl.events.delivered();
    expect(victim).not.toBeNull();
    const removed = events.find((e) => e.type === 'executorRemoved' && victimExecutors.includes((e as { executorId: string }).executorId)) as { time: number } | undefined;
    expect(removed).toBeDefined();
    expect(removed!.time - closedAt).toBeLessThanOrEqual(2000);
    // Only map partitions whose output lived in the closed tab ran again.
    const mapStage = (events.find((e) => e.type === 'taskEnd' && (e as { stageId: number }).stageId !== resultStage) as { stageId: number }).stageId;
    const held = new Set(
      events
        .filter((e) => e.type === 'taskEnd' && (e as { stageId: number }).stageId === mapStage && victimExecutors.includes((e as { executorId: string }).executorId))
        .map((e) => (e as { partition: number }).partition),
    );
    // Map partitions finished before the close and started again after it (a task not yet finished
    // may start elsewhere for other reasons: a copy of a straggler, a task taken over from a queue).
    const finishedBefore = new Set(
      events
        .filter((e) => e.type === 'taskEnd' && (e as { stageId: number }).stageId === mapStage && (e as { status: string }).status === 'success' && e.time <= closedAt)
        .map((e) => (e as { partition: number }).partition),
    );
    const rerun = new Set(
      events
        .filter((e) => e.type === 'taskStart' && (e as { stageId: number }).stageId === mapStage && e.time > closedAt)
        .map((e) => (e as { partition: number }).partition)
        .filter((p) => finishedBefore.has(p)),
    );
    expect(held.size).toBeGreaterThan(0);
    for (const p of rerun) expect(held).toContain(p);
    expect(rerun.size).toBeLessThan(6);
    await fl.stop();
    for (const t of tabs) await t.page.close().catch(() => undefined);
  });

  it('a tab whose volunteer presses Leave hands its shuffle outputs to another tab: the next job runs no map task', async () => {
    const tabs = await openTabs(chromium.browser, cluster, 3);
    await cluster.waitForSlots(3);
    fl = await Flint.start({ master: cluster.url, token: cluster.token, appName: 'leaving tab' });
    const events: Event[] = [];
    fl.events.on('*', (e) => events.push(e));
    const data = Array.from({ length: 3000 }, (_, i) => i);
    const want = new Map<number, number>();
    for (const x of data) want.set(x % 7, (want.get(x % 7) ?? 0) + x);
    const sums = fl.parallelize(data, 6).map((x) => [x % 7, x] as [number, number]).reduceByKey((a, b) => a + b, 3);
    expect(new Map(await sums.collect())).toEqual(want);
    await fl.events.delivered();
    const mapStage = (events.find((e) => e.type === 'stageSubmitted' && (e as { kind: string }).kind === 'shuffleMap') as { stageId: number }).stageId;
    const mapRunners = new Set(events.filter((e) => e.type === 'taskEnd' && (e as { stageId: number }).stageId === mapStage).map((e) => (e as { executorId: string }).executorId));
    const owners = await Promise.all(tabs.map(async (t) => ({ t, ids: await executorsOf(cluster, t) })));
    const leaving = owners.find((o) => o.ids.some((id) => fl.executorIds().includes(id) && mapRunners.has(id)))!;
    await leaving.t.page.$eval('[data-action=leave]', (b) => (b as HTMLButtonElement).click());
    const handedOn = await new Promise<Extract<Event, { type: 'shuffleOutputsHandedOn' }>>((resolve) => {
      const seen = events.find((e) => e.type === 'shuffleOutputsHandedOn');
      if (seen) resolve(seen as never);
      fl.events.on('shuffleOutputsHandedOn', (e) => resolve(e));
    });
    expect(leaving.ids).toContain(handedOn.executorId);
    expect(handedOn).toMatchObject({ lost: 0 });
    expect(handedOn.outputs).toBeGreaterThan(0);
    expect(owners.find((o) => o.ids.includes(handedOn.toExecutorId!))?.t).not.toBe(leaving.t);
    // Once its executors are let go, the page says the tab has left.
    await leaving.t.page.waitForSelector('[data-state=left]', { timeout: 10_000 });
    expect(await field(leaving.t.page, 'headline')).toBe('This tab has left the cluster');
    const before = events.length;
    expect(new Map(await sums.collect())).toEqual(want);
    await fl.events.delivered();
    const second = events.slice(before);
    expect(second.filter((e) => e.type === 'stageSkipped')).toHaveLength(1);
    expect(second.filter((e) => e.type === 'taskStart' && (e as { stageId: number }).stageId === mapStage)).toEqual([]);
    await fl.stop();
    for (const t of tabs) await t.page.close().catch(() => undefined);
  });

  it('a tab that goes silent (frozen) is lost within 5 s', async () => {
    const tabs = await openTabs(chromium.browser, cluster, 2);
    await waitForWorkers(cluster, (ws) => tabs.every((t) => ws.some((w) => w.id === t.workerId)));
    const frozen = tabs[0]!;
    const session = await frozen.page.createCDPSession();
    const frozenAt = Date.now();
    await session.send('Page.setWebLifecycleState', { state: 'frozen' });
    await waitForWorkers(cluster, (ws) => !ws.some((w) => w.id === frozen.workerId), 10_000);
    expect(Date.now() - frozenAt).toBeLessThanOrEqual(5000);
    expect(cluster.coordinator.output()).toMatch(new RegExp(`worker ${frozen.workerId} .* left: no heartbeat for \\d+ ms`));
    await session.send('Page.setWebLifecycleState', { state: 'active' });
    for (const t of tabs) await t.page.close().catch(() => undefined);
  });
});

describe('volunteer tabs without a direct path', () => {
  const v = useVolunteerCluster({ tabQueries: Array(3).fill('cores=1'), noDirectLinks: true, appName: 'relay only' });

  it("exchange every block through the coordinator's relay, with the same results", async () => {
    expect(await threeJobs(v.fl)).toEqual(reference);
    let relayed = 0;
    for (const tab of v.tabs) {
      const l = await linkBytes(tab);
      expect(l.direct).toBe(0);
      relayed += l.relayed;
    }
    expect(relayed).toBeGreaterThan(100_000);
  });
});

describe('volunteer tabs beside a Node worker', () => {
  // Unverified, so that a tab's outputs count (a trusted worker's copy of a tab's task would win
  // and leave the tab's own blocks unread): the blocks of every executor are then read by the others.
  const v = useVolunteerCluster({ nodeWorkers: 1, tabQueries: ['cores=1', 'cores=1'], appName: 'tabs and node', verify: 'none' });

  it('exchange blocks with the Node worker over WebRTC (node-datachannel on its side)', async () => {
    expect(await threeJobs(v.fl)).toEqual(reference);
    // Tasks long enough that each stage's first wave takes every executor's slot, whatever the
    // load: each one holds map outputs and runs a reducer, which reads every other one's.
    const spin = (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end);
    };
    const counts = await v.fl
      .range(0, 12_000, 1, 12)
      .mapPartitions((it) => (spin(150), [...it].map((i) => [i % 60, 1] as [number, number])), { env: { spin } })
      .reduceByKey((a, b) => a + b, 3)
      .mapPartitions((it) => (spin(300), it), { env: { spin } })
      .collect();
    expect(new Map(counts)).toEqual(new Map(Array.from({ length: 60 }, (_, k) => [k, 200])));
    for (const tab of v.tabs) {
      const l = await linkBytes(tab);
      expect(l.relayed).toBe(0);
      expect(l.direct).toBeGreaterThan(0);
    }
    // Both tabs hold a WebRTC link to the Node worker, besides the one between them.
    for (const tab of v.tabs) expect(Number((await field(tab.page, 'links')).match(/^(\d+) direct/)![1])).toBe(2);
  });
});

describe('lying tabs', () => {
  const v = useVolunteerCluster({ tabQueries: [...Array(4).fill('cores=1'), ...Array(3).fill('cores=1&chaos=lie=1')], appName: 'lying tabs' });

  it('3 of 7 tabs lying on every task: the results are exactly right and the 3 are excluded', async () => {
    const excluded: string[] = [];
    v.fl.events.on('executorExcluded', (e) => excluded.push(e.executorId));
    const liarExecutors = (await Promise.all(v.tabs.slice(4).map((t) => executorsOf(v.cluster, t)))).flat();
    expect(liarExecutors).toHaveLength(3);
    expect(await threeJobs(v.fl)).toEqual(reference);
    await v.fl.events.delivered();
    expect(new Set(excluded)).toEqual(new Set(liarExecutors));
    // The page says what it is doing.
    expect(await v.tabs[4]!.page.$eval('.detail.warn', (e) => e.textContent)).toMatch(/Misbehaving on purpose .*lie=1/);
  }, 120_000);
});

describe('what the page says', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startCluster({ workers: 0 });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('a wrong token: not allowed, and why; nothing joins', async () => {
    const page = await chromium.browser.newPage();
    await page.goto(`${cluster.httpUrl}/volunteer?token=not-the-token`);
    await waitForField(page, 'headline', /could not join/);
    expect(await page.$eval('[data-state]', (e) => e.getAttribute('data-state'))).toBe('refused');
    expect(await field(page, 'detail')).toMatch(/refused the token/);
    // The secret does not stay in the address bar.
    expect(page.url()).not.toMatch(/token/);
    await page.goto(`${cluster.httpUrl}/volunteer`);
    await waitForField(page, 'detail', /no token/);
    const res = await fetch(`${cluster.httpUrl}/api/v1/workers`, { headers: { authorization: `Bearer ${cluster.token}` } });
    expect(await res.json()).toEqual([]);
    await page.close();
  });

  it('reconnects when the coordinator comes back', async () => {
    const port = new URL(cluster.httpUrl).port;
    const tab = await openTab(chromium.browser, cluster.httpUrl, `token=${cluster.token}&cores=1`);
    cluster.coordinator.child.kill('SIGKILL');
    await cluster.coordinator.exited;
    await waitForField(tab.page, 'detail', /went away|cannot be reached|closed/);
    expect(await tab.page.$eval('[data-state]', (e) => e.getAttribute('data-state'))).toBe('reconnecting');
    const again = startProcess([flintBin, 'serve', '--port', port, '--token', cluster.token]);
    try {
      await again.waitFor(new RegExp(`worker ${tab.workerId} joined`), 30_000);
      await waitForField(tab.page, 'headline', /Ready to lend 1 core/);
      expect(await tab.page.$eval('[data-state]', (e) => e.getAttribute('data-state'))).toBe('connected');
    } finally {
      again.child.kill('SIGKILL');
      await again.exited;
      await tab.page.close();
    }
  });
});
