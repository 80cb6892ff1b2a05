/**
 * Issue 12's jobs, at any size, for `npm run bench:spill` (full sizes) and test/engine/spill.test.ts
 * (a tenth): each computes its answer in the executors and brings back a small summary, and each
 * knows the right summary from arithmetic alone (never from Flint). `runJob` runs one on a fresh
 * local[2] context and reports what the executors needed and spilled.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Flint, StorageLevel, type FlintEvent, type FlintOptions, type RDD } from 'flint';


// Names the closures receive through env.
declare const N: number;
export type TaskEnd = Extract<FlintEvent, { type: 'taskEnd' }>;

export interface SpillJob<T> {
  name: string;
  run(fl: Flint): Promise<T>;
  expected: T;
  /**
   * What must be whole in memory whatever the budget (the values of groupByKey's hot key, as
   * memory/size.ts estimates them), past which a bounded run may go.
   */
  wholeBytes?: number;
}

/** reduceByKey('sum') (the WebAssembly aggregation) over `keys` distinct keys, each seen twice. */
export function sumJob(keys: number): SpillJob<Map<boolean, number>> {
  return {
    name: `reduceByKey('sum') over ${keys.toLocaleString('en')} distinct keys`,
    run: (fl) =>
      fl
        .range(0, 2 * keys, 1, 4)
        .map((i) => [`k${i % N}`, i] as [string, number], { env: { N: keys } })
        .reduceByKey('sum')
        .map(([k, s]) => s === 2 * Number(k.slice(1)) + N, { env: { N: keys } })
        .countByValue(),
    expected: new Map([[true, keys]]),
  };
}

/** The same with a lambda: the record path (combiners in JavaScript maps). */
export function lambdaJob(keys: number): SpillJob<Map<boolean, number>> {
  return {
    name: `a lambda reduceByKey over ${keys.toLocaleString('en')} distinct keys`,
    run: (fl) =>
      fl
        .range(0, 2 * keys, 1, 4)
        .map((i) => [`k${i % N}`, i] as [string, number], { env: { N: keys } })
        .reduceByKey((a, b) => a + b)
        .map(([k, s]) => s === 2 * Number(k.slice(1)) + N, { env: { N: keys } })
        .countByValue(),
    expected: new Map([[true, keys]]),
  };
}

export interface SortSummary {
  count: number;
  /** Every partition holds consecutive keys in order, the partitions follow each other from 0. */
  inOrder: boolean;
  /** Each key still has its own value. */
  consistent: boolean;
}

/** Keys are a permutation of 0..M-1 (7919 is prime to M), so the sorted keys are exactly 0..M-1. */
const PRIME = 7919;
/**
 * Bound inside closures through `env` (declared for the type checker only): a closure's free names
 * must not be module-level bindings, which a bundler may rename.
 */
declare const P: number;

/** A sorted pair RDD of a permutation of 0..M-1, checked partition by partition as it streams. */
export async function sortSummary(sorted: RDD<[number, number]>, M: number): Promise<SortSummary> {
  const parts = await sorted
    .mapPartitionsWithIndex(
      function* (p, it) {
        let n = 0;
        let first = -1;
        let last = -1;
        let consecutive = true;
        let consistent = true;
        for (const [k, v] of it) {
          if (n === 0) first = k;
          else if (k !== last + 1) consecutive = false;
          if ((v * P) % M !== k) consistent = false;
          last = k;
          n++;
        }
        yield { p, n, first, last, consecutive, consistent };
      },
      { env: { M, P: PRIME } },
    )
    .collect();
  parts.sort((a, b) => a.p - b.p);
  let next = 0;
  let inOrder = true;
  for (const x of parts) {
    if (x.n === 0) continue;
    if (!x.consecutive || x.first !== next) inOrder = false;
    next = x.last + 1;
  }
  return { count: parts.reduce((s, x) => s + x.n, 0), inOrder: inOrder && next === M, consistent: parts.every((x) => x.consistent) };
}

/** sortByKey of `records` pairs (the range-partitioned shuffle and its external merge sort). */
export function sortJob(records: number): SpillJob<SortSummary> {
  const M = records;
  return {
    name: `sortByKey of ${records.toLocaleString('en')} records`,
    run: (fl) =>
      sortSummary(
        fl
          .range(0, M, 1, 4)
          .map((i) => [(i * P) % M, i] as [number, number], { env: { M, P: PRIME } })
          .sortByKey(),
        M,
      ),
    expected: { count: M, inOrder: true, consistent: true },
  };
}

