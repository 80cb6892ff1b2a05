// Issue 12's promise, at a tenth of its sizes (`npm run bench:spill` runs the full ones): each job
// first runs with an unbounded budget, which tells what it needs in memory (its tasks' peak
// execution memory); then again with `executorMemoryMb` a quarter of that. It must give the right
// answer (checked against arithmetic, not against Flint), fail no task (no OUT_OF_MEMORY), spill,
// stay near its budget, and leave no spill file behind.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Flint, StorageLevel, type FlintEvent, type FlintOptions, type RDD } from 'flint';

type TaskEnd = Extract<FlintEvent, { type: 'taskEnd' }>;

const root = mkdtempSync(join(tmpdir(), 'flint-spill-jobs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)));
}

/** Spill runs and partition buffers: what a task must remove when it ends (map outputs may stay). */
const spillFile = (f: string) => /-(agg|combiners|sort|partition)$/.test(f);

interface Run<T> {
  answer: T;
  ends: TaskEnd[];
  /** Most execution memory a task held. */
  peak: number;
  spilledToDisk: number;
  /** Files under the spill directory once the job is over (before stop) and after stop. */
  filesAfterJob: string[];
  filesAfterStop: string[];
}

async function run<T>(name: string, options: FlintOptions, job: (fl: Flint) => Promise<T>): Promise<Run<T>> {
  const spillDir = join(root, name);
  const fl = await Flint.start({ master: 'local[2]', spillDir, ...options });
  const ends: TaskEnd[] = [];
  fl.events.on('taskEnd', (e) => ends.push(e));
  let answer: T;
  let filesAfterJob: string[];
  try {
    answer = await job(fl);
    filesAfterJob = filesUnder(spillDir);
  } finally {
    await fl.stop();
  }
  const peak = Math.max(0, ...ends.map((e) => e.metrics?.peakExecutionMemory ?? 0));
  const spilledToDisk = ends.reduce((n, e) => n + (e.metrics?.diskBytesSpilled ?? 0), 0);
  return { answer, ends, peak, spilledToDisk, filesAfterJob, filesAfterStop: filesUnder(spillDir) };
}

/**
 * The job unbounded, then at a quarter of the memory it needed: both right, the second spilling
 * within its budget, no task failed, no spill file left.
 */
async function atAQuarter<T>(name: string, job: (fl: Flint) => Promise<T>, expected: T): Promise<void> {
  const free = await run(`${name}-unbounded`, {}, job);
  expect(free.answer).toEqual(expected);
  expect(free.spilledToDisk).toBe(0);
  const budgetMb = free.peak / 4 / (1024 * 1024);
  expect(budgetMb).toBeGreaterThan(1);
  const tight = await run(`${name}-quarter`, { executorMemoryMb: budgetMb }, job);
  expect(tight.answer).toEqual(expected);
  expect(tight.ends.filter((e) => e.status !== 'success').map((e) => e.error)).toEqual([]);
  expect(tight.spilledToDisk).toBeGreaterThan(0);
  // One batch or frame may go past the budget before its consumer spills.
  expect(tight.peak).toBeLessThanOrEqual(budgetMb * 1024 * 1024 * 1.1 + (2 << 20));
  expect(tight.filesAfterJob.filter(spillFile)).toEqual([]);
  expect(tight.filesAfterStop).toEqual([]);
}

// A tenth of issue 12's sizes.
const KEYS = 1_000_000;
const SORTED = 2_000_000;
const HOT = 500_000;
const JOINED = 500_000;

describe('at a quarter of the memory they need, jobs spill and give the right answer', () => {
  it(`reduceByKey('sum') over ${KEYS.toLocaleString('en')} distinct keys (the WebAssembly aggregation)`, async () => {
    await atAQuarter(
      'sum',
      (fl) =>
        fl
          .range(0, 2 * KEYS, 1, 4)
          .map((i) => [`k${i % N}`, i] as [string, number], { env: { N: KEYS } })
          .reduceByKey('sum')
          .map(([k, s]) => s === 2 * Number(k.slice(1)) + N, { env: { N: KEYS } })
          .countByValue(),
      new Map([[true, KEYS]]),
    );
  });

  it(`a lambda reduceByKey over ${KEYS.toLocaleString('en')} distinct keys (the record path)`, async () => {
    await atAQuarter(
      'lambda',
      (fl) =>
        fl
          .range(0, 2 * KEYS, 1, 4)
          .map((i) => [`k${i % N}`, i] as [string, number], { env: { N: KEYS } })
          .reduceByKey((a, b) => a + b)
          .map(([k, s]) => s === 2 * Number(k.slice(1)) + N, { env: { N: KEYS } })
          .countByValue(),
      new Map([[true, KEYS]]),
    );
  });

  it(`sortByKey of ${SORTED.toLocaleString('en')} records (range shuffle, external merge sort)`, async () => {
    // Keys are a permutation of 0..M-1 (7919 is prime to M); each partition is checked as it streams.
    const M = SORTED;
    const P = 7919;
    const job = async (fl: Flint) => {
      const parts = await fl
        .range(0, M, 1, 4)
        .map((i) => [(i * P) % M, i] as [number, number], { env: { M, P } })
        .sortByKey()
        .mapPartitionsWithIndex(
          function* (p, it) {
            let n = 0;
            let first = -1;
            let last = -1;
            let ordered = true;
            let consistent = true;
            let sum = 0;
            for (const [k, v] of it) {
              if (n === 0) first = k;
              else if (k < last) ordered = false;
              if ((v * P) % M !== k) consistent = false;
              last = k;
              sum += k;
              n++;
            }
            yield { p, n, first, last, ordered, consistent, sum };
          },
          { env: { M, P } },
        )
        .collect();
      parts.sort((a, b) => a.p - b.p);
      const nonEmpty = parts.filter((x) => x.n > 0);
      return {
        count: parts.reduce((s, x) => s + x.n, 0),
        sum: parts.reduce((s, x) => s + x.sum, 0),
        ordered: parts.every((x) => x.ordered && x.consistent) && nonEmpty.every((x, i) => i === 0 || nonEmpty[i - 1]!.last < x.first),
        spread: nonEmpty.length > 1,
      };
    };
    await atAQuarter('sort', job, { count: M, sum: (M * (M - 1)) / 2, ordered: true, spread: true });
  });

  it(`groupByKey where one key has ${HOT.toLocaleString('en')} values`, async () => {
    const H = HOT;
    await atAQuarter(
      'group',
      (fl) =>
        fl
          .range(0, 2 * H, 1, 4)
          .map((i) => (i % 2 === 0 ? ['hot', i] : [`k${i}`, i]) as [string, number])
          .groupByKey()
          .map(([k, vs]) => {
            if (k !== 'hot') return vs.length === 1 && vs[0] === Number(k.slice(1)) ? 'single' : `bad ${k}`;
            let sum = 0;
            for (const v of vs) sum += v;
            return `hot ${vs.length} ${sum}`;
          })
          .countByValue(),
      new Map([
        ['single', H],
        [`hot ${H} ${H * (H - 1)}`, 1],
      ]),
    );
  });

  it(`a join of two ${JOINED.toLocaleString('en')}-record RDDs`, async () => {
    const J = JOINED;
    await atAQuarter(
      'join',
      (fl) => {
        const a = fl.range(0, J, 1, 4).map((i) => [i, `a${i}`] as [number, string]);
        // (3i mod J) is a permutation of 0..J-1: each key once on each side.
        const b = fl.range(0, J, 1, 4).map((i) => [(i * 3) % J, i] as [number, number], { env: { J } });
        return a
          .join(b)
          .map(([k, [x, y]]) => x === `a${k}` && (y * 3) % J === k, { env: { J } })
          .countByValue();
      },
      new Map([[true, J]]),
    );
  });
});

describe('persist(MEMORY_AND_DISK) of an RDD four times the cache memory', () => {
  it('reads it back twice from memory and disk, without recomputing it', async () => {
    const R = 400_000;
    const dir = join(root, 'persist-input');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'lines.txt');
    writeFileSync(path, Array.from({ length: R }, (_, i) => `line ${i}`).join('\n') + '\n');
    const job = async (fl: Flint) => {
      const rdd: RDD<[string, number]> = fl
        .textFile(path, 8)
        .map((l) => [l, Number(l.slice(5))] as [string, number])
        .persist(StorageLevel.MEMORY_AND_DISK);
      const sums: number[] = [];
      const reads: number[] = [];
      for (let pass = 0; pass < 3; pass++) {
        let read = 0;
        const off = fl.events.on('taskEnd', (e) => void (read += e.metrics?.recordsRead ?? 0));
        sums.push(await rdd.map(([l, i]) => (l === `line ${i}` ? i : NaN)).sum());
        off();
        reads.push(read);
      }
      return { sums, reads };
    };
    const expected = { sums: [0, 1, 2].map(() => (R * (R - 1)) / 2), reads: [R, 0, 0] };
    // Unbounded: how much the cached blocks take in memory.
    let cachedBytes = 0;
    const free = await run('persist-unbounded', {}, async (fl) => {
      fl.events.on('blockUpdated', (e) => void (e.removed ? 0 : (cachedBytes += e.bytes)));
      return job(fl);
    });
    expect(free.answer).toEqual(expected);
    // Each of the two executors holds about half the blocks: four times its cache memory.
    const cacheMemoryMb = cachedBytes / 2 / 4 / (1024 * 1024);
    const spillDir = join(root, 'persist-quarter');
    let onDisk: string[] = [];
    const tight = await run('persist-quarter', { cacheMemoryMb }, async (fl) => {
      const answer = await job(fl);
      onDisk = filesUnder(spillDir).filter((f) => f.split(sep).pop()!.startsWith('rdd_'));
      return answer;
    });
    expect(tight.answer).toEqual(expected);
    expect(tight.ends.filter((e) => e.status !== 'success')).toEqual([]);
    // Most blocks live on disk: at most a quarter fit in memory.
    expect(onDisk.length).toBeGreaterThanOrEqual(4);
    expect(tight.filesAfterStop).toEqual([]);
  });
});

