import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = resolve(__dirname, '../../bin/flint.js');
const run = (args: string[], cwd = process.cwd()) => spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });

describe('flint CLI', () => {
  it('prints help', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('run <job>');
    const sub = run(['run', '--help']);
    expect(sub.status).toBe(0);
    expect(sub.stdout).toContain('--master <master>');
  });

  it('runs a TypeScript job from outside the repository with --master and job arguments, then prints a summary', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flint-cli-'));
    const job = join(dir, 'job.ts');
    writeFileSync(
      job,
      `import { Flint } from 'flint';
const n: number = Number(process.argv[2]);
const fl = await Flint.start({ master: 'local' });
const sum = await fl.range(0, n).map((x: number) => [x % 3, x] as [number, number]).reduceByKey((a, b) => a + b).collectAsMap();
console.log('master=' + fl.master, 'sum=' + [...sum].sort().map(([k, v]) => k + ':' + v).join(','));
await fl.stop();
`,
    );
    const r = run(['run', job, '--master', 'local[2]', '--', '10'], dir);
    expect(r.stderr).not.toContain('job failed');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('master=local[2]');
    expect(r.stdout).toContain('sum=0:18,1:12,2:15');
    expect(r.stderr).toMatch(/1 job, 2 stages, \d+ tasks, shuffle [\d.]+ \w+, [\d.]+ s/);
  });

  it('exits with status 1 and the user error when the job fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flint-cli-'));
    const job = join(dir, 'bad.mjs');
    writeFileSync(
      job,
      `import { Flint } from 'flint';
const fl = await Flint.start({ master: 'local[2]' });
await fl.parallelize([1, 2, 3]).map((x) => { if (x === 2) throw new TypeError('two is not allowed'); return x; }).collect();
`,
    );
    const r = run(['run', job], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('job failed: JOB_ABORTED');
    expect(r.stderr).toContain('TypeError: two is not allowed');
  });

  it('exits with status 1 for a missing job file', () => {
    const r = run(['run', 'does-not-exist.ts']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('job file not found: does-not-exist.ts');
  });
});
