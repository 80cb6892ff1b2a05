/** `flint run --typecheck`: a job with type errors is reported and not run; a sound one runs. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const bin = resolve(__dirname, '../../bin/flint.js');
const dir = mkdtempSync(join(tmpdir(), 'flint-typecheck-'));
const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('flint run --typecheck', () => {
  it('prints the diagnostics and exits 1 without running a job that fails type-checking', () => {
    const job = join(dir, 'wrong.ts');
    writeFileSync(
      job,
      `import { Flint } from 'flint';
const fl = await Flint.start({ master: 'local' });
const label: number = 'three';
console.log('ran', label, await fl.range(3).count());
await fl.stop();
`,
    );
    const checked = run(['run', job, '--typecheck', '--no-progress']);
    expect(checked.status).toBe(1);
    expect(checked.stderr).toContain("wrong.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.");
    expect(checked.stderr).toContain('does not type-check');
    expect(checked.stdout).not.toContain('ran');
    // Without the flag the job runs as written, as esbuild strips types without checking them.
    const unchecked = run(['run', job, '--no-progress']);
    expect(unchecked.stdout).toContain('ran');
    expect(readdirSync(dir).filter((f) => f.startsWith('.flint-'))).toEqual([]);
  });

  it('runs a job that type-checks, with Node types and the flint API (withEnv, positional forms)', () => {
    const job = join(dir, 'right.ts');
    writeFileSync(
      job,
      `import { Flint, withEnv } from 'flint';
const fl = await Flint.start({ master: 'local' });
const min = Number(process.argv[2]);
const kept = fl.range(0, 10).filter(withEnv({ min }, ({ min }) => (x) => x >= min));
const sorted = await kept.map((x) => [x % 3, x] as [number, number]).sortByKey(false, 2).keys().collect();
console.log('sorted=' + sorted.join(','));
await fl.stop();
`,
    );
    const r = run(['run', job, '--typecheck', '--no-progress', '--', '6']);
    expect(r.stderr).not.toContain('error TS');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('sorted=2,1,0,0');
  });
});
