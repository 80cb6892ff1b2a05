/**
 * Narrow operators over a stream of record batches. Consecutive record-at-a-time operators are
 * composed into one push function, so a chain of map/filter/flatMap runs in a single pass over each
 * batch without intermediate arrays; operators that need the whole partition (mapPartitions, glom,
 * the per-partition parts of actions) collect it first.
 */
import { KeyMap } from '../codec/keys.js';
import { compareValues } from '../codec/order.js';
import type { ClosureSpec } from '../codec/closure.js';
import type { OpDesc } from '../plan/plan.js';
import { SeededRandom, partitionSeed } from './random.js';
import { addValue, emptyStats } from './stats.js';

export type Batches = AsyncIterable<unknown[]>;
type Push = (x: unknown) => void;
type Instantiate = (spec: ClosureSpec) => Function;

const RECORD_OPS = new Set<OpDesc['op']>([
  'map', 'filter', 'flatMap', 'mapValues', 'flatMapValues', 'keyBy', 'keys', 'values', 'pairWithNull', 'swap',
  'sample', 'sampleByKey', 'randomSplit', 'zipWithIndex', 'zipWithUniqueId',
]);

export function applyOps(ops: readonly OpDesc[], input: Batches, partition: number, instantiate: Instantiate): Batches {
  let stream = input;
  let i = 0;
  while (i < ops.length) {
    if (RECORD_OPS.has(ops[i]!.op)) {
      let j = i;
      while (j < ops.length && RECORD_OPS.has(ops[j]!.op)) j++;
      stream = recordStage(ops.slice(i, j), stream, partition, instantiate);
      i = j;
    } else {
      stream = partitionStage(ops[i]!, stream, partition, instantiate);
      i++;
    }
  }
  return stream;
}

async function* recordStage(ops: OpDesc[], input: Batches, partition: number, instantiate: Instantiate): Batches {
  let out: unknown[] = [];
  let push: Push = (x) => out.push(x);
  for (let k = ops.length - 1; k >= 0; k--) push = compose(ops[k]!, push, partition, instantiate);
  for await (const batch of input) {
    for (let r = 0; r < batch.length; r++) push(batch[r]);
    if (out.length > 0) {
      yield out;
      out = [];
    }
  }
}

function compose(op: OpDesc, down: Push, partition: number, instantiate: Instantiate): Push {
  switch (op.op) {
    case 'map': {
      const f = instantiate(op.f) as (x: unknown) => unknown;
      return (x) => down(f(x));
    }
    case 'filter': {
      const f = instantiate(op.f) as (x: unknown) => unknown;
      return (x) => {
        if (f(x)) down(x);
      };
    }
    case 'flatMap': {
      const f = instantiate(op.f) as (x: unknown) => Iterable<unknown>;
      return (x) => {
        const ys = f(x);
        if (Array.isArray(ys)) for (let i = 0; i < ys.length; i++) down(ys[i]);
        else for (const y of iterableResult(ys, 'flatMap')) down(y);
      };
    }
    case 'mapValues': {
      const f = instantiate(op.f) as (v: unknown) => unknown;
      return (x) => {
        const [k, v] = x as [unknown, unknown];
        down([k, f(v)]);
      };
    }
    case 'flatMapValues': {
      const f = instantiate(op.f) as (v: unknown) => Iterable<unknown>;
      return (x) => {
        const [k, v] = x as [unknown, unknown];
        for (const y of iterableResult(f(v), 'flatMapValues')) down([k, y]);
      };
    }
    case 'keyBy': {
      const f = instantiate(op.f) as (x: unknown) => unknown;
      return (x) => down([f(x), x]);
    }
    case 'keys':
      return (x) => down((x as unknown[])[0]);
    case 'values':
      return (x) => down((x as unknown[])[1]);
    case 'pairWithNull':
      return (x) => down([x, null]);
    case 'swap':
      return (x) => down([(x as unknown[])[1], (x as unknown[])[0]]);
    case 'sample': {
      const rng = new SeededRandom(partitionSeed(op.seed, partition));
      const { fraction } = op;
      if (op.withReplacement) {
        return (x) => {
          for (let n = rng.poisson(fraction); n > 0; n--) down(x);
        };
      }
      return (x) => {
        if (rng.next() < fraction) down(x);
      };
    }
    case 'sampleByKey': {
      const rng = new SeededRandom(partitionSeed(op.seed, partition));
      const fractions = new KeyMap<number>();
      for (const [k, f] of op.fractions) fractions.set(k, f);
      return (x) => {
        const k = (x as unknown[])[0];
        const f = fractions.get(k);
        if (f === undefined) throw new Error(`sampleByKey: no fraction given for key ${String(k)}`);
        if (op.withReplacement) for (let n = rng.poisson(f); n > 0; n--) down(x);
        else if (rng.next() < f) down(x);
      };
    }
    case 'randomSplit': {
      // Every split draws the same sequence, so the splits partition the data exactly.
      const rng = new SeededRandom(partitionSeed(op.seed, partition));
      const { lower, upper } = op;
      return (x) => {
        const u = rng.next();
        if (u >= lower && u < upper) down(x);
      };
    }
    case 'zipWithIndex': {
      let index = op.startIndices[partition]!;
      return (x) => down([x, index++]);
    }
    case 'zipWithUniqueId': {
      let k = 0;
      const n = op.numPartitions;
      return (x) => down([x, k++ * n + partition]);
    }
    default:
      throw new Error(`internal: ${op.op} is not a record operator`);
  }
}

