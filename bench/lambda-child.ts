/**
 * A fresh process for bench:engine's lambda section (not a bench of its own):
 *   `cold <textPath> <warmRuns>`: Flint.start on local[2], then the cold job once (the first job of the
 *     process: threads just started, WebAssembly not compiled, closures not compiled) and `warmRuns`
 *     times more; prints `{ startMs, coldMs, warmMs: [...] }`.
 *   `memory <n> [sort|collect|count]`: Flint.start on local[2], then one job over n random floats: the
 *     sortBy + collect (default), or the floats' collect() or count() alone (what the result itself
 *     and the input alone take); prints the process's peak resident memory during the job over its
 *     resident memory before it.
 * The last line of stdout is the JSON answer.
 */
import { Flint } from 'flint';
import { performance } from 'node:perf_hooks';
import { coldJob, floatsAlone, lambdaSortBy } from './lib/lambda-jobs.js';
import { peakRssBytes, resetPeakRss } from './lib/peak-rss.js';

const [mode, arg, arg2] = process.argv.slice(2);
if (mode === 'cold') {
  const t0 = performance.now();
  const fl = await Flint.start({ master: 'local[2]', appName: 'bench-lambda-cold' });
  const startMs = performance.now() - t0;
  const time = async () => {
    const t = performance.now();
    const s = await coldJob(fl, arg!);
    return { ms: performance.now() - t, s };
  };
  const cold = await time();
  const warm: number[] = [];
  for (let i = 0; i < Number(arg2 ?? 3); i++) {
    const w = await time();
    if (w.s.check !== cold.s.check) throw new Error(`cold job gave ${JSON.stringify(cold.s)}, warm ${JSON.stringify(w.s)}`);
    warm.push(w.ms);
  }
  await fl.stop();
  console.log(JSON.stringify({ startMs, coldMs: cold.ms, warmMs: warm, summary: cold.s }));
} else if (mode === 'memory') {
  const fl = await Flint.start({ master: 'local[2]', appName: 'bench-lambda-memory' });
  // Let the threads settle (their startup garbage collected) before taking the baseline.
  await new Promise((r) => setTimeout(r, 500));
  const before = process.memoryUsage().rss;
  resetPeakRss();
  const t = performance.now();
  const job = arg2 ?? 'sort';
  const s = job === 'sort' ? await lambdaSortBy(fl, Number(arg)) : await floatsAlone(fl, Number(arg), job);
  const ms = performance.now() - t;
  const peak = peakRssBytes();
  await fl.stop();
  console.log(JSON.stringify({ rssBefore: before, peakRss: peak, peakOverBefore: peak - before, ms, summary: s }));
} else {
  console.error('usage: lambda-child.ts cold <textPath> <warmRuns> | memory <n> [sort|collect|count]');
  process.exit(2);
}
