/**
 * Flint inside a plain `node` process, as a user runs a script: the process ends with the user's
 * code, odd Node options do not break the worker threads, and a bad master says so quickly.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const flint = pathToFileURL(resolve(__dirname, '../../dist/index.js')).href;

/** Runs `node [...nodeArgs] job.mjs` (or `-e`) and reports how long it took. */
function node(nodeArgs: string[], source?: string, timeout = 30_000) {
  const dir = mkdtempSync(join(tmpdir(), 'flint-proc-'));
  const args = [...nodeArgs];
  if (source !== undefined) {
    const file = join(dir, 'job.mjs');
    writeFileSync(file, source);
    args.push(file);
  }
  const started = Date.now();
  const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', timeout });
  return { ...r, dir, ms: Date.now() - started };
}

describe('a plain node script', () => {
  it('ends when its code ends, without fl.stop()', () => {
    const r = node(
      [],
      `import { Flint } from '${flint}';
const fl = await Flint.start({ master: 'local[2]' });
console.log(await fl.parallelize([1, 2, 3], 3).map((x) => x * 2).collect());
`,
    );
    expect(r.signal).toBeNull(); // not killed by the timeout
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('[ 2, 4, 6 ]\n');
    expect(r.status).toBe(0);
    expect(r.ms).toBeLessThan(10_000);
  });

  it('still waits for a job it started without await, then ends', () => {
    const r = node(
      [],
      `import { Flint } from '${flint}';
const fl = await Flint.start({ master: 'local[2]' });
fl.range(0, 100000, 1, 4).map((x) => x % 7).sum().then((s) => console.log('sum', s));
`,
    );
    expect(r.signal).toBeNull();
    expect(r.stdout).toBe(`sum ${Array.from({ length: 100000 }, (_, x) => x % 7).reduce((a, b) => a + b, 0)}\n`);
    expect(r.status).toBe(0);
  });

  it("shows a failing closure's error at the script's own lines, and the failed action where it was awaited", () => {
    const r = node(
      [],
      `import { Flint } from '${flint}';
const fl = await Flint.start({ master: 'local[2]' });
const parsed = fl.parallelize(['1', '2', 'x', '4'], 2).map((s) => {
  const n = Number(s);
  if (Number.isNaN(n)) throw new TypeError('not a number: ' + s);
  return n;
});
try {
  await parsed.collect();
} catch (err) {
  console.log(err.stack);
  console.log(err.cause.stack);
}
`,
    );
    const file = pathToFileURL(join(r.dir, 'job.mjs')).href;
    expect(r.stdout).toMatch(new RegExp(String.raw`^FlintError: Job aborted: .*not a number: x
    at ${file}:9:16
`));
    expect(r.stdout).toContain(`TypeError: not a number: x
    at <anonymous> (${file}:5:30)
`);
    expect(r.stdout).not.toMatch(/dist\/|flint-closure-|node:/);
  });

  it('starts worker threads under node --input-type=module -e', () => {
    const r = node([
      '--input-type=module',
      '-e',
      `import { Flint } from '${flint}'; const fl = await Flint.start({ master: 'local[2]' }); console.log(await fl.range(10).count()); await fl.stop();`,
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('10\n');
    expect(r.status).toBe(0);
    expect(r.ms).toBeLessThan(10_000);
  });

  it("fails Flint.start at once with the worker's own error when worker threads die as they start", () => {
    const dir = mkdtempSync(join(tmpdir(), 'flint-proc-'));
    const preload = join(dir, 'threads-only.mjs');
    writeFileSync(preload, `import { isMainThread } from 'node:worker_threads';\nif (!isMainThread) throw new Error('this preload refuses worker threads');\n`);
    const r = node(
      ['--import', pathToFileURL(preload).href],
      `import { Flint } from '${flint}';
try {
  await Flint.start({ master: 'local[2]' });
  console.log('started');
} catch (err) {
  console.log(err.code, '|', err.message, '|', err.cause?.message);
}
`,
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^EXECUTOR_LOST \| worker threads die as they start \(3 in a row\).*: this preload refuses worker threads \| this preload refuses worker threads\n$/);
    expect(r.ms).toBeLessThan(10_000);
  });

  it('starts a first batch of local[N] for N far above the cores, runs jobs at once and warns once', () => {
    const n = Math.max(4, availableParallelism()) * 5;
    const r = node(
      [],
      `import { Flint } from '${flint}';
const a = await Flint.start({ master: 'local[${n}]' });
console.log('at start', a.executorIds().length < ${n});
console.log('sum', await a.range(0, 1000).sum());
await a.stop();
const b = await Flint.start({ master: 'local[${n}]' });
await b.stop();
`,
    );
    expect(r.stdout).toBe('at start true\nsum 499500\n');
    expect(r.stderr.match(/FlintWarning/g)).toHaveLength(1);
    expect(r.stderr).toContain(`local[${n}] asks for ${n} worker threads on ${availableParallelism()} core`);
    expect(r.status).toBe(0);
  });
});