describe('spill directories', () => {
  it('an executor killed in the middle of a spill: the job recovers and its files are removed by its parent', async () => {
    const M = 1_000_000;
    const spillDir = join(root, 'killed');
    const fl = await Flint.start({ master: 'local[2]', spillDir, executorMemoryMb: 4, speculation: false });
    let victim: string | null = null;
    let victimDir: string | null = null;
    // Watches the spill directory from the driver's thread while the executors spill.
    const watcher = setInterval(() => {
      if (victim) return;
      const spilling = filesUnder(spillDir).find((f) => spillFile(f));
      if (!spilling) return;
      const parts = spilling.split(sep);
      victim = parts[parts.length - 2]!;
      victimDir = join(spillDir, ...parts.slice(0, -1));
      void fl.killExecutor(victim);
    }, 5);
    let answer: number[];
    try {
      answer = await fl
        .range(0, M, 1, 4)
        .map((i) => [(i * 7919) % M, i] as [number, number], { env: { M } })
        .sortByKey()
        .mapPartitions(function* (it) {
          let n = 0;
          let last = -1;
          for (const [k] of it) {
            if (k < last) throw new Error('out of order');
            last = k;
            n++;
          }
          yield n;
        })
        .collect();
    } finally {
      clearInterval(watcher);
    }
    expect(answer.reduce((a, b) => a + b, 0)).toBe(M);
    expect(victim).not.toBeNull();
    expect(existsSync(victimDir!)).toBe(false);
    expect(fl.executorIds()).not.toContain(victim);
    await fl.stop();
    expect(filesUnder(spillDir)).toEqual([]);
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
