/**
 * Real browser volunteers for benches: a `flint serve` coordinator (with or without `flint
 * worker`s) and headless Debian Chromium tabs opened on its /volunteer page, as the e2e tests'
 * useVolunteerCluster does (test/e2e/volunteer.test.ts), without vitest's hooks.
 */
import type { Browser, Page } from 'puppeteer-core';
import { startCluster, type TestCluster } from '../../test/cluster/harness.js';
import { grantWebRtc } from '../../test/helpers/chromium.js';

export interface Tab {
  page: Page;
  workerId: string;
  /** Console errors and uncaught exceptions of the page. */
  errors: string[];
}

export interface TabOptions {
  /**
   * A network where no direct path exists: ICE may only use TURN relays and there are none, so no
   * data channel opens and every block goes through the coordinator's relay.
   */
  noDirectLinks?: boolean;
}

async function field(page: Page, name: string): Promise<string> {
  return page.$eval(`[data-field=${name}]`, (e) => e.textContent ?? '');
}

async function waitForField(page: Page, name: string, pattern: RegExp, ms = 30_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const text = await field(page, name).catch(() => '');
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`[data-field=${name}] is "${text}", never matched ${pattern}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Opens `/volunteer?token=...&query` on the coordinator and waits until the tab has joined. */
export async function openTab(browser: Browser, cluster: TestCluster, query: string, options: TabOptions = {}): Promise<Tab> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${(e as Error).message}`));
  if (options.noDirectLinks) {
    await page.evaluateOnNewDocument(() => {
      const Native = window.RTCPeerConnection;
      window.RTCPeerConnection = class extends Native {
        constructor(config?: RTCConfiguration) {
          super({ ...config, iceTransportPolicy: 'relay' });
        }
      };
    });
  }
  await page.goto(`${cluster.httpUrl}/volunteer?token=${cluster.token}${query ? `&${query}` : ''}`);
  await waitForField(page, 'headline', /Ready to lend|Lending/);
  const workerId = await field(page, 'worker-id');
  return { page, workerId, errors };
}

/** Block bytes the tab's links carried, in and out: over direct data channels and through the relay. */
export async function linkBytes(tab: Tab): Promise<{ direct: number; relayed: number }> {
  return tab.page.$eval('[data-field=links]', (e) => ({ direct: Number((e as HTMLElement).dataset.directBytes), relayed: Number((e as HTMLElement).dataset.relayedBytes) }));
}

export interface VolunteerCluster {
  cluster: TestCluster;
  tabs: Tab[];
  /** Opens one more tab on this coordinator. */
  addTab(query: string): Promise<Tab>;
  /** The coordinator's executor ids of a tab. */
  executorsOf(tab: Tab): Promise<string[]>;
  stop(): Promise<void>;
}

/** A coordinator with `nodeWorkers` `flint worker --cores 1` processes and one tab per entry of `tabQueries`. */
export async function startVolunteerCluster(
  browser: Browser,
  options: { tabQueries: string[]; nodeWorkers?: number; workerEnv?: Record<string, string>; noDirectLinks?: boolean },
): Promise<VolunteerCluster> {
  const cluster = await startCluster({ workers: options.nodeWorkers ?? 0, cores: 1, ...(options.workerEnv ? { workerEnv: options.workerEnv } : {}) });
  const tabs: Tab[] = [];
  try {
    if (!options.noDirectLinks) await grantWebRtc(browser, cluster.httpUrl);
    for (const q of options.tabQueries) tabs.push(await openTab(browser, cluster, q, options));
    await cluster.waitForSlots((options.nodeWorkers ?? 0) + options.tabQueries.length, 60_000);
  } catch (err) {
    for (const t of tabs) await t.page.close().catch(() => undefined);
    await cluster.stop();
    throw err;
  }
  return {
    cluster,
    tabs,
    async addTab(query) {
      const tab = await openTab(browser, cluster, query, options);
      tabs.push(tab);
      return tab;
    },
    async executorsOf(tab) {
      return (await cluster.executors()).filter((e) => e.workerId === tab.workerId).map((e) => e.id);
    },
    async stop() {
      for (const t of tabs) await t.page.close().catch(() => undefined);
      await cluster.stop();
    },
  };
}
