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

  it("prints stage lines in the order stages run, named after the user's operations and lines", () => {
    const dir = mkdtempSync(join(tmpdir(), 'flint-cli-'));
    const job = join(dir, 'stages.ts');
    writeFileSync(
      job,
      `import { Flint } from 'flint';
const fl = await Flint.start({ master: 'local[2]' });
const nums = fl.parallelize([5, 3, 1, 4, 2], 3);
console.log((await nums.sortBy((x) => x).collect()).join(','));
const byParity = nums.map((x) => [x % 2, x] as [number, number]);
const sums = byParity.reduceByKey((a, b) => a + b);
const joined = sums.join(byParity.distinct());
console.log((await joined.collect()).length);
await fl.stop();
`,
    );
    for (let i = 0; i < 3; i++) {
      const r = run(['run', job], dir);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('1,2,3,4,5\n5\n');
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('flint: stage '));
      expect(lines.map((l) => /^flint: stage (\d+) \((.*)\) finished in \d+ ms$/.exec(l)!.slice(1).join(' '))).toEqual([
        '0 sortBy at stages.ts:4',
        '1 sortBy at stages.ts:4',
        '2 collect at stages.ts:4',
        '3 reduceByKey at stages.ts:6',
        '4 distinct at stages.ts:7',
        '5 join at stages.ts:7',
        '6 collect at stages.ts:8',
      ]);
    }
  });

  it('--no-progress hides progress but keeps the summary, and its help does not claim it is on by default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flint-cli-'));
    const job = join(dir, 'quiet.mjs');
    writeFileSync(job, `import { Flint } from 'flint';\nconst fl = await Flint.start({ master: 'local' });\nconsole.log(await fl.range(10).map((x) => [x % 2, x]).reduceByKey('sum').count());\n`);
    const r = run(['run', job, '--no-progress'], dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('2\n');
    expect(r.stderr).not.toContain('flint: stage');
    expect(r.stderr).toMatch(/flint: 1 job, 2 stages, \d+ tasks, shuffle [\d.]+ [KMG]?i?B, [\d.]+ s/);
    const help = run(['run', '--help']);
    const line = help.stdout.split('\n').find((l) => l.includes('--no-progress'))!;
    expect(line).not.toContain('default');
  });

  it('rejects an unknown flag under its own spelling', () => {
    const r = run(['run', 'job.ts', '--bogus-flag']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('unknown option --bogus-flag');
    expect(r.stderr).not.toContain('bogusFlag');
    const eq = run(['run', 'job.ts', '--mastr=local']);
    expect(eq.stderr).toContain('unknown option --mastr');
  });

  it('exits with status 1 for a missing job file', () => {
    const r = run(['run', 'does-not-exist.ts']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('job file not found: does-not-exist.ts');
  });
});
