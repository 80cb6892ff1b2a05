import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutorPlatform } from '../../host/exec/platform.js';
import { remoteExecutorPlatform } from '../../host/exec/remote-platform.js';
import { FileGrants } from '../../host/node/file-grants.js';
import { serveDriverFiles, type FileServer } from '../../host/node/file-server.js';
import { machineId } from '../../host/node/machine-id.js';
import { NodeDriverPlatform, nodeExecutorPlatform, workerExecutorPlatform } from '../../host/node/node-platform.js';
import type { FileSplit } from '../../host/plan/sources.js';

let root: string;
let driver: NodeDriverPlatform;
let server: FileServer;
const logged: string[] = [];
let waiters: Array<{ part: string; resolve: () => void }> = [];
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'flint-remote-platform-'));
  driver = new NodeDriverPlatform();
  server = await serveDriverFiles(driver.grants, {
    log: (line) => {
      logged.push(line);
      for (const w of waiters.filter((x) => line.includes(x.part))) w.resolve();
      waiters = waiters.filter((x) => !line.includes(x.part));
    },
  });
});
afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

const nextLog = (part: string) => new Promise<void>((resolve) => waiters.push({ part, resolve }));
const files = () => ({ url: server.url, secret: server.secret });
/** An executor on another machine, with no file system of its own (a browser tab). */
const remote = () => remoteExecutorPlatform({ files: files() });

let counter = 0;
function inputFile(text: string): string {
  const path = join(root, `input-${counter++}.txt`);
  writeFileSync(path, text);
  return path;
}

async function linesOf(platform: ExecutorPlatform, splits: FileSplit[]): Promise<string[]> {
  const out: string[] = [];
  for (const s of splits) for await (const batch of platform.readTextSplit(s)) out.push(...batch);
  return out;
}

async function regionsOf(platform: ExecutorPlatform, splits: FileSplit[]): Promise<string[]> {
  const out: string[] = [];
  for (const s of splits) for await (const region of platform.readSplitLines(s)) out.push(new TextDecoder().decode(region));
  return out;
}

/** A local platform that must not be used for reading: its copy of every file is "another file". */
function foreignCopies(): ExecutorPlatform {
  const refuse = () => {
    throw new Error('read the local copy although it is not the planned file');
  };
  return {
    ...nodeExecutorPlatform,
    statFile: async (path) => {
      const st = await nodeExecutorPlatform.statFile!(path);
      return st && { size: st.size, mtimeMs: st.mtimeMs + 1000 };
    },
    readTextSplit: refuse,
    readSplitLines: refuse,
    readWholeTextFile: refuse,
  };
}

/** nodeExecutorPlatform, counting what goes through it. */
function countingLocal(): { platform: ExecutorPlatform; calls: string[] } {
  const calls: string[] = [];
  const platform: ExecutorPlatform = { ...nodeExecutorPlatform };
  for (const name of ['readTextSplit', 'readSplitLines', 'readWholeTextFile', 'openTextOutput', 'writeFileAtomic', 'readFile'] as const) {
    const original = nodeExecutorPlatform[name] as (...args: unknown[]) => unknown;
    (platform as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      calls.push(name);
      return original(...args);
    };
  }
  return { platform, calls };
}

