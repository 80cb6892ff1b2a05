// Spark's ContextCleaner: once the program can no longer reach an RDD, its shuffle output and cached
// blocks go from every executor. Run in a child process with --expose-gc so collection is forced.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('shuffle outputs and cached blocks of unreachable RDDs are dropped on the executors; reachable ones stay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flint-cleaner-'));
  const script = join(dir, 'job.mjs');
  writeFileSync(
    script,
    `import { Flint } from ${JSON.stringify(join(root, 'dist', 'index.js'))};
const fl = await Flint.start({ master: 'local[2]' });
const removed = [];
fl.events.on('blockUpdated', (e) => { if (e.removed) removed.push(e.blockId); });
const kept = fl.parallelize([1, 2, 3, 4], 2).map((x) => [x % 2, x]).reduceByKey((a, b) => a + b);
await kept.collect();
const keptShuffle = kept.shuffleId;
let cachedId = -1;
let droppedShuffle = -1;
await (async () => {
  const cached = fl.parallelize([1, 2, 3, 4], 2).map((x) => x * 2).cache();
  cachedId = cached.id;
  const reduced = cached.map((x) => [x % 3, x]).reduceByKey((a, b) => a + b);
  droppedShuffle = reduced.shuffleId;
  await reduced.collect();
})();
for (let i = 0; i < 20; i++) {
  globalThis.gc();
  await new Promise((r) => setTimeout(r, 20));
  if (removed.some((b) => b.startsWith('rdd_')) && removed.some((b) => b.startsWith('shuffle_'))) break;
}
await fl.events.delivered();
console.log(JSON.stringify({ removed, cachedId, droppedShuffle, keptShuffle, keptAgain: await kept.collect() }));
await fl.stop();
`,
  );
  const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', script], { encoding: 'utf8', timeout: 30_000 }).trim().split('\n').pop()!);
  expect(out.removed.filter((b: string) => b.startsWith('rdd_')).sort()).toEqual([`rdd_${out.cachedId}_0`, `rdd_${out.cachedId}_1`]);
  expect(out.removed.filter((b: string) => b.startsWith(`shuffle_${out.droppedShuffle}_`)).sort()).toEqual([`shuffle_${out.droppedShuffle}_0`, `shuffle_${out.droppedShuffle}_1`]);
  expect(out.removed.some((b: string) => b.startsWith(`shuffle_${out.keptShuffle}_`))).toBe(false);
  expect(out.keptAgain.sort()).toEqual([[0, 6], [1, 4]]);
});
