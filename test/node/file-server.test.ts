import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveDriverFiles, type FileServer } from '../../host/node/file-server.js';
import { NodeDriverPlatform } from '../../host/node/node-platform.js';

let root: string;
let platform: NodeDriverPlatform;
let server: FileServer;
const logged: string[] = [];
let logWaiters: Array<{ part: string; resolve: (line: string) => void }> = [];

function log(line: string): void {
  logged.push(line);
  for (const w of logWaiters.filter((x) => line.includes(x.part))) w.resolve(line);
  logWaiters = logWaiters.filter((x) => !line.includes(x.part));
}

/** Resolves with the next log line containing `part`: the server's own signal that it is done. */
function nextLog(part: string): Promise<string> {
  return new Promise((resolve) => logWaiters.push({ part, resolve }));
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'flint-file-server-'));
  platform = new NodeDriverPlatform();
  server = await serveDriverFiles(platform.grants, { log });
});
afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

const auth = () => ({ authorization: `Bearer ${server.secret}` });
const fileUrl = (path: string) => `${server.url}/file?path=${encodeURIComponent(path)}`;
let counter = 0;
function plannedFile(content: string | Uint8Array): string {
  const path = join(root, `in-${counter++}.txt`);
  writeFileSync(path, content);
  platform.planTextSplits(path, 1);
  return path;
}

describe('file server: who may ask', () => {
  it('binds 127.0.0.1 on a free port and has a secret of at least 256 bits', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Buffer.from(server.secret, 'base64url').length).toBeGreaterThanOrEqual(32);
    expect(server.driverMachineId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('answers 401 without the bearer secret, with a wrong one or another scheme, and logs why', async () => {
    const path = plannedFile('secret data\n');
    for (const headers of [{}, { authorization: `Bearer ${server.secret}x` }, { authorization: `Basic ${server.secret}` }, { authorization: server.secret }] as Array<Record<string, string>>) {
      const res = await fetch(fileUrl(path), { headers });
      expect(res.status).toBe(401);
      expect(await res.text()).not.toContain('secret data');
    }
    expect(logged.some((l) => l.includes('401') || l.includes('bearer token'))).toBe(true);
    // Even an unknown endpoint says nothing to a stranger.
    expect((await fetch(`${server.url}/nothing`)).status).toBe(401);
    expect((await fetch(fileUrl(path), { headers: auth() })).status).toBe(200);
  });

  it('serves only files the application planned or checkpointed', async () => {
    const unplanned = join(root, 'unplanned.txt');
    writeFileSync(unplanned, 'x\n');
    const res = await fetch(fileUrl(unplanned), { headers: auth() });
    expect(res.status).toBe(403);
    expect(logged.at(-1)).toContain('not a file this application named');
    expect((await fetch(fileUrl('/etc/passwd'), { headers: auth() })).status).toBe(403);
    expect((await fetch(`${server.url}/file`, { headers: auth() })).status).toBe(400);
    expect((await fetch(`${server.url}/other?path=${encodeURIComponent(unplanned)}`, { headers: auth() })).status).toBe(404);
    expect((await fetch(fileUrl(unplanned), { method: 'DELETE', headers: auth() })).status).toBe(405);
  });

  it('refuses traversal: "..", unnormalized and relative paths, and symlinks leading out', async () => {
    const path = plannedFile('inside\n');
    for (const bad of [`${root}/../${root.split('/').pop()}/in-0.txt`, `${root}//in-0.txt`, `${root}/./in-0.txt`, 'in-0.txt', `${path}\0`]) {
      const res = await fetch(fileUrl(bad), { headers: auth() });
      expect(res.status, bad).toBe(403);
    }
    expect(logged.some((l) => l.includes('path traversal (..)'))).toBe(true);

    // A checkpoint directory may be read below, but a link inside it must not lead elsewhere.
    const cp = platform.makeCheckpointDir(join(root, 'cp-read'));
    writeFileSync(join(cp, 'part-00000'), 'checkpointed');
    const outside = join(root, 'outside.txt');
    writeFileSync(outside, 'not yours');
    symlinkSync(outside, join(cp, 'part-00001'));
    expect(await (await fetch(fileUrl(join(cp, 'part-00000')), { headers: auth() })).text()).toBe('checkpointed');
    const escaped = await fetch(fileUrl(join(cp, 'part-00001')), { headers: auth() });
    expect(escaped.status).toBe(403);
    expect(logged.at(-1)).toContain('symlink leads outside');

    // A planned input replaced by a link after planning is not the file that was planned.
    const swapped = plannedFile('planned\n');
    rmSync(swapped);
    symlinkSync(outside, swapped);
    expect((await fetch(fileUrl(swapped), { headers: auth() })).status).toBe(403);
    expect(logged.at(-1)).toContain('now resolves to');
  });

  it('survives malformed requests and keeps serving', async () => {
    const path = plannedFile('still here\n');
    await new Promise<void>((resolve) => {
      const socket = connect(Number(new URL(server.url).port), '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n\x00\xff'));
      socket.on('close', () => resolve());
      socket.on('error', () => undefined);
      socket.resume();
    });
    const weird = await fetch(`${server.url}/file?path=%E0%A4%A`, { headers: auth() });
    expect(weird.status).toBeGreaterThanOrEqual(400);
    expect(await (await fetch(fileUrl(path), { headers: auth() })).text()).toBe('still here\n');
  });
});

