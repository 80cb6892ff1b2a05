/**
 * Diagnostics behind bench/engine.ts (not part of `npm run bench:engine`):
 *   node scripts/run-ts.mjs bench/diag-engine.ts [path-to-text]
 * - where each task of the word count runs (executor, start/end) on local[2], for the default
 *   split count and for 4 splits;
 * - how big the messages the driver posts to executors are (Worker.prototype.postMessage is
 *   wrapped to measure the structured-clone size of each task message) for the benched jobs.
 */
import { performance } from 'node:perf_hooks';
import { serialize } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { Flint } from 'flint';
import { median } from './lib/stats.js';

const path = process.argv[2] ?? 'bench/data/zipf-10000000-v50000-s1.05-seed42.txt';

// Every driver→executor message goes through Worker.prototype.postMessage (thread backend).
const sent: Array<{ t: string; bytes: number; ms: number }> = [];
let measureSizes = false;
const origPost = Worker.prototype.postMessage;
Worker.prototype.postMessage = function (this: Worker, msg: unknown, transfer?: never) {
  if (measureSizes && msg && typeof msg === 'object' && (msg as { t?: string }).t === 'task') {
    const bytes = serialize(msg).byteLength;
    const t0 = performance.now();
    origPost.call(this, msg, transfer);
    sent.push({ t: 'task', bytes, ms: performance.now() - t0 });
    return;
  }
  return origPost.call(this, msg, transfer);
};

async function descriptorSizes(fl: Flint, label: string, job: () => Promise<unknown>): Promise<void> {
  await job();
  sent.length = 0;
  measureSizes = true;
  const t0 = performance.now();
  await job();
  const ms = performance.now() - t0;
  measureSizes = false;
  const sizes = sent.map((s) => s.bytes);
  const post = sent.map((s) => s.ms);
  console.log(
    `${label}: ${sent.length} task messages, clone size median ${median(sizes)} B (max ${Math.max(...sizes)} B), ` +
      `postMessage call median ${(median(post) * 1000).toFixed(1)} µs, job ${ms.toFixed(1)} ms (timed with size measurement on)`,
  );
}

async function placement(fl: Flint, minPartitions: number | undefined): Promise<void> {
  const starts = new Map<number, { exec: string; stage: number; part: number; t: number }>();
  const rows: string[] = [];
  const off1 = fl.events.on('taskStart', (e) => starts.set(e.taskId, { exec: e.executorId, stage: e.stageId, part: e.partition, t: e.time }));
  let t0 = 0;
  const off2 = fl.events.on('taskEnd', (e) => {
    const s = starts.get(e.taskId)!;
    rows.push(`    stage ${s.stage} part ${s.part} on ${s.exec}: start +${s.t - t0} ms, end +${e.time - t0} ms, executor-side ${e.metrics?.durationMs} ms`);
  });
  const rdd = minPartitions ? fl.textFile(path, minPartitions) : fl.textFile(path);
  const job = () =>
    rdd
      .flatMap((l) => l.split(/\s+/))
      .filter((w) => w.length > 0)
      .map((w) => [w, 1] as [string, number])
      .reduceByKey((a, b) => a + b)
      .count();
  await job(); // warm
  rows.length = 0;
  t0 = Date.now();
  const p0 = performance.now();
  await job();
  console.log(`  ${fl.master}, textFile(path${minPartitions ? `, ${minPartitions}` : ''}) → ${rdd.getNumPartitions()} partitions: ${(performance.now() - p0).toFixed(0)} ms`);
  for (const r of rows) console.log(r);
  off1();
  off2();
}

const fl2 = await Flint.start({ master: 'local[2]', appName: 'diag' });
console.log('Task placement, word count:');
await placement(fl2, undefined);
await placement(fl2, 4);
const fl1 = await Flint.start({ master: 'local[1]', appName: 'diag1' });
await placement(fl1, undefined);
await placement(fl1, 4);
await fl1.stop();

console.log('\nTask message sizes (driver → executor):');
await descriptorSizes(fl2, 'parallelize([], 2000).foreachPartition', () => fl2.parallelize([], 2000).foreachPartition(() => {}));
await descriptorSizes(fl2, 'range(0, 0, 1, 2000).count', () => fl2.range(0, 0, 1, 2000).count());
await descriptorSizes(fl2, 'range(0, 0, 1, 10000).count', () => fl2.range(0, 0, 1, 10000).count());
await descriptorSizes(fl2, 'parallelize(range(100)).count', () => fl2.parallelize(Array.from({ length: 100 }, (_, i) => i)).count());
await descriptorSizes(fl2, 'word count', () =>
  fl2.textFile(path).flatMap((l) => l.split(/\s+/)).filter((w) => w.length > 0).map((w) => [w, 1] as [string, number]).reduceByKey((a, b) => a + b).count(),
);
await fl2.stop();
