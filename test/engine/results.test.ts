/**
 * Spark's spark.driver.maxResultSize: a job may bring only so much to the driver, so that a collect()
 * too large fails with a clear error instead of killing the driver's process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Flint, FlintError } from 'flint';

const flint = pathToFileURL(resolve(__dirname, '../../dist/index.js')).href;

/** About 2 MB of encoded records over 8 tasks. */
const twoMegabytes = (fl: Flint) => fl.range(0, 8 * 1024, 1, 8).map((i) => 'x'.repeat(250) + i);

describe('maxResultSizeMb', () => {
  it('fails a job whose results exceed it, naming the option, and the context stays usable', async () => {
    const fl = await Flint.start({ master: 'local[2]', maxResultSizeMb: 1 });
    try {
      const err = await twoMegabytes(fl).collect().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(FlintError);
      expect((err as FlintError).code).toBe('JOB_ABORTED');
      expect((err as FlintError).message).toMatch(/the results of \d+ tasks \([\d.]+ MB encoded\) exceed maxResultSizeMb \(1 MB\)/);
      expect(await twoMegabytes(fl).count()).toBe(8 * 1024);
      expect((await twoMegabytes(fl).take(3)).length).toBe(3);
    } finally {
      await fl.stop();
    }
  });

  it('0 means no limit, and a bad value is refused', async () => {
    const fl = await Flint.start({ master: 'local', maxResultSizeMb: 0 });
    try {
      expect((await twoMegabytes(fl).collect()).length).toBe(8 * 1024);
    } finally {
      await fl.stop();
    }
    await expect(Flint.start({ master: 'local', maxResultSizeMb: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it("by default stops a collect() larger than the driver's heap before V8 runs out of memory", () => {
    const dir = mkdtempSync(join(tmpdir(), 'flint-results-'));
    const job = join(dir, 'big.mjs');
    // ~140 MB of encoded rows, ~5 times that decoded, into a driver with a 128 MB heap.
    writeFileSync(
      job,
      `import { Flint } from '${flint}';
const fl = await Flint.start({ master: 'local[2]' });
const rows = fl.range(0, 4_000_000, 1, 40).map((i) => ({ id: i, name: 'row-' + i, tags: ['a', 'b'] }));
try {
  console.log((await rows.collect()).length);
} catch (err) {
  console.log(err.code, err.message);
}
console.log(await rows.count());
`,
    );
    const r = spawnSync(process.execPath, ['--max-old-space-size=128', job], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).not.toContain('heap out of memory');
    expect(r.stdout).toMatch(/^JOB_ABORTED Job aborted: collect at big\.mjs:5: the results of \d+ tasks .* exceed maxResultSizeMb \(\d+ MB\).*Flint\.start\(\{ maxResultSizeMb \}\)/);
    expect(r.stdout).toMatch(/\n4000000\n$/);
    expect(r.status).toBe(0);
  });
});
