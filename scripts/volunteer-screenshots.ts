/**
 * Screenshots of the volunteer page's states for docs/screenshots:
 * `node scripts/run-ts.mjs scripts/volunteer-screenshots.ts` (after `npm run build`). A real
 * `flint serve`, real tabs in Debian's Chromium and a real job: a tab at work (and one lending two
 * cores), paused, refused for a wrong token, and waiting for a coordinator that went away.
 */
import { Flint } from 'flint';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { startProcess, flintBin } from '../test/cluster/harness.js';
import { grantWebRtc, launchChromium } from '../test/helpers/chromium.js';

// run-ts.mjs bundles this file elsewhere; argv[1] is where it really is.
const root = join(dirname(process.argv[1]!), '..');
const out = join(root, 'docs', 'screenshots');
mkdirSync(out, { recursive: true });
const token = 'screenshot-token';
const serve = startProcess([flintBin, 'serve', '--port', '0', '--token', token]);
const [, httpUrl] = await serve.waitFor(/dashboard:\s+(http:\/\/[^/\s]+)/);
const [, master] = await serve.waitFor(/cluster:\s+(flint:\/\/\S+)/);
const chromium = await launchChromium({ webRtc: true });
await grantWebRtc(chromium.browser, httpUrl!);

async function tab(query: string): Promise<Page> {
  const page = await chromium.browser.newPage();
  await page.setViewport({ width: 1100, height: 760 });
  await page.goto(`${httpUrl}/volunteer?${query}`);
  return page;
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.bringToFront();
  await new Promise((r) => setTimeout(r, 300));
  await page.screenshot({ path: join(out, `${name}.png`) });
  console.log(`docs/screenshots/${name}.png`);
}

async function until(page: Page, selector: string, pattern: RegExp): Promise<void> {
  await page.waitForFunction((s, p) => new RegExp(p).test(document.querySelector(s)?.textContent ?? ''), { timeout: 30_000 }, selector, pattern.source);
}

let fl: Flint | null = null;
try {
  const working = await tab(`token=${token}&cores=1`);
  const second = await tab(`token=${token}&cores=2`);
  await until(second, '[data-field=headline]', /Ready to lend/);
  fl = await Flint.start({ master: master!, token, appName: 'word count' });
  // A job long enough to photograph: word counts over the sample text, then a slow pass over them.
  await fl
    .textFile(join(root, 'data', 'sample.txt'), 8)
    .flatMap((l) => l.split(/\s+/))
    .map((w) => [w, 1] as [string, number])
    .reduceByKey((a, b) => a + b, 4)
    .count();
  const slow = fl.parallelize(Array.from({ length: 24 }, (_, i) => i), 24).map((i) => {
    const until = Date.now() + 1500;
    while (Date.now() < until);
    return i;
  });
  const running = slow.collect();
  await until(working, '[data-field=busy]', /^1/);
  await new Promise((r) => setTimeout(r, 1500));
  await working.$eval('details', (d) => ((d as HTMLDetailsElement).open = true));
  await shoot(working, 'volunteer-working');
  await running;

  await working.$eval('[data-action=pause]', (e) => (e as HTMLElement).click());
  await until(working, '[data-state]', /Paused/);
  await shoot(working, 'volunteer-paused');

  const refused = await tab('token=not-the-token');
  await until(refused, '[data-field=headline]', /could not join/);
  await shoot(refused, 'volunteer-refused');

  await fl.stop();
  fl = null;
  serve.child.kill('SIGKILL');
  await serve.exited;
  await until(second, '[data-state]', /Reconnecting/);
  await shoot(second, 'volunteer-reconnecting');
} finally {
  await fl?.stop().catch(() => undefined);
  serve.child.kill('SIGKILL');
  await chromium.close();
}
