// Issue 12's promise, at a tenth of its sizes (`npm run bench:spill` runs the full ones, with the
// same jobs from bench/lib/spill-jobs.ts): each job first runs with an unbounded budget, which tells
// what it needs in memory (its tasks' peak execution memory); then again with `executorMemoryMb` a
// quarter of that. It must give the right answer (known from arithmetic, not from Flint), fail no
// task (no OUT_OF_MEMORY), spill, stay near its budget, and leave no spill file behind.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Flint } from 'flint';
import { filesUnder, groupJob, isSpillFile, joinJob, lambdaJob, persistJob, runJob, sortJob, sumJob, type SpillJob } from '../../bench/lib/spill-jobs.js';

const root = mkdtempSync(join(tmpdir(), 'flint-spill-jobs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const MB = 1024 * 1024;

/**
 * The job unbounded, then at a quarter of the memory it needed: both right, the second spilling
 * within its budget, no task failed, no spill file left.
 */
async function atAQuarter<T>(tag: string, job: SpillJob<T>): Promise<void> {
  // Without speculation: on a loaded machine a task taken over is killed (not a failure, but not
  // the clean run this checks), and its files are removed only once it has stopped, after the job.
  const free = await runJob(job, join(root, `${tag}-unbounded`), { speculation: false });
  expect(free.answer).toEqual(job.expected);
  expect(free.spilledToDisk).toBe(0);
  const budgetMb = free.peak / 4 / MB;
  expect(budgetMb).toBeGreaterThan(1);
  const tight = await runJob(job, join(root, `${tag}-quarter`), { executorMemoryMb: budgetMb, speculation: false });
  expect(tight.answer).toEqual(job.expected);
  expect(tight.ends.filter((e) => e.status !== 'success').map((e) => e.error)).toEqual([]);
  expect(tight.spilledToDisk).toBeGreaterThan(0);
  // One batch or frame may go past the budget before its consumer spills, and one group (of the
  // hot key) must be whole in memory, as in Spark: a budget below that group's size is exceeded by it.
  expect(tight.peak).toBeLessThanOrEqual(Math.max(budgetMb * MB, job.wholeBytes ?? 0) * 1.1 + 2 * MB);
  expect(tight.filesAfterJob.filter(isSpillFile)).toEqual([]);
  expect(tight.filesAfterStop).toEqual([]);
}

// A tenth of issue 12's sizes.
describe('at a quarter of the memory they need, jobs spill and give the right answer', () => {
  it('reduceByKey(\'sum\') over 1,000,000 distinct keys (the WebAssembly aggregation)', () => atAQuarter('sum', sumJob(1_000_000)));
  it('a lambda reduceByKey over 1,000,000 distinct keys (the record path)', () => atAQuarter('lambda', lambdaJob(1_000_000)));
  it('sortByKey of 2,000,000 records (range shuffle, external merge sort)', () => atAQuarter('sort', sortJob(2_000_000)));
  it('groupByKey where one key has 500,000 values', () => atAQuarter('group', groupJob(500_000)));
  it('a join of two 500,000-record RDDs', () => atAQuarter('join', joinJob(500_000)));
});

describe('persist(MEMORY_AND_DISK) of an RDD four times the cache memory', () => {
  it('reads it back twice from memory and disk, without recomputing it', async () => {
    const lines = 400_000;
    const path = join(root, 'persist-input.txt');
    writeFileSync(path, Array.from({ length: lines }, (_, i) => `line ${i}`).join('\n') + '\n');
    const job = persistJob(path, lines);
    // The answer counts the input lines each pass read: a speculative copy of a slow task (on a
    // loaded machine) runs where the block is not, and recomputes it from the file.
    const free = await runJob(job, join(root, 'persist-unbounded'), { speculation: false });
    expect(free.answer).toEqual(job.expected);
    // Each of the two executors holds about half the blocks: four times its cache memory.
    const cacheMemoryMb = free.cached / 2 / 4 / MB;
    const tight = await runJob(job, join(root, 'persist-quarter'), { cacheMemoryMb, speculation: false });
    expect(tight.answer).toEqual(job.expected);
    expect(tight.ends.filter((e) => e.status !== 'success')).toEqual([]);
    // At most a quarter of the eight blocks fit in memory: the others were read back from disk.
    expect(tight.filesAfterJob.filter((f) => f.split(sep).pop()!.startsWith('rdd_')).length).toBeGreaterThanOrEqual(4);
    expect(tight.filesAfterStop).toEqual([]);
  });
});

describe('spill directories', () => {
  it('an executor killed in the middle of a spill: the job recovers and its files are removed by its parent', async () => {
    const spillDir = join(root, 'killed');
    let victim: string | null = null;
    let victimDir: string | null = null;
    const job = sortJob(1_000_000);
    const run = await runJob(
      async (fl: Flint) => {
        // Watches the spill directory from the driver's thread while the executors spill.
        const watcher = setInterval(() => {
          if (victim) return;
          const spilling = filesUnder(spillDir).find(isSpillFile);
          if (!spilling) return;
          const parts = spilling.split(sep);
          victim = parts[parts.length - 2]!;
          victimDir = join(spillDir, ...parts.slice(0, -1));
          void fl.killExecutor(victim);
        }, 5);
        try {
          const answer = await job.run(fl);
          expect(existsSync(victimDir!)).toBe(false);
          expect(fl.executorIds()).not.toContain(victim);
          return answer;
        } finally {
          clearInterval(watcher);
        }
      },
      spillDir,
      { executorMemoryMb: 4, speculation: false },
    );
    expect(run.answer).toEqual(job.expected);
    expect(victim).not.toBeNull();
    expect(run.filesAfterStop).toEqual([]);
  });

  it('at start, directories left by processes that died are removed; a live process keeps its own', async () => {
    const spillDir = join(root, 'leftovers');
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const leftover = join(spillDir, `flint-${dead}-0badc0de`, 'threads-0', 'thread-1');
    mkdirSync(leftover, { recursive: true });
    writeFileSync(join(leftover, 't3-0-sort'), 'x');
    const live = join(spillDir, `flint-${process.ppid}-00c0ffee`);
    mkdirSync(live, { recursive: true });
    const fl = await Flint.start({ master: 'local', spillDir });
    await fl.stop();
    expect(existsSync(join(spillDir, `flint-${dead}-0badc0de`))).toBe(false);
    expect(existsSync(live)).toBe(true);
  });
});
