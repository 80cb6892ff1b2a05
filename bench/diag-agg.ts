/**
 * Profiling driver for the lambda aggregations of bench:engine (not part of it):
 *   node --cpu-prof --cpu-prof-dir=DIR scripts/run-ts.mjs bench/diag-agg.ts rbk|wc [master] [runs]
 * On `local` (the default) the executor runs in the profiled thread, so one profile shows the
 * map lambda, the combine, the shuffle write and read and the collect together.
 */
import { Flint } from 'flint';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { lambdaReduceByKey, lambdaWordCount } from './lib/lambda-jobs.js';
import { ensureText } from './lib/textgen.js';

const [job = 'rbk', master = 'local', runsArg = '3', sizeArg] = process.argv.slice(2);
const fl = await Flint.start({ master, appName: 'diag-agg' });
const path = job === 'wc' ? ensureText(join('bench', 'data'), { bytes: Number(sizeArg ?? 20_000_000), seed: 4, vocabulary: 100_000, zipfS: 1 }, console.log) : '';
for (let r = 0; r < Number(runsArg); r++) {
  const t0 = performance.now();
  const s = job === 'wc' ? await lambdaWordCount(fl, path) : await lambdaReduceByKey(fl, Number(sizeArg ?? 5_000_000));
  console.log(`${job} run ${r}: ${(performance.now() - t0).toFixed(1)} ms ${JSON.stringify(s)}`);
}
await fl.stop();
