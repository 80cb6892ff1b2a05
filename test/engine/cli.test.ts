import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = resolve(__dirname, '../../bin/flint.js');
const run = (args: string[], cwd = process.cwd()) => spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });

/** Writes a job file into a fresh directory. */
function writeJob(name: string, source: string): { dir: string; job: string } {
  const dir = mkdtempSync(join(tmpdir(), 'flint-cli-'));
  const job = join(dir, name);
  writeFileSync(job, source);
  return { dir, job };
}

/** A job that saves `out` from 8 tasks of `ms` busy milliseconds each, on two threads. */
function slowSaveJob(): { dir: string; job: string } {
  return writeJob(
    'slow.ts',
    `import { Flint } from 'flint';
const ms = Number(process.argv[2]);
const fl = await Flint.start({ master: 'local[2]' });
await fl.range(0, 8, 1, 8).map((x: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end);
  return x;
}, { env: { ms } }).saveAsTextFile('out');
console.log('saved');
await fl.stop();
`,
  );
}

/**
 * Starts `command` and, once the save has begun writing (out/_temporary exists), `interrupt`s it;
 * resolves with what it printed and how it ended.
 */
function interruptWhileSaving(command: string, args: string[], dir: string, interrupt: (child: ReturnType<typeof spawn>) => void) {
  return new Promise<{ output: string; status: number | null; signal: string | null; afterInterrupt: number }>((done) => {
    const child = spawn(command, args, { cwd: dir, stdio: 'pipe' });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    let interruptedAt = 0;
    const watch = setInterval(() => {
      if (!existsSync(join(dir, 'out', '_temporary'))) return;
      clearInterval(watch);
      interruptedAt = Date.now();
      interrupt(child);
    }, 20);
    child.on('exit', (status, signal) => {
      clearInterval(watch);
      done({ output, status, signal, afterInterrupt: Date.now() - interruptedAt });
    });
  });
}

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
    const { dir, job } = writeJob(
      'job.ts',
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
    const { dir, job } = writeJob(
      'bad.mjs',
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
    const { dir, job } = writeJob(
      'stages.ts',
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
    const { dir, job } = writeJob('quiet.mjs', `import { Flint } from 'flint';\nconst fl = await Flint.start({ master: 'local' });\nconsole.log(await fl.range(10).map((x) => [x % 2, x]).reduceByKey('sum').count());\n`);
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

  it("reports a failing closure once, with the user's file and lines and without Flint's frames", () => {
    const { dir, job } = writeJob(
      'frames.ts',
      `import { Flint } from 'flint';

interface Row { id: number }

function check(r: Row): Row {
  if (r.id === 3) throw new RangeError(\`bad row \${r.id}\`);
  return r;
}

const fl = await Flint.start({ master: 'local[2]' });
const rows = fl.parallelize([1, 2, 3, 4].map((id) => ({ id })), 2);
const fixed = rows.map(
  (r: Row) => check(r),
  { env: { check } },
);
await fixed.collect();
`,
    );
    const r = run(['run', job], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        String.raw`flint: job failed: JOB_ABORTED: Job aborted: .*\(collect at frames.ts:16\).*: bad row 3
` +
          String.raw`    at .*\(${job}:16:\d+\)
` +
          String.raw`caused by RangeError: bad row 3
` +
          String.raw`    at check \(${job}:6:25\)
` +
          String.raw`    at <anonymous> \(${job}:13:15\)
`,
      ),
    );
    expect(r.stderr.match(/bad row 3/g)).toHaveLength(2); // the headline, and the cause with its frames
    for (const framework of ['dist/', 'flint-closure-', '/host/', 'node:']) expect(r.stderr).not.toContain(framework);
  });

  it('prints a Flint error without a cause once, at the line of the job that caused it', () => {
    const { dir, job } = writeJob('missing.ts', `import { Flint } from 'flint';\nconst fl = await Flint.start({ master: 'local' });\nconsole.log(await fl.textFile('no/such/file.txt').count());\n`);
    const r = run(['run', job], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`flint: job failed: INPUT_NOT_FOUND: input path does not exist: ${join(dir, 'no/such/file.txt')}\n    at <anonymous> (${job}:3:`);
    expect(r.stderr.match(/input path does not exist/g)).toHaveLength(1);
    expect(r.stderr).not.toContain('dist/');
  });

  it('says so, and suggests await, when the job file ends while a job it started still runs', () => {
    const { dir, job } = writeJob('late.mjs', `import { Flint } from 'flint';\nconst fl = await Flint.start({ master: 'local[2]' });\nfl.range(0, 1000).count().then((n) => console.log(n));\n`);
    const r = run(['run', job], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('flint: the job file ended while 1 job still ran (count at late.mjs:3)');
    expect(r.stderr).toContain('did you forget `await`');
    expect(r.stderr).not.toMatch(/Node\.js v|^\s+at /m);
  });

  it('on SIGINT stops the running job, removes its partial output, prints one line and exits 130; a rerun then succeeds', async () => {
    const { dir, job } = slowSaveJob();
    const r = await interruptWhileSaving(process.execPath, [bin, 'run', job, '--', '60000'], dir, (child) => child.kill('SIGINT'));
    expect(r.status).toBe(130);
    expect(r.afterInterrupt).toBeLessThan(10_000); // not after the 4 minutes the tasks would take
    expect(r.output).toMatch(/\nflint: interrupted by SIGINT, stopped 1 running job \(saveAsTextFile at slow\.ts:8\); 1 job \(1 failed\), .* s\n$/);
    expect(r.output).not.toContain('job failed');
    expect(existsSync(join(dir, 'out'))).toBe(false);
    const again = run(['run', job, '--', '0'], dir);
    expect(again.stderr).not.toContain('OUTPUT_EXISTS');
    expect(again.status).toBe(0);
    expect(again.stdout).toBe('saved\n');
    expect(existsSync(join(dir, 'out', '_SUCCESS'))).toBe(true);
  });

  it('on SIGTERM does the same and exits 143', async () => {
    const { dir, job } = slowSaveJob();
    const r = await interruptWhileSaving(process.execPath, [bin, 'run', job, '--', '60000'], dir, (child) => child.kill('SIGTERM'));
    expect(r.status).toBe(143);
    expect(r.output).toContain('flint: interrupted by SIGTERM, stopped 1 running job');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('on Ctrl-C in a terminal gives the cursor and line wrapping back that the progress bars took', async () => {
    const { dir, job } = slowSaveJob();
    const command = [process.execPath, bin, 'run', job, '--', '60000'].map((a) => `'${a}'`).join(' ');
    // script(1) runs the CLI on a pseudo-terminal; ^C typed into it is a real Ctrl-C (SIGINT from the tty).
    const r = await interruptWhileSaving('script', ['-qfec', command, '/dev/null'], dir, (child) => child.stdin!.write('\x03'));
    expect(r.status).toBe(130);
    const hide = r.output.lastIndexOf('\x1b[?25l');
    const noWrap = r.output.lastIndexOf('\x1b[?7l');
    expect(hide).toBeGreaterThanOrEqual(0); // the bars did take them
    expect(r.output.indexOf('\x1b[?25h', hide)).toBeGreaterThan(hide);
    expect(r.output.indexOf('\x1b[?7h', noWrap)).toBeGreaterThan(noWrap);
    expect(r.output).toContain('flint: interrupted by SIGINT');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('exits with status 1 for a missing job file', () => {
    const r = run(['run', 'does-not-exist.ts']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('job file not found: does-not-exist.ts');
  });
});