/** groupByKey where one key has `hot` values and `hot` others have one each. */
export function groupJob(hot: number): SpillJob<Map<string, number>> {
  const H = hot;
  return {
    name: `groupByKey where one key has ${hot.toLocaleString('en')} values`,
    run: (fl) =>
      fl
        .range(0, 2 * H, 1, 4)
        .map((i) => (i % 2 === 0 ? ['hot', i] : [`k${i}`, i]) as [string, number])
        .groupByKey()
        .map(([k, vs]) => {
          if (k !== 'hot') return vs.length === 1 && vs[0] === Number(k.slice(1)) ? 'single' : `bad ${k}`;
          let sum = 0;
          let ordered = true;
          for (let i = 0; i < vs.length; i++) {
            sum += vs[i]!;
            if (i > 0 && vs[i]! <= vs[i - 1]!) ordered = false;
          }
          // Values of a key keep the order of their map partitions (the range is in order).
          return `hot ${vs.length} ${sum} ${ordered}`;
        })
        .countByValue(),
    expected: new Map([
      ['single', H],
      [`hot ${H} ${H * (H - 1)} true`, 1],
    ]),
    // The hot key's array of H numbers: a header and 8 bytes a slot plus 8 a number.
    wholeBytes: 32 + 16 * H,
  };
}

/** A join of two `n`-record RDDs, each key once on each side. */
export function joinJob(n: number): SpillJob<Map<boolean, number>> {
  const J = n;
  return {
    name: `a join of two ${n.toLocaleString('en')}-record RDDs`,
    run: (fl) => {
      const a = fl.range(0, J, 1, 4).map((i) => [i, `a${i}`] as [number, string]);
      // (3i mod J) is a permutation of 0..J-1 when 3 does not divide J.
      const b = fl.range(0, J, 1, 4).map((i) => [(i * 3) % J, i] as [number, number], { env: { J } });
      return a
        .join(b)
        .map(([k, [x, y]]) => x === `a${k}` && (y * 3) % J === k, { env: { J } })
        .countByValue();
    },
    expected: new Map([[true, J]]),
  };
}

export interface PersistSummary {
  /** The sum of the line numbers, once per pass. */
  sums: number[];
  /** Lines read from the file in each pass: only the first pass computes the RDD. */
  reads: number[];
}

/** Sums the line numbers of `rdd` (["line i", i] records) three times, and counts the lines each pass read from its file. */
export async function threePasses(fl: Flint, rdd: RDD<[string, number]>): Promise<PersistSummary> {
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
}

/** persist(MEMORY_AND_DISK) of a text file's `lines` lines ("line i"), then three passes over it. */
export function persistJob(path: string, lines: number): SpillJob<PersistSummary> {
  const total = (lines * (lines - 1)) / 2;
  return {
    name: `persist(MEMORY_AND_DISK) of ${lines.toLocaleString('en')} lines, read back twice`,
    async run(fl) {
      const rdd = fl
        .textFile(path, 8)
        .map((l) => [l, Number(l.slice(5))] as [string, number])
        .persist(StorageLevel.MEMORY_AND_DISK);
      return threePasses(fl, rdd);
    },
    expected: { sums: [total, total, total], reads: [lines, 0, 0] },
  };
}

/** Every file under `dir`, relative to it. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)));
}

/** Spill runs and partition buffers: what a task removes when it ends (map outputs may stay). */
export const isSpillFile = (f: string): boolean => /-(agg|combiners|sort|partition)$/.test(f);

export interface JobRun<T> {
  answer: T;
  ms: number;
  ends: TaskEnd[];
  /** Most execution memory one task held. */
  peak: number;
  /** Bytes of cached blocks the executors stored (in memory, or on disk once they moved there). */
  cached: number;
  spilledToDisk: number;
  /** Files under the spill directory after the job (before stop), and after stop. */
  filesAfterJob: string[];
  filesAfterStop: string[];
}

/** Runs one job on a fresh local[2] context whose executors spill under `spillDir`. */
export async function runJob<T>(job: SpillJob<T> | ((fl: Flint) => Promise<T>), spillDir: string, options: FlintOptions = {}): Promise<JobRun<T>> {
  const fl = await Flint.start({ master: 'local[2]', appName: 'spill', spillDir, ...options });
  const ends: TaskEnd[] = [];
  let cached = 0;
  fl.events.on('taskEnd', (e) => ends.push(e));
  fl.events.on('blockUpdated', (e) => void (e.removed ? 0 : (cached += e.bytes)));
  let answer: T;
  let filesAfterJob: string[];
  const t0 = performance.now();
  let ms: number;
  try {
    answer = await (typeof job === 'function' ? job(fl) : job.run(fl));
    ms = performance.now() - t0;
    filesAfterJob = filesUnder(spillDir);
  } finally {
    await fl.stop();
  }
  return {
    answer,
    ms,
    ends,
    peak: Math.max(0, ...ends.map((e) => e.metrics?.peakExecutionMemory ?? 0)),
    cached,
    spilledToDisk: ends.reduce((n, e) => n + (e.metrics?.diskBytesSpilled ?? 0), 0),
    filesAfterJob,
    filesAfterStop: filesUnder(spillDir),
  };
}
