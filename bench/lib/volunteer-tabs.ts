/**
 * Real browser volunteers for benches: a `flint serve` coordinator (with or without `flint
 * worker`s) and headless Debian Chromium tabs opened on its /volunteer page, as the e2e tests'
 * useVolunteerCluster does (test/e2e/volunteer.test.ts), without vitest's hooks.
 */
import type { Browser } from 'puppeteer-core';
import { startCluster, type TestCluster } from '../../test/cluster/harness.js';
import { grantWebRtc } from '../../test/helpers/chromium.js';
import { openTab, type Tab } from '../../test/helpers/volunteer-tab.js';

export { linkBytes, type Tab } from '../../test/helpers/volunteer-tab.js';

/** A tab on `cluster`'s volunteer page, with its token; joining may take long on a loaded machine. */
function openClusterTab(browser: Browser, cluster: TestCluster, query: string, options: { noDirectLinks?: boolean }): Promise<Tab> {
  return openTab(browser, cluster.httpUrl, `token=${cluster.token}${query ? `&${query}` : ''}`, options, 30_000);
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
    for (const q of options.tabQueries) tabs.push(await openClusterTab(browser, cluster, q, options));
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
      const tab = await openClusterTab(browser, cluster, query, options);
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
