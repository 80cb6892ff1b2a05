/**
 * Shuffle diagnostics (not part of `npm run bench:engine`): node scripts/run-ts.mjs bench/diag-shuffle.ts [records]
 * Per-stage timing of the bench's reduceByKey job on local[2]: map tasks (generate, combine, encode),
 * reduce tasks (fetch, decode, merge, count), with the executors they ran on.
 */
import { Flint } from 'flint';

declare const K: number;
const M = Number(process.argv[2] ?? 2_000_000);
const fl = await Flint.start({ master: 'local[2]', appName: 'diag-shuffle' });
const rows: string[] = [];
const starts = new Map<number, number>();
let t0 = 0;
fl.events.on('taskStart', (e) => starts.set(e.taskId, e.time));
fl.events.on('taskEnd', (e) => {
  const m = e.metrics!;
  rows.push(`  stage ${e.stageId} part ${e.partition} on ${e.executorId}: +${starts.get(e.taskId)! - t0}..+${e.time - t0} ms, ` +
    `executor ${m.durationMs} ms, records written ${m.recordsWritten}, shuffle write ${(m.shuffleWriteBytes / 1e6).toFixed(2)} MB, read ${(m.shuffleReadBytes / 1e6).toFixed(2)} MB`);
});
const job = () => fl.range(0, M, 1, 2).map((i) => ['k' + (i % K), i] as [string, number], { env: { K: M } }).reduceByKey((a, b) => a + b, { numPartitions: 2 }).count();
for (let r = 0; r < 3; r++) {
  rows.length = 0;
  t0 = Date.now();
  await job();
  console.log(`run ${r}: ${Date.now() - t0} ms`);
  for (const row of rows) console.log(row);
}
// The same with few keys: map-side combine shrinks the shuffle to almost nothing.
rows.length = 0;
t0 = Date.now();
await fl.range(0, M, 1, 2).map((i) => ['k' + (i % K), i] as [string, number], { env: { K: 1000 } }).reduceByKey((a, b) => a + b, { numPartitions: 2 }).count();
console.log(`1000 keys: ${Date.now() - t0} ms`);
for (const row of rows) console.log(row);
await fl.stop();
