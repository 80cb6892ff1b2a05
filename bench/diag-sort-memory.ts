/**
 * Where a sort's peak memory goes (not part of `npm run bench:engine`):
 * node scripts/run-ts.mjs bench/diag-sort-memory.ts count|collect|sort|sortCount [n]
 * One fresh process per run: local[2], then one job over bench:engine's n random floats (default
 * 2M): a count() (input only), a collect() (the values travel to the driver and are decoded there),
 * the sortBy + collect of bench:engine, or the sortBy + count(); prints the peak resident memory over
 * the memory before the job, and the driver thread's heap and external memory at the sampled peak.
 */
import { Flint } from 'flint';
import { randomFloats } from './lib/lambda-jobs.js';
import { peakRssBytes, resetPeakRss } from './lib/peak-rss.js';

const which = process.argv[2] ?? 'sort';
const n = Number(process.argv[3] ?? 2_000_000);
const fl = await Flint.start({ master: 'local[2]', appName: 'diag-sort-memory' });
// Let the threads settle (their startup garbage collected) before taking the baseline.
await new Promise((r) => setTimeout(r, 500));
const before = process.memoryUsage().rss;
resetPeakRss();
let sampled = { rss: 0, heapUsed: 0, external: 0 };
const timer = setInterval(() => {
  const m = process.memoryUsage();
  if (m.rss > sampled.rss) sampled = { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}, 2);
const floats = randomFloats(fl, n);
const jobs: Record<string, () => Promise<number>> = {
  count: () => floats.count(),
  collect: async () => (await floats.collect()).length,
  sort: async () => (await floats.sortBy((x) => x).collect()).length,
  sortCount: () => floats.sortBy((x) => x).count(),
};
if (!jobs[which]) throw new Error(`unknown job ${which}: count, collect, sort or sortCount`);
const records = await jobs[which]!();
clearInterval(timer);
const peak = peakRssBytes();
await fl.stop();
const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
console.log(
  `${which} of ${records} floats (${mb(n * 8)} as f64): peak RSS ${mb(peak - before)} over the ${mb(before)} before; ` +
    `driver thread at the sampled peak: heap ${mb(sampled.heapUsed)}, external ${mb(sampled.external)}`,
);
