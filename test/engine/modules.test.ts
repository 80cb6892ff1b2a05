/**
 * fl.module: npm packages and local files bundled once by esbuild, shipped once to each executor,
 * and usable in closures through env, on the driver too; modules that need Node's built-ins tie their
 * closures to Node executors.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'acorn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flint } from 'flint';
import { captureClosure } from '../../host/codec/closure-capture.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// Names the closures receive through env.
declare const acorn: typeof import('acorn');
declare const csv: { fields(line: string): string[]; total(fields: string[]): number };
declare const host: { cpus(): unknown[] };

let fl: Flint;
let dir: string;
beforeAll(async () => {
  fl = await Flint.start({ master: 'local[2]' });
  dir = mkdtempSync(join(tmpdir(), 'flint-modules-'));
  mkdirSync(join(dir, 'lib'));
  writeFileSync(join(dir, 'lib', 'split.ts'), `export const SEP: string = ';';\nexport function split(line: string): string[] { return line.split(SEP).map((s) => s.trim()); }\n`);
  writeFileSync(
    join(dir, 'lib', 'csv.ts'),
    `import { split } from './split.ts';\nexport function fields(line: string): string[] { return split(line); }\nexport function total(fields: string[]): number { return fields.reduce((a, f) => a + Number(f), 0); }\n`,
  );
  writeFileSync(join(dir, 'lib', 'host.ts'), `import { cpus } from 'node:os';\nexport const host = { cpus };\n`);
});
afterAll(async () => {
  await fl.stop();
});

describe('fl.module', () => {
  it('ships an npm package to the executors; closures use it through env, with the same answer as on the driver', async () => {
    const acornModule = fl.module<typeof import('acorn')>('acorn', { from: root });
    const sources = ['let a = 1; let b = 2;', 'function f() { return 1 } f();', '1 + 2', 'class A {}; new A(); export {}'.replace('export {}', '')];
    const counts = await fl.parallelize(sources, 2).map((src) => acorn.parse(src, { ecmaVersion: 2022 }).body.length, { env: { acorn: acornModule } }).collect();
    expect(counts).toEqual(sources.map((s) => parse(s, { ecmaVersion: 2022 }).body.length));
    // The value returned is the module itself, on the driver as well.
    expect(acornModule.parse('x; y;', { ecmaVersion: 2022 }).body).toHaveLength(2);
  });

  it('bundles a local TypeScript file with its own imports, and the driver runs it in final merges too', async () => {
    const lib = fl.module<typeof csv>('./lib/csv.ts', { from: dir });
    const lines = ['1; 2; 3', '4;5', '10 ; 20'];
    const totals = await fl.parallelize(lines, 3).map((l) => csv.total(csv.fields(l)), { env: { csv: lib } }).collect();
    expect(totals).toEqual([6, 9, 30]);
    const folded = await fl.parallelize(lines, 3).map((l) => csv.fields(l), { env: { csv: lib } }).reduce((a, b) => [String(csv.total(a) + csv.total(b))], { env: { csv: lib } });
    expect(folded).toEqual(['45']);
  });

  it('resolves a relative path from the file that calls it', () => {
    const job = join(dir, 'job.mjs');
    writeFileSync(
      job,
      `import { Flint } from ${JSON.stringify(join(root, 'dist', 'index.js'))};
const fl = await Flint.start({ master: 'local' });
const lib = fl.module('./lib/csv.ts');
console.log(JSON.stringify(await fl.parallelize(['1;2', '3;4'], 2).map((l) => csv.total(csv.fields(l)), { env: { csv: lib } }).collect()));
await fl.stop();
`,
    );
    // Run from elsewhere: the module is found next to the job, not in the working directory.
    expect(execFileSync(process.execPath, [job], { cwd: tmpdir(), encoding: 'utf8' }).trim()).toBe('[3,7]');
  });

  it("a module that needs Node's built-ins ties its closures to Node executors", async () => {
    const lib = fl.module<{ host: typeof host }>('./lib/host.ts', { from: dir });
    // Only whole modules travel: a part of one (an object holding functions) is refused as env data.
    expect(() => captureClosure(() => host.cpus().length, { method: 'map', env: { host: lib.host } })).toThrow(/env.host.cpus is a function/);
    const whole = captureClosure((x: number) => x + Object.keys(m).length, { method: 'map', env: { m: lib } });
    expect(whole.requires).toEqual(['node']);
    expect(whole.modules).toHaveLength(1);
    expect(await fl.parallelize([1, 2], 2).map((x) => x + (m.host.cpus().length > 0 ? 1 : 0), { env: { m: lib } }).collect()).toEqual([2, 3]);
  });

  it('says what is wrong when a module cannot be found', () => {
    expect(() => fl.module('./lib/missing.ts', { from: dir })).toThrow(/fl.module\("\.\/lib\/missing\.ts"\): cannot bundle it from .*Could not resolve/);
    expect(() => fl.module('no-such-package-xyz', { from: root })).toThrow(/Could not resolve "no-such-package-xyz"/);
  });
});
declare const m: { host: { cpus(): unknown[] } };