function iterableResult(ys: unknown, method: string): Iterable<unknown> {
  if (ys != null && typeof (ys as Iterable<unknown>)[Symbol.iterator] === 'function') return ys as Iterable<unknown>;
  throw new TypeError(`the function given to ${method} must return an iterable (an array, a Set, a generator...), got ${ys === null ? 'null' : typeof ys}`);
}

export async function collectAll(input: Batches): Promise<unknown[]> {
  let all: unknown[] | null = null;
  for await (const batch of input) {
    if (all === null) all = batch;
    else for (let i = 0; i < batch.length; i++) all.push(batch[i]);
  }
  return all ?? [];
}

const BATCH = 4096;

function* batchesOf(iterable: Iterable<unknown>): Generator<unknown[]> {
  if (Array.isArray(iterable)) {
    if (iterable.length > 0) yield iterable;
    return;
  }
  let out: unknown[] = [];
  for (const x of iterable) {
    out.push(x);
    if (out.length === BATCH) {
      yield out;
      out = [];
    }
  }
  if (out.length > 0) yield out;
}

async function* partitionStage(op: OpDesc, input: Batches, partition: number, instantiate: Instantiate): Batches {
  switch (op.op) {
    case 'mapPartitions': {
      const records = await collectAll(input);
      const f = instantiate(op.f) as (...args: unknown[]) => unknown;
      const it = records[Symbol.iterator]();
      const result = op.withIndex ? f(partition, it) : f(it);
      yield* batchesOf(iterableResult(result, op.withIndex ? 'mapPartitionsWithIndex' : 'mapPartitions'));
      return;
    }
    case 'glom':
      yield [await collectAll(input)];
      return;
    case 'take': {
      const out: unknown[] = [];
      if (op.n > 0) {
        for await (const batch of input) {
          for (const x of batch) {
            out.push(x);
            if (out.length >= op.n) break;
          }
          if (out.length >= op.n) break;
        }
      }
      yield out;
      return;
    }
    case 'count': {
      let n = 0;
      for await (const batch of input) n += batch.length;
      yield [n];
      return;
    }
    case 'stats': {
      const s = emptyStats();
      for await (const batch of input) {
        for (const x of batch) {
          if (typeof x !== 'number') throw new TypeError(`numeric action on a non-number record: ${String(x)}`);
          addValue(s, x);
        }
      }
      yield [s];
      return;
    }
    case 'countByValue': {
      const counts = new KeyMap<number>();
      for await (const batch of input) for (const x of batch) counts.set(x, (counts.get(x) ?? 0) + 1);
      yield [...counts.entries()];
      return;
    }
    case 'histogram': {
      const counts = new Array<number>(op.buckets.length - 1).fill(0);
      const b = op.buckets;
      const last = b.length - 1;
      for await (const batch of input) {
        for (const x of batch) {
          if (typeof x !== 'number' || Number.isNaN(x) || x < b[0]! || x > b[last]!) continue;
          let i: number;
          if (op.evenBuckets) {
            // PySpark's formula; the value equal to the last bound lands in the last bucket.
            i = Math.min(Math.floor((x - b[0]!) / op.inc), last - 1);
          } else {
            let lo = 0;
            let hi = last;
            while (hi - lo > 1) {
              const mid = (lo + hi) >>> 1;
              if (x < b[mid]!) hi = mid;
              else lo = mid;
            }
            i = lo;
          }
          counts[i]!++;
        }
      }
      yield [counts];
      return;
    }
    case 'takeOrdered': {
      const key = op.key ? (instantiate(op.key) as (x: unknown) => unknown) : null;
      const sign = op.descending ? -1 : 1;
      const rows: Array<{ k: unknown; x: unknown }> = [];
      for await (const batch of input) {
        for (const x of batch) rows.push({ k: key ? key(x) : x, x });
        if (rows.length > 4 * op.n + 1024) trim(rows, op.n, sign);
      }
      trim(rows, op.n, sign);
      yield rows.map((r) => r.x);
      return;
    }
    case 'sortPartition': {
      const records = await collectAll(input);
      const key = op.key ? (instantiate(op.key) as (x: unknown) => unknown) : null;
      const sign = op.ascending ? 1 : -1;
      // Wrapped so that undefined takes part in the comparison (sort moves bare undefined last).
      const keyed = records.map((x) => ({ k: key ? key(x) : x, x }));
      keyed.sort((a, b) => sign * compareValues(a.k, b.k));
      yield keyed.map((r) => r.x);
      return;
    }
    default:
      throw new Error(`internal: ${op.op} is not a partition operator`);
  }
}

function trim(rows: Array<{ k: unknown; x: unknown }>, n: number, sign: number): void {
  rows.sort((a, b) => sign * compareValues(a.k, b.k));
  rows.length = Math.min(rows.length, n);
}
