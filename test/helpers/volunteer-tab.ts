/**
 * A browser tab on a coordinator's /volunteer page, for the e2e tests and bench:volunteer: opened
 * in Debian's Chromium, read through the page's `data-field` elements, optionally on a network
 * where no direct WebRTC path exists.
 */
import type { Browser, Page } from 'puppeteer-core';
import { watchErrors } from './chromium.js';

export interface Tab {
  page: Page;
  /** The worker id the page shows (the coordinator's name for this tab). */
  workerId: string;
  /** Console errors, uncaught exceptions, failed requests of the page. */
  errors: string[];
  /** Documents, scripts, stylesheets, images and fonts the page loaded. */
  assets: string[];
}

export interface TabOptions {
  /**
   * A network where no direct path exists: ICE may only use TURN relays and there are none, so no
   * data channel opens and every block goes through the coordinator's relay.
   */
  noDirectLinks?: boolean;
}

export async function field(page: Page, name: string): Promise<string> {
  return page.$eval(`[data-field=${name}]`, (e) => e.textContent ?? '');
}

export async function waitForField(page: Page, name: string, pattern: RegExp, ms = 15_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const text = await field(page, name).catch(() => '');
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`[data-field=${name}] is "${text}", never matched ${pattern}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Opens `httpUrl/volunteer?query` (query carries the token, or deliberately not) and waits until the tab has joined. */
export async function openTab(browser: Browser, httpUrl: string, query: string, options: TabOptions = {}, joinMs = 15_000): Promise<Tab> {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  const assets: string[] = [];
  page.on('request', (r) => {
    if (['document', 'script', 'stylesheet', 'image', 'font'].includes(r.resourceType())) assets.push(r.url());
  });
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
  await page.goto(`${httpUrl}/volunteer?${query}`);
  await waitForField(page, 'headline', /Ready to lend|Lending/, joinMs);
  const workerId = await field(page, 'worker-id');
  return { page, errors, assets, workerId };
}

/** Block bytes the tab's links carried, in and out: over direct data channels and through the relay. */
export async function linkBytes(tab: Tab): Promise<{ direct: number; relayed: number }> {
  return tab.page.$eval('[data-field=links]', (e) => ({ direct: Number((e as HTMLElement).dataset.directBytes), relayed: Number((e as HTMLElement).dataset.relayedBytes) }));
}