describe('file server: ranges', () => {
  const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 256);
  let path: string;
  beforeAll(() => {
    path = plannedFile(bytes);
  });

  it('answers a range with 206, Content-Range and exactly those bytes', async () => {
    const res = await fetch(fileUrl(path), { headers: { ...auth(), range: 'bytes=10-19' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 10-19/1000');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes.subarray(10, 20));

    const open = await fetch(fileUrl(path), { headers: { ...auth(), range: 'bytes=990-' } });
    expect(open.headers.get('content-range')).toBe('bytes 990-999/1000');
    expect(new Uint8Array(await open.arrayBuffer())).toEqual(bytes.subarray(990));
    const suffix = await fetch(fileUrl(path), { headers: { ...auth(), range: 'bytes=-5' } });
    expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(bytes.subarray(995));
    const past = await fetch(fileUrl(path), { headers: { ...auth(), range: 'bytes=995-5000' } });
    expect(past.headers.get('content-range')).toBe('bytes 995-999/1000');
  });

  it('answers 416 with the size to an unsatisfiable or malformed range', async () => {
    for (const range of ['bytes=1000-', 'bytes=5000-6000', 'bytes=x-y', 'items=0-1']) {
      const res = await fetch(fileUrl(path), { headers: { ...auth(), range } });
      expect(res.status, range).toBe(416);
      expect(res.headers.get('content-range')).toBe('bytes */1000');
    }
  });

  it('answers the whole file without Range, and HEAD with the headers only', async () => {
    const res = await fetch(fileUrl(path), { headers: auth() });
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    const head = await fetch(fileUrl(path), { method: 'HEAD', headers: auth() });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('1000');
    expect(head.headers.get('etag')).toMatch(/^".+"$/);
    expect(await head.text()).toBe('');
  });
});

describe('file server: uploads', () => {
  function put(path: string, body: BodyInit): Promise<Response> {
    return fetch(fileUrl(path), { method: 'PUT', headers: auth(), body, duplex: 'half' } as RequestInit);
  }

  it('accepts attempt files of a running saveAsTextFile job only, until the job ends', async () => {
    const out = join(root, 'out-running');
    const job = platform.beginTextOutput(out, 'job-a');
    const attempt = job.attemptPath(0, 0);
    expect((await put(attempt, 'a\nb\n')).status).toBe(201);
    expect(readFileSync(attempt, 'utf8')).toBe('a\nb\n');

    // Not an attempt path of the job: another name, another job tag, the output directory itself.
    for (const bad of [attempt.replace('part-00000', 'part-00001'), join(out, '_temporary', 'job-b', '_attempt_0_0', 'part-00000'), join(out, 'part-00000'), join(out, '_SUCCESS')]) {
      expect((await put(bad, 'x')).status, bad).toBe(403);
    }
    expect(existsSync(join(out, 'part-00000'))).toBe(false);

    job.commitTask(0, 0);
    job.commitJob(1);
    expect(readFileSync(join(out, 'part-00000'), 'utf8')).toBe('a\nb\n');
    // A late attempt of a committed job is refused, and recreates nothing.
    expect((await put(job.attemptPath(0, 1), 'late')).status).toBe(403);
    expect(readdirSync(out).sort()).toEqual(['_SUCCESS', 'part-00000']);
  });

  it('leaves nothing when the client disconnects mid-upload', async () => {
    const out = join(root, 'out-disconnect');
    const job = platform.beginTextOutput(out, 'job-d');
    const attempt = job.attemptPath(3, 1);
    const failed = nextLog(`upload of ${attempt} failed`);
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      `PUT /file?path=${encodeURIComponent(attempt)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.secret}\r\nContent-Length: 1000000\r\n\r\n`,
    );
    socket.write('x'.repeat(50_000));
    // Wait until the server has taken some of the body (its temporary file exists), then vanish.
    const attemptDir = join(attempt, '..');
    await expect.poll(() => existsSync(attemptDir) && readdirSync(attemptDir).length > 0).toBe(true);
    socket.destroy();
    expect(await failed).toContain('client disconnected');
    expect(readdirSync(attemptDir)).toEqual([]);
    job.abortJob();
    expect(existsSync(out)).toBe(false);
  });

  it('replaces a file only when the upload completed (temporary file + rename)', async () => {
    const cp = platform.makeCheckpointDir(join(root, 'cp-write'));
    const file = join(cp, 'part-00000');
    expect((await put(file, new Uint8Array([1, 2, 3]))).status).toBe(201);
    expect([...readFileSync(file)]).toEqual([1, 2, 3]);

    // A streamed body that fails half way must leave the previous complete file.
    const failed = nextLog(`upload of ${file} failed`);
    const aborter = new AbortController();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ < 3) c.enqueue(new Uint8Array(64 * 1024).fill(9));
        else aborter.abort();
      },
    });
    await expect(fetch(fileUrl(file), { method: 'PUT', headers: auth(), body, duplex: 'half', signal: aborter.signal } as RequestInit)).rejects.toThrow();
    await failed;
    expect([...readFileSync(file)]).toEqual([1, 2, 3]);
    expect(readdirSync(cp)).toEqual(['part-00000']);
    expect(await (await fetch(fileUrl(file), { headers: auth() })).arrayBuffer()).toEqual(new Uint8Array([1, 2, 3]).buffer);
  });

  it('refuses checkpoint writes that a symlink would lead outside the checkpoint directory', async () => {
    const cp = platform.makeCheckpointDir(join(root, 'cp-link'));
    const elsewhere = join(root, 'elsewhere');
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(cp, 'rdd-1'));
    expect((await put(join(cp, 'rdd-1', 'part-00000'), 'x')).status).toBe(403);
    expect(readdirSync(elsewhere)).toEqual([]);
    expect((await put(join(cp, '.hidden'), 'x')).status).toBe(403);
  });

  it('streams a large upload to disk', async () => {
    const out = join(root, 'out-large');
    const job = platform.beginTextOutput(out, 'job-l');
    const attempt = job.attemptPath(0, 0);
    const chunk = new Uint8Array(1024 * 1024).fill(0x61);
    let n = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (n++ < 128) c.enqueue(chunk);
        else c.close();
      },
    });
    // Neither side may hold the upload whole: sample the memory of buffers while it runs (what
    // remains is garbage the collector has not reached yet: 256 MB uploads peak the same).
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers - before)), 2);
    const status = (await put(attempt, body)).status;
    clearInterval(sampler);
    expect(status).toBe(201);
    expect(peak).toBeLessThan(64 * 1024 * 1024);
    expect(readFileSync(attempt).length).toBe(128 * 1024 * 1024);
    job.abortJob();
  });
});
