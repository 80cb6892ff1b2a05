// A small static HTTP server for tests, run as its own process: planning asks URLs synchronously
// (the driver's thread sleeps meanwhile), so the server must not live in the test's thread. It is
// written independently of Flint's file server, to test the HTTP reader against another server.
//   /r/NAME  honours single `Range` requests (206, Accept-Ranges, ETag, Last-Modified)
//   /n/NAME  ignores `Range`: always 200 with the whole file, no Accept-Ranges, no validators
//   /c/NAME  like /n but chunked: no Content-Length
//   /h/NAME  like /r but HEAD is not allowed (405)
// Usage: node static-server.mjs DIR; prints the port on its first line of stdout.
import { createServer } from 'node:http';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const server = createServer((req, res) => {
  const m = /^\/([rnch])\/([^/]+)$/.exec(new URL(req.url, 'http://x').pathname);
  if (!m) return end(res, 404);
  const [, mode, name] = m;
  let bytes;
  let st;
  try {
    st = statSync(join(dir, decodeURIComponent(name)));
    bytes = readFileSync(join(dir, decodeURIComponent(name)));
  } catch {
    return end(res, 404);
  }
  if (mode === 'h' && req.method === 'HEAD') return end(res, 405);
  const ranged = mode === 'r' || mode === 'h';
  if (ranged) {
    res.setHeader('accept-ranges', 'bytes');
    res.setHeader('etag', `"${bytes.length}-${st.mtimeMs}"`);
    res.setHeader('last-modified', st.mtime.toUTCString());
  }
  let body = bytes;
  const range = req.headers.range;
  if (ranged && range) {
    const r = /^bytes=(\d*)-(\d*)$/.exec(range);
    let start = r && r[1] !== '' ? Number(r[1]) : NaN;
    let last = r && r[2] !== '' ? Number(r[2]) : bytes.length - 1;
    if (r && r[1] === '' && r[2] !== '') {
      start = Math.max(0, bytes.length - Number(r[2]));
      last = bytes.length - 1;
    }
    if (!r || !(start < bytes.length) || last < start) {
      res.setHeader('content-range', `bytes */${bytes.length}`);
      return end(res, 416);
    }
    last = Math.min(last, bytes.length - 1);
    res.statusCode = 206;
    res.setHeader('content-range', `bytes ${start}-${last}/${bytes.length}`);
    body = bytes.subarray(start, last + 1);
  }
  if (mode !== 'c') res.setHeader('content-length', String(body.length));
  if (req.method === 'HEAD') return res.end();
  if (mode === 'c') {
    // Two writes, so that the body really arrives in chunks.
    res.write(body.subarray(0, body.length >> 1));
    return res.end(body.subarray(body.length >> 1));
  }
  res.end(body);
});

function end(res, status) {
  res.statusCode = status;
  res.end();
}

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on('disconnect', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
