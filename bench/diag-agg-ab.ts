/**
 * Same-process A/B of the lambda aggregations (not part of bench:engine), for changes whose effect
 * a loaded machine hides in absolute times:
 *   node scripts/run-ts.mjs bench/diag-agg-ab.ts BASE_DIST rbk|wc [rounds] [size]
 * BASE_DIST is the `dist` directory of another build, copied inside this repository (so that its
 * packages resolve), e.g. `.cache/base-dist`. Each round runs the job on the base build's local[2]
 * then on this build's, and the report is the median of the per-round time ratios (base / this).
 */
import { performance } from 'node:perf_hooks';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Flint } from 'flint';
import { lambdaReduceByKey, lambdaWordCount, type Summary } from './lib/lambda-jobs.js';
import { ensureText } from './lib/textgen.js';
import { median } from './lib/stats.js';

const [baseDir, job = 'rbk', roundsArg = '7', sizeArg] = process.argv.slice(2);
if (!baseDir) throw new Error('usage: diag-agg-ab.ts BASE_DIST rbk|wc [rounds] [size]');
const Base = ((await import(pathToFileURL(resolve(baseDir, 'index.js')).href)) as { Flint: typeof Flint }).Flint;
const path = job === 'wc' ? ensureText(join('bench', 'data'), { bytes: Number(sizeArg ?? 20_000_000), seed: 4, vocabulary: 100_000, zipfS: 1 }, console.log) : '';
const run = (fl: Flint): Promise<Summary> => (job === 'wc' ? lambdaWordCount(fl, path) : lambdaReduceByKey(fl, Number(sizeArg ?? 10_000_000)));
const base = await Base.start({ master: 'local[2]', appName: 'ab-base' });
const here = await Flint.start({ master: 'local[2]', appName: 'ab-this' });
const times: { base: number[]; here: number[] } = { base: [], here: [] };
for (let r = 0; r <= Number(roundsArg); r++) {
  for (const [name, fl] of [['base', base], ['here', here]] as const) {
    const t0 = performance.now();
    const s = await run(fl);
    if (r > 0) times[name].push(performance.now() - t0);
    else console.log(`${name}: ${JSON.stringify(s)}`);
  }
}
const ratios = times.base.map((b, i) => b / times.here[i]!);
console.log(`${job}: base ${times.base.map((t) => t.toFixed(0)).join(' ')} | this ${times.here.map((t) => t.toFixed(0)).join(' ')}`);
console.log(`${job}: median base ${median(times.base).toFixed(0)} ms, this ${median(times.here).toFixed(0)} ms; median per-round base/this ${median(ratios).toFixed(2)}`);
await base.stop();
await here.stop();
