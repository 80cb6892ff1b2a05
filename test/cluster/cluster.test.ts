/**
 * Cluster mode with real processes: `flint serve`, `flint worker`s and drivers talking over real
 * sockets on loopback.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Flint } from 'flint';
import { flintBin, killAll, root, startCluster, startProcess, type TestCluster } from './harness.js';

afterAll(() => killAll());

// A name the closures receive through env.
declare const acorn: typeof import('acorn');

describe('flint serve', () => {
  it('prints its URLs once it accepts connections, binds 127.0.0.1, generates a 256-bit token, and refuses a port in use', async () => {
    const serve = startProcess([flintBin, 'serve', '--port', '0'], { env: { FLINT_TOKEN: '' } });
    const [, host, port] = await serve.waitFor(/cluster:\s+flint:\/\/([\d.]+):(\d+)/);
    expect(host).toBe('127.0.0.1');
    const [, token] = await serve.waitFor(/token:\s+(\S+) \(generated/);
    expect(Buffer.from(token!, 'base64url').length).toBeGreaterThanOrEqual(32);
    expect(serve.output()).toMatch(new RegExp(`dashboard:\\s+http://127\\.0\\.0\\.1:${port}/\\?token=`));
    expect(serve.output()).toMatch(new RegExp(`volunteer:\\s+http://127\\.0\\.0\\.1:${port}/volunteer\\?token=`));
    // It accepts connections as soon as it says so.
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/applications`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const second = spawnSync(process.execPath, [flintBin, 'serve', '--port', port!, '--token', 'x'], { encoding: 'utf8', timeout: 20_000 });
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`port ${port} .* already in use`));
    serve.child.kill('SIGINT');
    expect(await serve.exited).toBe(0);
  });

  it('checks the token on every request and upgrade, and lets the dashboard keep it in a cookie', async () => {
    const cluster = await startCluster({ workers: 0 });
    try {
      const api = `${cluster.httpUrl}/api/v1/executors`;
      expect((await fetch(api)).status).toBe(401);
      expect((await fetch(api, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await fetch(`${api}?token=${cluster.token}`)).status).toBe(200);
      const page = await fetch(`${cluster.httpUrl}/?token=${cluster.token}`, { redirect: 'manual' });
      expect(page.status).toBe(303);
      const cookie = page.headers.get('set-cookie')!;
      expect(cookie).toMatch(/HttpOnly/);
      const again = await fetch(`${cluster.httpUrl}/`, { headers: { cookie: cookie.split(';')[0]! } });
      expect(again.status).toBe(200);
      // The dashboard's page shell; its data comes from the REST API with the same cookie.
      expect(await again.text()).toContain('<title>Flint cluster</title>');
      expect((await fetch(`${cluster.httpUrl}/api/v1/workers`, { headers: { cookie: cookie.split(';')[0]! } })).status).toBe(200);
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${cluster.httpUrl.replace('http', 'ws')}/ws`, { headers: { authorization: 'Bearer wrong' } });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => undefined);
      });
      expect(status).toBe(401);
      expect(cluster.coordinator.output()).toMatch(/refused .*wrong or missing token/);
    } finally {
      await cluster.stop();
    }
  });

  it('reports at /api/v1/coordinator what it holds and its process’s memory, CPU and event-loop delay', async () => {
    const cluster = await startCluster({ workers: 2, cores: 1 });
    try {
      const api = `${cluster.httpUrl}/api/v1/coordinator`;
      expect((await fetch(api)).status).toBe(401);
      const fl = await Flint.start({ master: cluster.url, token: cluster.token });
      // The event loop was sampled while the job ran through the coordinator.
      expect(await fl.parallelize([1, 2, 3, 4], 4).sum()).toBe(10);
      const status = (await (await fetch(api, { headers: { authorization: `Bearer ${cluster.token}` } })).json()) as import('../../host/ui/types.js').CoordinatorStatus;
      expect(status).toMatchObject({ workers: 2, browserWorkers: 0, slots: 2, slotsLent: 2, runningApplications: 1 });
      expect(status.uptimeMs).toBeGreaterThan(0);
      const p = status.process!;
      expect(p.rssBytes).toBeGreaterThan(10 * 2 ** 20);
      expect(p.maxRssBytes).toBeGreaterThanOrEqual(p.rssBytes);
      expect(p.heapUsedBytes).toBeGreaterThan(0);
      expect(p.cpuUserMs + p.cpuSystemMs).toBeGreaterThan(0);
      const d = p.eventLoopDelayMs;
      expect(d.samples).toBeGreaterThan(0);
      expect(d.p50).toBeGreaterThanOrEqual(0);
      expect(d.p99).toBeGreaterThanOrEqual(d.p50);
      expect(d.max).toBeGreaterThanOrEqual(d.p99);
      expect(Array.isArray(p.eventLoopDelayWindows)).toBe(true);
      await fl.stop();
      // A local application's UI is no coordinator.
      const local = await Flint.start({ master: 'local', ui: 0 });
      const url = new URL(local.uiUrl!);
      expect((await fetch(`${url.origin}/api/v1/coordinator`, { headers: { authorization: `Bearer ${url.searchParams.get('token')}` } })).status).toBe(404);
      await local.stop();
    } finally {
      await cluster.stop();
    }
  });

  it('on SIGINT tells drivers and workers, and leaves nothing of its own running', async () => {
    const cluster = await startCluster({ workers: 1 });
    try {
      const fl = await Flint.start({ master: cluster.url, token: cluster.token, appName: 'told' });
      const job = fl.parallelize([1, 2, 3], 3).map((x) => {
        const until = Date.now() + 60_000;
        while (Date.now() < until);
        return x;
      }).collect();
      await new Promise((r) => setTimeout(r, 300));
      cluster.coordinator.child.kill('SIGINT');
      expect(await cluster.coordinator.exited).toBe(0);
      await cluster.workers[0]!.waitFor(/the coordinator says: the coordinator was stopped \(SIGINT\)/);
      // The worker's executors are gone with the coordinator; the worker itself keeps trying to return.
      await cluster.workers[0]!.waitFor(/lost the coordinator; reconnecting/);
      await fl.stop();
      await expect(job).rejects.toThrow();
    } finally {
      await cluster.stop();
    }
  });
});

describe('flint worker', () => {
  it('is refused with a message about the token, and exits 1', async () => {
    const cluster = await startCluster({ workers: 0 });
    try {
      const r = spawnSync(process.execPath, [flintBin, 'worker', cluster.url, '--token', 'not-the-token'], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/refused the token/);
      const none = spawnSync(process.execPath, [flintBin, 'worker', cluster.url], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, FLINT_TOKEN: '' } });
      expect(none.status).toBe(1);
      expect(none.stderr).toMatch(/needs the coordinator's token/);
    } finally {
      await cluster.stop();
    }
  });

  it('comes back to a restarted coordinator with the same identity', async () => {
    const cluster = await startCluster({ workers: 1 });
    const port = new URL(cluster.httpUrl).port;
    let restarted: ReturnType<typeof startProcess> | null = null;
    try {
      const [before] = await cluster.executors();
      cluster.coordinator.child.kill('SIGTERM');
      await cluster.coordinator.exited;
      restarted = startProcess([flintBin, 'serve', '--port', port, '--token', cluster.token]);
      await restarted.waitFor(/worker .* joined/, 30_000);
      const res = await fetch(`${cluster.httpUrl}/api/v1/executors`, { headers: { authorization: `Bearer ${cluster.token}` } });
      const after = (await res.json()) as Array<{ workerId: string }>;
      expect(after.map((e) => e.workerId)).toEqual([before!.workerId]);
      // And it runs jobs again.
      const fl = await Flint.start({ master: cluster.url, token: cluster.token });
      expect(await fl.parallelize([1, 2, 3, 4], 2).map((x) => x * 2).collect()).toEqual([2, 4, 6, 8]);
      await fl.stop();
    } finally {
      restarted?.child.kill('SIGKILL');
      await cluster.stop();
    }
  });
});

describe('jobs on a cluster of two workers', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ workers: 2, cores: 1 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  afterEach(async () => {
    // Every application of a test has ended: all slots are idle again.
    const deadline = Date.now() + 10_000;
    while ((await cluster.executors()).some((e) => e.appId !== null) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  });

  it('gives the same answers as local[2]: a word count, a join and a sort with shuffles between workers', async () => {
    const text = join(root, 'data', 'sample.txt');
    const job = async (fl: Flint) => {
      const counts = await fl
        .textFile(text, 4)
        .flatMap((l) => l.split(/\s+/))
        .filter((w) => w.length > 0)
        .map((w) => [w.toLowerCase(), 1] as [string, number])
        .reduceByKey((a, b) => a + b, { numPartitions: 3 })
        .sortBy(([w, n]) => -n * 1e6 + w.length, { ascending: true })
        .take(25);
      const left = fl.parallelize(Array.from({ length: 300 }, (_, i) => [i % 37, i] as [number, number]), 3);
      const right = fl.parallelize(Array.from({ length: 50 }, (_, i) => [i, `v${i}`] as [number, string]), 2);
      const joined = (await left.join(right, { numPartitions: 4 }).collect()).sort((a, b) => a[1][0] - b[1][0]);
      return { counts, joined };
    };
    const remote = await Flint.start({ master: cluster.url, token: cluster.token, appName: 'same-answers' });
    const local = await Flint.start({ master: 'local[2]' });
    try {
      const [r, l] = [await job(remote), await job(local)];
      expect(r).toEqual(l);
      expect(r.joined).toHaveLength(300);
    } finally {
      await remote.stop();
      await local.stop();
    }
  });

  it('brings results larger than one message to the driver (pulled in parts), equal to local[2]', async () => {
    const remote = await Flint.start({ master: cluster.url, token: cluster.token });
    const local = await Flint.start({ master: 'local[2]' });
    try {
      const job = (fl: Flint) => fl.range(0, 40_000, 1, 2).map((i) => `${i}:${'x'.repeat(i % 400)}`).collect();
      const [r, l] = [await job(remote), await job(local)];
      expect(r.length).toBe(40_000);
      expect(r).toEqual(l);
    } finally {
      await remote.stop();
      await local.stop();
    }
  });

  it('ships modules (fl.module) to remote workers', async () => {
    const fl = await Flint.start({ master: cluster.url, token: cluster.token });
    try {
      const acornModule = fl.module<typeof import('acorn')>('acorn', { from: root });
      const counts = await fl.parallelize(['a; b;', 'c;'], 2).map((src) => acorn.parse(src, { ecmaVersion: 2022 }).body.length, { env: { acorn: acornModule } }).collect();
      expect(counts).toEqual([2, 1]);
    } finally {
      await fl.stop();
    }
  });

  it('runs closures that use Node globals on Node workers', async () => {
    const fl = await Flint.start({ master: cluster.url, token: cluster.token });
    try {
      const pids = await fl.parallelize([1, 2, 3, 4], 4).map(() => process.pid).distinct().collect();
      expect(pids.length).toBeGreaterThanOrEqual(1);
      expect(pids).not.toContain(process.pid);
      expect(await fl.parallelize(['a', 'bc'], 2).map((s) => Buffer.from(s).length).collect()).toEqual([1, 2]);
    } finally {
      await fl.stop();
    }
  });

  it('shares executors between applications: an equal share each, maxCores respected, returned when an application ends', async () => {
    const first = await Flint.start({ master: cluster.url, token: cluster.token, appName: 'first' });
    expect(first.executorIds()).toHaveLength(2);
    const second = await Flint.start({ master: cluster.url, token: cluster.token, appName: 'second' });
    // The first gives one back (it is idle), the second gets it.
    const deadline = Date.now() + 10_000;
    while ((first.executorIds().length !== 1 || second.executorIds().length !== 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect([first.executorIds().length, second.executorIds().length]).toEqual([1, 1]);
    expect(await second.parallelize([1, 2, 3], 3).map((x) => x + 1).collect()).toEqual([2, 3, 4]);
    await second.stop();
    while (first.executorIds().length !== 2 && Date.now() < deadline + 10_000) await new Promise((r) => setTimeout(r, 20));
    expect(first.executorIds()).toHaveLength(2);
    await first.stop();
    const capped = await Flint.start({ master: cluster.url, token: cluster.token, maxCores: 1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(capped.executorIds()).toHaveLength(1);
    expect((await cluster.executors()).filter((e) => e.appId !== null)).toHaveLength(1);
    await capped.stop();
  });

  it('takes the executors back from a driver that is killed mid-job', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flint-driver-'));
    const script = join(dir, 'driver.mjs');
    writeFileSync(
      script,
      `import { Flint } from ${JSON.stringify(join(root, 'dist', 'index.js'))};
const fl = await Flint.start({ master: ${JSON.stringify(cluster.url)}, token: ${JSON.stringify(cluster.token)}, appName: 'doomed' });
console.log('started with', fl.executorIds().length);
await fl.parallelize([1, 2], 2).map((x) => { const until = Date.now() + 60000; while (Date.now() < until); return x; }).collect();
`,
    );
    const driver = startProcess([script]);
    await driver.waitFor(/started with 2/);
    const deadline = Date.now() + 10_000;
    while (!(await cluster.executors()).every((e) => e.appId !== null && e.activeTasks > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    driver.child.kill('SIGKILL');
    await driver.exited;
    while ((await cluster.executors()).some((e) => e.appId !== null) && Date.now() < deadline + 10_000) await new Promise((r) => setTimeout(r, 50));
    expect((await cluster.executors()).map((e) => e.appId)).toEqual([null, null]);
    expect(cluster.coordinator.output()).toMatch(/application .* ended: its driver disconnected/);
    // The busy threads were stopped: a new application gets both slots and they answer at once.
    const fl = await Flint.start({ master: cluster.url, token: cluster.token });
    expect(fl.executorIds()).toHaveLength(2);
    expect(await fl.parallelize([5, 6], 2).collect()).toEqual([5, 6]);
    await fl.stop();
  });
});

describe('data of the driver on workers that cannot see its files', () => {
  it('reads textFile and wholeTextFiles inputs over HTTP and commits saveAsTextFile output on the driver', async () => {
    const cluster = await startCluster({ workers: 2, cores: 1, workerEnv: { FLINT_LOCAL_FILES: '0' } });
    const dir = mkdtempSync(join(tmpdir(), 'flint-remote-files-'));
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
    writeFileSync(join(dir, 'a.txt'), lines.slice(0, 2500).join('\n') + '\n');
    writeFileSync(join(dir, 'b.txt'), lines.slice(2500).join('\n'));
    const fl = await Flint.start({ master: cluster.url, token: cluster.token });
    try {
      const text = fl.textFile(join(dir, '*.txt'), 4);
      expect(await text.count()).toBe(5000);
      expect((await text.collect()).sort()).toEqual([...lines].sort());
      const whole = await fl.wholeTextFiles(dir).mapValues((c) => c.length).collect();
      expect(whole.map(([p, n]) => [p.split('/').pop(), n]).sort()).toEqual([
        ['a.txt', lines.slice(0, 2500).join('\n').length + 1],
        ['b.txt', lines.slice(2500).join('\n').length],
      ]);
      const out = join(dir, 'out');
      await text.filter((l) => l.endsWith('x')).saveAsTextFile(out);
      const parts = readdirSync(out).sort();
      expect(parts).toContain('_SUCCESS');
      expect(existsSync(join(out, '_temporary'))).toBe(false);
      const written = parts.filter((p) => p.startsWith('part-')).flatMap((p) => readFileSync(join(out, p), 'utf8').split('\n').filter(Boolean));
      expect(written.sort()).toEqual(lines.filter((l) => l.endsWith('x')).sort());
    } finally {
      await fl.stop();
      await cluster.stop();
    }
  });
});
