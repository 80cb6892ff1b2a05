/**
 * The jobs of bench:engine's "lambda" section (issue 11) and their plain single-threaded twins, shared
 * by the bench (bench/engine.ts) and the child processes it starts for cold starts and peak memory
 * (bench/lambda-child.ts). Each Flint job and its twin compute the same thing; `summary` of both must
 * agree.
 */
import type { Flint, RDD } from 'flint';
import { plainWordCount as baselineWordCount } from './baselines.js';

/** Bound inside closures through `{ env }`; declared for the type checker only. */
declare const K: number;
declare const rnd: (i: number) => number;

/** Keys of the reduceByKey job: `[i % KEYS, i]`. */
export const KEYS = 100_000;

/**
 * A deterministic "random" float in [0, 1) for index i (two 32-bit integer hashes, 53 bits): the sort
 * job's input, generated the same way on executors and by the plain baseline.
 */
export function rand53(i: number): number {
  let a = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  a ^= a >>> 13;
  a = Math.imul(a, 0xc2b2ae35);
  a ^= a >>> 16;
  let b = Math.imul((i + 0x632be5ab) ^ 0x27d4eb2f, 0x165667b1);
  b ^= b >>> 15;
  b = Math.imul(b, 0x27d4eb2f);
  b ^= b >>> 16;
  return ((a >>> 0) * 2097152 + ((b >>> 0) >>> 11)) / 9007199254740992;
}

export interface Summary {
  n: number;
  check: number;
}

// --- word count --------------------------------------------------------------------------------

export async function lambdaWordCount(fl: Flint, path: string): Promise<Summary> {
  const pairs = await fl
    .textFile(path)
    .flatMap((l) => l.split(/\s+/))
    .filter((w) => w.length > 0)
    .map((w) => [w, 1] as [string, number])
    .reduceByKey((a, b) => a + b)
    .collect();
  let total = 0;
  for (const [, n] of pairs) total += n;
  return { n: pairs.length, check: total };
}

export function plainWordCount(path: string): Summary {
  const { distinct, total } = baselineWordCount(path);
  return { n: distinct, check: total };
}

// --- reduceByKey ---------------------------------------------------------------------------------

export async function lambdaReduceByKey(fl: Flint, n: number): Promise<Summary> {
  const pairs = await fl
    .range(0, n, 1, 2)
    .map((i) => [i % K, i] as [number, number], { env: { K: KEYS } })
    .reduceByKey((a, b) => a + b)
    .collect();
  let check = 0;
  for (const [k, v] of pairs) check += (v % 1_000_003) * ((k % 7) + 1);
  return { n: pairs.length, check };
}

export function plainReduceByKey(n: number): Summary {
  const m = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const kv: [number, number] = [i % KEYS, i];
    m.set(kv[0], (m.get(kv[0]) ?? 0) + kv[1]);
  }
  let check = 0;
  for (const [k, v] of m) check += (v % 1_000_003) * ((k % 7) + 1);
  return { n: m.size, check };
}

// --- sortBy ---------------------------------------------------------------------------------------

/** Order-sensitive checksum of a sorted sequence, the same for an array and a Float64Array. */
function sortedCheck(xs: ArrayLike<number>): number {
  let c = 0;
  for (let i = 0; i < xs.length; i += 997) c = (c * 31 + Math.floor(xs[i]! * 1e6) + i) % 1_000_000_007;
  for (let i = 1; i < xs.length; i++) if (xs[i - 1]! > xs[i]!) return -1;
  return c;
}

/** The sort job's input: n floats rand53(i), in two partitions, computed on the executors. */
export function randomFloats(fl: Flint, n: number): RDD<number> {
  return fl.range(0, n, 1, 2).map((i) => rnd(i), { env: { rnd: rand53 } });
}

export async function lambdaSortBy(fl: Flint, n: number): Promise<Summary> {
  const xs = await randomFloats(fl, n)
    .sortBy((x) => x)
    .collect();
  return { n: xs.length, check: sortedCheck(xs) };
}

/** The sort's input alone: collected to the driver, or counted (for the sort's peak memory's context). */
export async function floatsAlone(fl: Flint, n: number, job: string): Promise<Summary> {
  const floats = randomFloats(fl, n);
  if (job === 'count') return { n: await floats.count(), check: 0 };
  if (job !== 'collect') throw new Error(`unknown job ${job}: sort, collect or count`);
  const xs = await floats.collect();
  return { n: xs.length, check: xs.length > 0 ? xs[0]! + xs[xs.length - 1]! : 0 };
}

export function plainSortBy(n: number): Summary {
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) xs[i] = rand53(i);
  xs.sort();
  return { n: xs.length, check: sortedCheck(xs) };
}

// --- the cold-start job ---------------------------------------------------------------------------

/** What a first job does: read text, lambdas, a shuffle, the operators for the sort of its result. */
export async function coldJob(fl: Flint, path: string): Promise<Summary> {
  const top = await fl
    .textFile(path)
    .flatMap((l) => l.split(' '))
    .map((w) => [w, 1] as [string, number])
    .reduceByKey((a, b) => a + b)
    .sortBy(([, n]) => -n)
    .take(10);
  return { n: top.length, check: top.reduce((s, [, n]) => s + n, 0) };
}
