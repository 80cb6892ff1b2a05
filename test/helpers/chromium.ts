/**
 * Debian's Chromium for browser tests and screenshots, driven by puppeteer-core (which never
 * downloads a browser). `.ci/run` installs the package; flags and the HOME/XDG redirection are
 * those NOTES.md found necessary on this machine: Chromium writes under $HOME even with a fresh
 * profile, so it gets a temporary one of its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface Chromium {
  browser: Browser;
  close(): Promise<void>;
}

export interface ChromiumOptions {
  /**
   * Loopback-only WebRTC (NOTES.md): ICE on 127.0.0.1 without mDNS names. Tabs of an origin also
   * need camera and microphone permission (grantWebRtc) or they gather no candidates on a host
   * without a default route.
   */
  webRtc?: boolean;
}

export async function launchChromium(options: ChromiumOptions = {}): Promise<Chromium> {
  const home = mkdtempSync(join(tmpdir(), 'flint-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows',
      `--user-data-dir=${join(home, 'profile')}`,
      ...(options.webRtc ? ['--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns'] : []),
    ],
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache'), XDG_DATA_HOME: join(home, '.local/share') },
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** See ChromiumOptions.webRtc. */
export async function grantWebRtc(browser: Browser, origin: string): Promise<void> {
  await browser.defaultBrowserContext().overridePermissions(origin, ['camera', 'microphone']);
}

/** Console errors, failed requests and uncaught exceptions of a page, for "no console errors". */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${(e as Error).message}`));
  page.on('requestfailed', (r) => {
    // EventSource connections are aborted when a page navigates or closes: not an error.
    if (!r.url().endsWith('/live')) errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return errors;
}
