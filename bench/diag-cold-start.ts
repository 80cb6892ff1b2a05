/**
 * Where a fresh process's first job goes (not part of `npm run bench:engine`):
 * node scripts/run-ts.mjs bench/diag-cold-start.ts <textPath> [warm-up textPath]
 * Runs bench:engine's cold-start job three times in one fresh process, after an optional warm-up: a
 * job of the same shape with other closures over another file. What a warm-up of the same operators
 * saves tells Flint's own code's share of the first job's cost from the job's own functions'.
 * Run it without and with a warm-up file (e.g. the first megabyte of the text: `head -c 1000000`).
 */
import { Flint } from 'flint';
import { performance } from 'node:perf_hooks';
import { coldJob } from './lib/lambda-jobs.js';

const [path, warmPath] = process.argv.slice(2);
if (!path) {
  console.error('usage: diag-cold-start.ts <textPath> [warm-up textPath]');
  process.exit(2);
}
const fl = await Flint.start({ master: 'local[2]', appName: 'diag-cold-start' });
const t0 = performance.now();
if (warmPath) {
  await fl
    .textFile(warmPath)
    .flatMap((line) => line.split(' ').filter((x) => x.length > 0))
    .map((word) => [word.toUpperCase(), 2] as [string, number])
    .reduceByKey((x, y) => x + y + 0)
    .sortBy(([, c]) => c * 2)
    .take(5);
}
const warmUpMs = performance.now() - t0;
const runs: number[] = [];
for (let run = 0; run < 3; run++) {
  const t = performance.now();
  await coldJob(fl, path);
  runs.push(Math.round(performance.now() - t));
}
await fl.stop();
console.log(`${warmPath ? `warm-up job ${warmUpMs.toFixed(0)} ms; ` : ''}the cold-start job, three times: ${runs.join(', ')} ms`);
