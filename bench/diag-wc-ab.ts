/**
 * Word-count A/B behind the local[2] scaling target (not part of `npm run bench:engine`):
 *   node scripts/run-ts.mjs bench/diag-wc-ab.ts <path-to-text> [runs]
 * Interleaves: local[1] and local[2] with textFile's default splits (what the bench measures),
 * local[1] and local[2] with textFile(path, 4) (4 equal splits: the scheduler then places 2 on each
 * executor), the plain script and the plain script on 2 raw threads (the machine's ceiling now).
 */
import { loadavg } from 'node:os';
import { Flint } from 'flint';
import { plainWordCount, ThreadedPlainWordCount } from './lib/baselines.js';
import { interleaved, median } from './lib/stats.js';

const path = process.argv[2] ?? 'bench/data/zipf-100000000-v50000-s1.05-seed42.txt';
const runs = Number(process.argv[3] ?? 3);

const fl1 = await Flint.start({ master: 'local[1]', appName: 'ab1' });
const fl2 = await Flint.start({ master: 'local[2]', appName: 'ab2' });
const plain2 = new ThreadedPlainWordCount(2);
const wc = (fl: Flint, parts?: number) => () =>
  (parts ? fl.textFile(path, parts) : fl.textFile(path))
    .flatMap((l) => l.split(/\s+/))
    .filter((w) => w.length > 0)
    .map((w) => [w, 1] as [string, number])
    .reduceByKey((a, b) => a + b)
    .count();
const t = await interleaved(
  [
    { name: 'plain', run: () => plainWordCount(path) },
    { name: 'plain 2 raw threads', run: () => plain2.run(path) },
    { name: 'local[1] default splits', run: wc(fl1) },
    { name: 'local[2] default splits', run: wc(fl2) },
    { name: 'local[1] 4 splits', run: wc(fl1, 4) },
    { name: 'local[2] 4 splits', run: wc(fl2, 4) },
  ],
  1,
  runs,
  (s) => console.log(s),
);
console.log(`\nsplits: default local[1] ${fl1.textFile(path).getNumPartitions()}, local[2] ${fl2.textFile(path).getNumPartitions()}`);
for (const [name, ms] of Object.entries(t)) console.log(`${name.padEnd(26)} median ${median(ms).toFixed(0)} ms  min ${Math.min(...ms).toFixed(0)} ms`);
const m = (k: string) => median(t[k]!);
console.log(`speedup local[2]/local[1], default splits: ${(m('local[1] default splits') / m('local[2] default splits')).toFixed(2)}`);
console.log(`speedup local[2]/local[1], 4 splits:       ${(m('local[1] 4 splits') / m('local[2] 4 splits')).toFixed(2)}`);
console.log(`speedup plain 2 raw threads / plain:       ${(m('plain') / m('plain 2 raw threads')).toFixed(2)}`);
console.log(`load average: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
await plain2.terminate();
await fl1.stop();
await fl2.stop();