describe('remote executor platform: input', () => {
  const text = 'alpha\r\nbeta gamma\n\n\uFEFFdelta\n' + 'x'.repeat(5000) + '\nlast';
  const expected = ['alpha', 'beta gamma', '', '\uFEFFdelta', 'x'.repeat(5000), 'last'];

  it('reads the splits of a driver file over HTTP, line for line as the driver would', async () => {
    const path = inputFile(text);
    const splits = driver.planTextSplits(path, 7);
    expect(splits.length).toBeGreaterThan(3);
    expect(await linesOf(remote(), splits)).toEqual(expected);
    expect((await regionsOf(remote(), splits)).join('\n').split('\n').map((l) => l.replace(/\r$/, ''))).toEqual(expected);
    const [[whole]] = driver.planWholeTextFiles(path, 1);
    expect(await remote().readWholeTextFile(whole!)).toBe(text);
  });

  it('reads its own copy when it has the same size and mtime as planned', async () => {
    const path = inputFile(text);
    const splits = driver.planTextSplits(path, 2);
    const local = countingLocal();
    const platform = remoteExecutorPlatform({ files: files(), local: local.platform, machineId: 'elsewhere', driverMachineId: 'driver' });
    expect(await linesOf(platform, splits)).toEqual(expected);
    expect(local.calls).toEqual(['readTextSplit', 'readTextSplit']);
  });

  it('asks the driver when its own copy differs from the planned file', async () => {
    const path = inputFile(text);
    const splits = driver.planTextSplits(path, 2);
    const platform = remoteExecutorPlatform({ files: files(), local: foreignCopies(), machineId: machineId(), driverMachineId: machineId() });
    expect(await linesOf(platform, splits)).toEqual(expected);
    const [[whole]] = driver.planWholeTextFiles(path, 1);
    expect(await platform.readWholeTextFile(whole!)).toBe(text);
  });

  it('reports a driver file that changed since planning, and one the application never named', async () => {
    const path = inputFile('one\ntwo\n');
    const [split] = driver.planTextSplits(path, 1);
    writeFileSync(path, 'one\ntwo\nthree\n');
    await expect(linesOf(remote(), [split!])).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining('changed since planning') });
    const stranger = inputFile('private\n');
    await expect(linesOf(remote(), [{ path: stranger, start: 0, end: 8, fileSize: 8 }])).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: expect.stringContaining('HTTP 403'),
    });
  });

  it('reads a URL from its own server and never sends it the file server secret', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const body = 'u1\nu2\nu3\n';
    const foreign: Server = createServer((req, res) => {
      seen.push(req.headers);
      res.setHeader('content-length', String(body.length));
      res.end(body);
    });
    await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}/data.txt`;
      expect(await linesOf(remote(), [{ path: url, start: 0, end: body.length, fileSize: body.length }])).toEqual(['u1', 'u2', 'u3']);
      expect(seen.length).toBeGreaterThan(0);
      for (const h of seen) expect(h.authorization).toBeUndefined();
    } finally {
      await new Promise<void>((r) => foreign.close(() => r()));
    }
  });
});

describe('remote executor platform: output', () => {
  it('uploads an attempt file to the driver, which commits it as usual', async () => {
    const out = join(root, 'out-upload');
    const job = driver.beginTextOutput(out, 'job-1');
    const local = countingLocal();
    const platform = remoteExecutorPlatform({ files: files(), local: local.platform, machineId: 'worker-machine', driverMachineId: 'driver-machine' });
    const lines = Array.from({ length: 200_000 }, (_, i) => `line ${i} ünï`);
    const writer = await platform.openTextOutput(job.attemptPath(0, 0));
    for (let i = 0; i < lines.length; i += 1000) await writer.write(lines.slice(i, i + 1000));
    await writer.close();
    job.commitTask(0, 0);
    job.commitJob(1);
    expect(readFileSync(join(out, 'part-00000'), 'utf8')).toBe(lines.join('\n') + '\n');
    expect(readdirSync(out).sort()).toEqual(['_SUCCESS', 'part-00000']);
    expect(local.calls).toEqual([]);
  });

  it('writes directly on the driver machine', async () => {
    const out = join(root, 'out-local');
    const job = driver.beginTextOutput(out, 'job-2');
    const local = countingLocal();
    const platform = remoteExecutorPlatform({ files: files(), local: local.platform, machineId: 'm', driverMachineId: 'm' });
    const writer = await platform.openTextOutput(job.attemptPath(1, 0));
    await writer.write(['a', 'b']);
    await writer.close();
    await platform.writeFileAtomic(join(root, 'direct.bin'), Uint8Array.from([7]));
    expect([...(await platform.readFile(join(root, 'direct.bin')))]).toEqual([7]);
    expect(local.calls).toEqual(['openTextOutput', 'writeFileAtomic', 'readFile']);
    expect(readFileSync(job.attemptPath(1, 0), 'utf8')).toBe('a\nb\n');
    job.abortJob();
  });

  it('fails (never hangs) when the driver refuses the upload, even while writing', async () => {
    const refused = join(root, 'not-an-output', 'part-00000');
    const writer = await remote().openTextOutput(refused);
    const big = Array.from({ length: 50_000 }, () => 'y'.repeat(100));
    const attempt = (async () => {
      for (let i = 0; i < 20; i++) await writer.write(big);
      await writer.close();
    })();
    await expect(attempt).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining('HTTP 403') });
    expect(existsSync(refused)).toBe(false);
  });

  it('an aborted upload leaves nothing behind', async () => {
    const out = join(root, 'out-abort');
    const job = driver.beginTextOutput(out, 'job-3');
    const path = job.attemptPath(0, 0);
    const failed = nextLog(`upload of ${path} failed`);
    const writer = await remote().openTextOutput(path);
    await writer.write(Array.from({ length: 30_000 }, () => 'z'.repeat(100)));
    // Abort once the driver is receiving (its temporary file exists), not before the request left.
    await expect.poll(() => existsSync(join(path, '..')) && readdirSync(join(path, '..')).length > 0).toBe(true);
    await writer.abort();
    await failed;
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(join(path, '..'))).toEqual([]);
    job.abortJob();
  });

  it('writes and reads checkpoint files through the driver', async () => {
    const dir = driver.makeCheckpointDir(join(root, 'checkpoints', 'app'));
    const rddDir = driver.makeCheckpointDir(join(dir, 'rdd-3'));
    const file = join(rddDir, 'part-00000');
    const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => i % 251);
    await remote().writeFileAtomic(file, bytes);
    expect(new Uint8Array(readFileSync(file))).toEqual(bytes);
    expect(await remote().readFile(file)).toEqual(bytes);
    await expect(remote().readFile(join(rddDir, 'part-00009'))).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining('404') });
    await expect(remote().writeFileAtomic(join(root, 'loose.bin'), bytes)).rejects.toMatchObject({ code: 'IO_ERROR' });
    expect(existsSync(join(root, 'loose.bin'))).toBe(false);
  });
});

describe('worker executor platform', () => {
  it('reads and writes its own files on the driver machine, and only through the file server without local files', async () => {
    // A server that knows none of these files: whatever goes through it is refused, which shows
    // which way each platform went.
    const blind = await serveDriverFiles(new FileGrants(), { log: () => undefined });
    try {
      const other = new NodeDriverPlatform();
      const path = inputFile('p\nq\n');
      const splits = other.planTextSplits(path, 1);
      const launch = { url: blind.url, secret: blind.secret, driverMachineId: machineId() };
      expect(await linesOf(workerExecutorPlatform(launch, true), splits)).toEqual(['p', 'q']);
      await expect(linesOf(workerExecutorPlatform(launch, false), splits)).rejects.toMatchObject({
        message: expect.stringContaining('HTTP 403'),
      });
      const target = join(root, 'worker-write.bin');
      await workerExecutorPlatform(launch, true).writeFileAtomic(target, Uint8Array.from([1]));
      expect(existsSync(target)).toBe(true);
      await expect(workerExecutorPlatform(launch, false).writeFileAtomic(`${target}2`, Uint8Array.from([1]))).rejects.toMatchObject({
        code: 'IO_ERROR',
      });
      expect(existsSync(`${target}2`)).toBe(false);
    } finally {
      await blind.close();
    }
  });
});
