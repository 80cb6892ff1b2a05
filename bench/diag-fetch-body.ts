/**
 * How fast a Chromium page takes a fetch body (not part of `npm run bench:volunteer`):
 * node scripts/run-ts.mjs bench/diag-fetch-body.ts [MB] [rounds]
 * A local server sends the same bytes cacheable (an ETag, no Cache-Control) or with
 * `Cache-Control: no-store`; the page reads each body with a default reader and with a BYOB reader.
 * Why http-source.ts asks `cache: 'no-store'`: Chromium writing a cacheable body to its disk cache
 * hands it over at about half the rate.
 */
import { createServer } from 'node:http';
import { launchChromium } from '../test/helpers/chromium.js';

const mb = Number(process.argv[2] ?? 50);
const rounds = Number(process.argv[3] ?? 3);
const body = Buffer.alloc(mb * 1_000_000, 97);
let served = 0;
const server = createServer((req, res) => {
  if (req.url === '/') {
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><title>fetch body</title>');
    return;
  }
  // A new URL each time, so that nothing is served from the cache.
  if (req.url!.startsWith('/no-store')) res.setHeader('cache-control', 'no-store');
  res.setHeader('etag', `"${served++}"`);
  res.setHeader('content-length', String(body.length));
  res.end(body);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as { port: number }).port;
const chromium = await launchChromium({});
try {
  const page = await chromium.browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  const lines = await page.evaluate(async (rounds: number) => {
    const out: string[] = [];
    let n = 0;
    const read = async (path: string, byob: boolean) => {
      const t = performance.now();
      const res = await fetch(`${path}?${n++}`);
      let bytes = 0;
      let reads = 0;
      if (byob) {
        const reader = res.body!.getReader({ mode: 'byob' });
        let buf = new Uint8Array(1 << 20);
        for (;;) {
          const { done, value } = await reader.read(buf);
          if (done || !value) break;
          bytes += value.length;
          reads++;
          buf = new Uint8Array(value.buffer);
        }
      } else {
        const reader = res.body!.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          bytes += value.length;
          reads++;
        }
      }
      return `${path.slice(1)}${byob ? ', BYOB' : ''}: ${bytes} bytes in ${reads} reads, ${(performance.now() - t).toFixed(0)} ms`;
    };
    for (let r = 0; r < rounds; r++) {
      for (const path of ['/cacheable', '/no-store']) for (const byob of [false, true]) out.push(`round ${r + 1}, ${await read(path, byob)}`);
    }
    return out;
  }, rounds);
  console.log(lines.join('\n'));
} finally {
  await chromium.close();
  server.close();
}
