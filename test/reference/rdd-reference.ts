/**
 * A plain, single-threaded model of an RDD as a list of partitions, written from the semantics in
 * PySpark's rdd.py (docstrings and code), independently of Flint's implementation. It is the oracle
 * of the API conformance tests, so it favours being obviously right over being fast.
 *
 * Partitioning is modelled exactly where Spark defines it (parallelize slicing, narrow
 * transformations, union, coalesce without shuffle, zip, cartesian, zipWithIndex/UniqueId, the
 * per-partition zero values of fold/aggregate/foldByKey/aggregateByKey). Where Spark leaves the
 * placement or order of shuffle output to the implementation (reduceByKey, groupByKey, distinct,
 * join, repartition...), the reference still produces the right number of partitions with every key
 * in one partition, but tests must compare such results as multisets (see `canonicalSort`,
 * `normalizeGroups`).
 */

/** Value equality of keys, as tuples compare in Python: a canonical string of the value. */
export function canon(v: unknown): string {
  switch (typeof v) {
    case 'undefined':
      return 'u';
    case 'boolean':
      return v ? 'T' : 'F';
    case 'number':
      if (Number.isNaN(v)) return 'nNaN';
      return `n${Object.is(v, -0) ? 0 : v}`;
    case 'bigint':
      return `b${v}`;
    case 'string':
      return `s${JSON.stringify(v)}`;
    case 'object': {
      if (v === null) return 'z';
      if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
      if (v instanceof Uint8Array) return `x(${Array.from(v).join(',')})`;
      if (v instanceof Map) return `M{${[...v.entries()].map(([k, x]) => `${canon(k)}=>${canon(x)}`).sort().join(',')}}`;
      const keys = Object.keys(v).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canon((v as Record<string, unknown>)[k])}`).join(',')}}`;
    }
    default:
      throw new Error(`reference: no canonical form for ${typeof v}`);
  }
}

function rank(v: unknown): number {
  if (v === undefined) return 0;
  if (v === null) return 1;
  if (typeof v === 'boolean') return 2;
  if (typeof v === 'number' || typeof v === 'bigint') return 3;
  if (typeof v === 'string') return 4;
  if (v instanceof Uint8Array) return 5;
  if (Array.isArray(v)) return 6;
  return 7;
}

function codePoints(s: string): number[] {
  return Array.from(s, (c) => c.codePointAt(0)!);
}

/**
 * Python's ordering for the values tests sort: numbers numerically, strings by code point (as
 * Python's str comparison), tuples (arrays) lexicographically with a shorter prefix first. Values
 * of different kinds get a fixed rank order so that the comparator is total.
 */
export function pyCompare(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) === Number.isNaN(b) ? 0 : Number.isNaN(a) ? 1 : -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') {
    const x = codePoints(a);
    const y = codePoints(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
    return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
  }
  if (typeof a === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = pyCompare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
  }
  if (ra <= 1) return 0;
  const x = canon(a);
  const y = canon(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A stable sort by `key` (Python's sorted(xs, key=key, reverse=...), which is stable too). */
export function sortedBy<T>(xs: readonly T[], key: (x: T) => unknown = (x) => x, descending = false): T[] {
  const sign = descending ? -1 : 1;
  return xs
    .map((x, i) => ({ x, k: key(x), i }))
    .sort((a, b) => sign * pyCompare(a.k, b.k) || a.i - b.i)
    .map((r) => r.x);
}

/** Canonical multiset order: for comparing results whose order Spark leaves open. */
export function canonicalSort<T>(xs: readonly T[]): T[] {
  return xs
    .map((x) => ({ x, c: canon(x) }))
    .sort((a, b) => (a.c < b.c ? -1 : a.c > b.c ? 1 : 0))
    .map((r) => r.x);
}

/** [k, vs] pairs with each vs sorted, then the pairs sorted: groupByKey/groupBy outputs. */
export function normalizeGroups<K, V>(pairs: readonly [K, V[]][]): [K, V[]][] {
  return canonicalSort(pairs.map(([k, vs]) => [k, canonicalSort(vs)] as [K, V[]]));
}

/** [k, [vs, ws, ...]] with every inner array sorted, then sorted: cogroup/groupWith outputs. */
export function normalizeCogroups<K>(pairs: readonly [K, unknown[][]][]): [K, unknown[][]][] {
  return canonicalSort(pairs.map(([k, gs]) => [k, gs.map((g) => canonicalSort(g))] as [K, unknown[][]]));
}

/** Entries of a Map as sorted pairs, for comparing countByKey/collectAsMap results. */
export function mapEntries<K, V>(m: Map<K, V>): [K, V][] {
  return canonicalSort([...m.entries()]);
}

function slices<T>(items: readonly T[], k: number): T[][] {
  const n = items.length;
  return Array.from({ length: k }, (_, i) => items.slice(Math.floor((i * n) / k), Math.floor(((i + 1) * n) / k)));
}

/** A deterministic spread of keys over n partitions, so that a key lives in exactly one. */
function bucketOf(key: unknown, n: number): number {
  const s = canon(key);
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return ((h % n) + n) % n;
}

function groupByCanon<T, K>(xs: readonly T[], key: (x: T) => K): Map<string, { key: K; items: T[] }> {
  const m = new Map<string, { key: K; items: T[] }>();
  for (const x of xs) {
    const k = key(x);
    const c = canon(k);
    let g = m.get(c);
    if (!g) m.set(c, (g = { key: k, items: [] }));
    g.items.push(x);
  }
  return m;
}

export class EmptyCollectionError extends Error {}

export interface StatsResult {
  count: number;
  mean: number;
  sum: number;
  min: number;
  max: number;
  variance: number;
  stdev: number;
  sampleVariance: number;
  sampleStdev: number;
}

export class RefRDD<T> {
  constructor(readonly partitions: T[][]) {}

  // ---- sources ---------------------------------------------------------------------------

  static parallelize<T>(data: readonly T[], numSlices: number): RefRDD<T> {
    return new RefRDD(slices(data, numSlices));
  }

  /** sc.range: like Python's range, sliced as parallelize slices. */
  static range(start: number, end?: number, step = 1, numSlices = 1): RefRDD<number> {
    if (end === undefined) [start, end] = [0, start];
    const xs: number[] = [];
    if (step > 0) for (let x = start; x < end; x += step) xs.push(x);
    else for (let x = start; x > end; x += step) xs.push(x);
    return RefRDD.parallelize(xs, numSlices);
  }

  static union<T>(rdds: readonly RefRDD<T>[]): RefRDD<T> {
    return new RefRDD(rdds.flatMap((r) => r.partitions.map((p) => [...p])));
  }

  static empty<T>(): RefRDD<T> {
    return new RefRDD<T>([]);
  }

  /** A shuffle output: `n` partitions, every key in exactly one (placement is not modelled). */
  private static shuffled<K, V>(pairs: readonly [K, V][], n: number): RefRDD<[K, V]> {
    const parts: [K, V][][] = Array.from({ length: n }, () => []);
    for (const kv of pairs) parts[bucketOf(kv[0], n)]!.push(kv);
    return new RefRDD(parts);
  }

  // ---- narrow transformations -----------------------------------------------------------

  getNumPartitions(): number {
    return this.partitions.length;
  }
  collect(): T[] {
    return this.partitions.flat(1) as T[];
  }
  glom(): RefRDD<T[]> {
    return new RefRDD(this.partitions.map((p) => [[...p]]));
  }
  map<U>(f: (x: T) => U): RefRDD<U> {
    return new RefRDD(this.partitions.map((p) => p.map((x) => f(x))));
  }
  flatMap<U>(f: (x: T) => Iterable<U>): RefRDD<U> {
    return new RefRDD(this.partitions.map((p) => p.flatMap((x) => [...f(x)])));
  }
  filter(f: (x: T) => unknown): RefRDD<T> {
    return new RefRDD(this.partitions.map((p) => p.filter((x) => f(x))));
  }
  mapPartitions<U>(f: (it: Iterator<T>) => Iterable<U>): RefRDD<U> {
    return new RefRDD(this.partitions.map((p) => [...f(p[Symbol.iterator]())]));
  }
  mapPartitionsWithIndex<U>(f: (i: number, it: Iterator<T>) => Iterable<U>): RefRDD<U> {
    return new RefRDD(this.partitions.map((p, i) => [...f(i, p[Symbol.iterator]())]));
  }
  keyBy<K>(f: (x: T) => K): RefRDD<[K, T]> {
    return this.map((x) => [f(x), x] as [K, T]);
  }
  union(other: RefRDD<T>): RefRDD<T> {
    return RefRDD.union([this, other]);
  }
  /** Spark's CoalescedRDD without locality: contiguous, evenly sized groups of parent partitions. */
  coalesce(numPartitions: number): RefRDD<T> {
    const m = this.partitions.length;
    const n = Math.min(numPartitions, m);
    return new RefRDD(
      Array.from({ length: n }, (_, i) => this.partitions.slice(Math.floor((i * m) / n), Math.floor(((i + 1) * m) / n)).flat(1) as T[]),
    );
  }
  /** Same multiset in `numPartitions` partitions; which record goes where is not specified. */
  repartition(numPartitions: number): RefRDD<T> {
    const all = this.collect();
    return new RefRDD(Array.from({ length: numPartitions }, (_, i) => all.filter((_, j) => j % numPartitions === i)));
  }
  zip<U>(other: RefRDD<U>): RefRDD<[T, U]> {
    if (this.partitions.length !== other.partitions.length) throw new Error('zip: different numbers of partitions');
    return new RefRDD(
      this.partitions.map((p, i) => {
        const q = other.partitions[i]!;
        if (p.length !== q.length) throw new Error('zip: different numbers of elements in a partition');
        return p.map((x, j) => [x, q[j]!] as [T, U]);
      }),
    );
  }
  zipWithIndex(): RefRDD<[T, number]> {
    let next = 0;
    return new RefRDD(this.partitions.map((p) => p.map((x) => [x, next++] as [T, number])));
  }
  /** Items in the kth partition get ids k, n+k, 2*n+k, ... (n = number of partitions). */
  zipWithUniqueId(): RefRDD<[T, number]> {
    const n = this.partitions.length;
    return new RefRDD(this.partitions.map((p, k) => p.map((x, i) => [x, i * n + k] as [T, number])));
  }
  /** Partition i * n2 + j pairs every x of partition i with every y of partition j, x-major. */
  cartesian<U>(other: RefRDD<U>): RefRDD<[T, U]> {
    const out: [T, U][][] = [];
    for (const p of this.partitions) for (const q of other.partitions) out.push(p.flatMap((x) => q.map((y) => [x, y] as [T, U])));
    return new RefRDD(out);
  }

  // ---- shuffles (multiset semantics) -----------------------------------------------------

  distinct(numPartitions = this.partitions.length): RefRDD<T> {
    const seen = groupByCanon(this.collect(), (x) => x);
    return RefRDD.shuffled(
      [...seen.values()].map((g) => [g.key, null] as [T, null]),
      numPartitions,
    ).map((kv) => kv[0]);
  }
  /** Elements of both, without duplicates. */
  intersection(other: RefRDD<T>): RefRDD<T> {
    const theirs = new Set(other.collect().map(canon));
    const n = Math.max(this.partitions.length, other.partitions.length);
    return this.filter((x) => theirs.has(canon(x))).distinct(n);
  }
  /** Elements of this not in other, duplicates kept. */
  subtract(other: RefRDD<T>): RefRDD<T> {
    const theirs = new Set(other.collect().map(canon));
    return this.filter((x) => !theirs.has(canon(x)));
  }
  groupBy<K>(f: (x: T) => K, numPartitions = this.partitions.length): RefRDD<[K, T[]]> {
    const groups = groupByCanon(this.collect(), f);
    return RefRDD.shuffled(
      [...groups.values()].map((g) => [g.key, g.items] as [K, T[]]),
      numPartitions,
    );
  }
  /** A total order: partition i holds a contiguous run of the sorted sequence. */
  sortBy(keyfunc: (x: T) => unknown, ascending = true, numPartitions = this.partitions.length): RefRDD<T> {
    const sorted = sortedBy(this.collect(), keyfunc, !ascending);
    return RefRDD.parallelize(sorted, Math.max(1, numPartitions));
  }

  // ---- actions ---------------------------------------------------------------------------

  count(): number {
    return this.collect().length;
  }
  first(): T {
    const all = this.collect();
    if (all.length === 0) throw new EmptyCollectionError('RDD is empty');
    return all[0]!;
  }
  take(n: number): T[] {
    return this.collect().slice(0, n);
  }
  isEmpty(): boolean {
    return this.count() === 0;
  }
  /** heapq.nsmallest(n, xs, key) == sorted(xs, key=key)[:n]. */
  takeOrdered(n: number, key?: (x: T) => unknown): T[] {
    return sortedBy(this.collect(), key).slice(0, n);
  }
  /** heapq.nlargest(n, xs, key) == sorted(xs, key=key, reverse=True)[:n]. */
  top(n: number, key?: (x: T) => unknown): T[] {
    return sortedBy(this.collect(), key, true).slice(0, n);
  }
  max(key?: (x: T) => unknown): T {
    if (this.isEmpty()) throw new EmptyCollectionError('max of an empty RDD');
    return this.top(1, key)[0]!;
  }
  min(key?: (x: T) => unknown): T {
    if (this.isEmpty()) throw new EmptyCollectionError('min of an empty RDD');
    return this.takeOrdered(1, key)[0]!;
  }
  /** Reduces each partition, then the partial results in partition order. */
  reduce(f: (a: T, b: T) => T): T {
    const partials = this.partitions.filter((p) => p.length > 0).map((p) => p.reduce((a, b) => f(a, b)));
    if (partials.length === 0) throw new EmptyCollectionError('Can not reduce() empty RDD');
    return partials.reduce((a, b) => f(a, b));
  }
  /** The zero value is used once per partition and once more to merge the partial results. */
  fold(zero: T, f: (a: T, b: T) => T): T {
    const partials = this.partitions.map((p) => p.reduce((a, b) => f(a, b), structuredClone(zero)));
    return partials.reduce((a, b) => f(a, b), structuredClone(zero));
  }
  aggregate<U>(zero: U, seqOp: (acc: U, x: T) => U, combOp: (a: U, b: U) => U): U {
    const partials = this.partitions.map((p) => p.reduce((a, x) => seqOp(a, x), structuredClone(zero)));
    return partials.reduce((a, b) => combOp(a, b), structuredClone(zero));
  }
  stats(this: RefRDD<number>): StatsResult {
    const xs = this.collect();
    const count = xs.length;
    const sum = xs.reduce((a, b) => a + b, 0);
    // PySpark's StatCounter starts at mu = 0.0 and mean() returns mu, also for no values.
    const mean = count === 0 ? 0 : sum / count;
    const m2 = xs.reduce((a, x) => a + (x - mean) * (x - mean), 0);
    const variance = count === 0 ? NaN : m2 / count;
    const sampleVariance = count <= 1 ? NaN : m2 / (count - 1);
    return {
      count,
      mean,
      sum,
      min: xs.reduce((a, b) => Math.min(a, b), Infinity),
      max: xs.reduce((a, b) => Math.max(a, b), -Infinity),
      variance,
      stdev: Math.sqrt(variance),
      sampleVariance,
      sampleStdev: Math.sqrt(sampleVariance),
    };
  }
  /**
   * PySpark's histogram: with an integer, `buckets` evenly spaced buckets between min and max
   * (integral bounds kept as integers when they divide evenly); with a list, the sorted bounds.
   * Buckets are [lo, hi) except the last, which is [lo, hi]; values outside are ignored. Evenly
   * spaced bounds use PySpark's arithmetic shortcut int((x - min) / inc), not a search, so values
   * near a bound land where PySpark puts them. Bounds may also be strings, compared as Python
   * compares str (bisect_right over the bounds).
   */
  histogram(this: RefRDD<number>, buckets: number | number[]): [number[], number[]];
  histogram(this: RefRDD<string>, buckets: string[]): [string[], number[]];
  histogram(this: RefRDD<number> | RefRDD<string>, buckets: number | number[] | string[]): [unknown[], number[]] {
    const xs = (this.collect() as unknown[]).filter((x) => x !== null && !(typeof x === 'number' && Number.isNaN(x))) as number[];
    let bounds: number[];
    let even: boolean;
    let inc = 0;
    if (typeof buckets === 'number') {
      if (xs.length === 0) throw new EmptyCollectionError('histogram of an empty RDD');
      const minv = xs.reduce((a, b) => Math.min(a, b));
      const maxv = xs.reduce((a, b) => Math.max(a, b));
      if (minv === maxv || buckets === 1) return [[minv, maxv], [xs.length]];
      inc = (maxv - minv) / buckets;
      if (Math.trunc(inc) * buckets === maxv - minv) inc = Math.trunc(inc);
      bounds = Array.from({ length: buckets }, (_, i) => i * inc + minv);
      bounds.push(maxv);
      even = true;
    } else {
      bounds = [...buckets] as number[];
      // Subtraction of strings fails in Python, which then takes the bisect path.
      if (typeof bounds[0] === 'number') {
        const steps = bounds.slice(1).map((b, i) => b - bounds[i]!);
        even = Math.max(...steps) - Math.min(...steps) < 1e-10;
        if (even) inc = (bounds[bounds.length - 1]! - bounds[0]!) / (bounds.length - 1);
      } else even = false;
    }
    const minv = bounds[0]!;
    const maxv = bounds[bounds.length - 1]!;
    const counters = new Array<number>(bounds.length).fill(0);
    for (const x of xs) {
      if (pyCompare(x, maxv) > 0 || pyCompare(x, minv) < 0) continue;
      let t: number;
      // Rounding (subnormal increments) can put x past the last counter; PySpark would fail with
      // IndexError there, Flint clamps to the last bucket, which is where x <= maxv belongs.
      if (even) {
        t = Math.trunc((x - minv) / inc);
        // An increment that underflowed to 0: Spark's (x - min) / (max - min) * buckets instead.
        if (!Number.isFinite(t)) t = Math.trunc(((x - minv) / (maxv - minv)) * (counters.length - 1));
        t = Math.min(t, counters.length - 1);
      }
      else {
        // bisect_right(bounds, x) - 1
        t = 0;
        while (t + 1 < bounds.length && pyCompare(bounds[t + 1]!, x) <= 0) t++;
      }
      counters[t]!++;
    }
    const last = counters.pop()!;
    counters[counters.length - 1]! += last;
    return [bounds, counters];
  }
  countByValue(): [T, number][] {
    return [...groupByCanon(this.collect(), (x) => x).values()].map((g) => [g.key, g.items.length] as [T, number]);
  }

  // ---- pair RDDs -------------------------------------------------------------------------

  keys<K>(this: RefRDD<[K, unknown]>): RefRDD<K> {
    return this.map((kv) => kv[0]);
  }
  values<V>(this: RefRDD<[unknown, V]>): RefRDD<V> {
    return this.map((kv) => kv[1]);
  }
  mapValues<K, V, U>(this: RefRDD<[K, V]>, f: (v: V) => U): RefRDD<[K, U]> {
    return this.map(([k, v]) => [k, f(v)] as [K, U]);
  }
  flatMapValues<K, V, U>(this: RefRDD<[K, V]>, f: (v: V) => Iterable<U>): RefRDD<[K, U]> {
    return this.flatMap(([k, v]) => [...f(v)].map((u) => [k, u] as [K, U]));
  }
  /**
   * Spark's combineByKey with map-side combining: within each input partition values of a key
   * become one combiner (createCombiner on the first, mergeValue on the rest); combiners of
   * different partitions are merged with mergeCombiners, in partition order.
   */
  combineByKey<K, V, C>(
    this: RefRDD<[K, V]>,
    createCombiner: (v: V) => C,
    mergeValue: (c: C, v: V) => C,
    mergeCombiners: (a: C, b: C) => C,
    numPartitions = this.partitions.length,
  ): RefRDD<[K, C]> {
    const merged = new Map<string, { key: K; c: C }>();
    for (const p of this.partitions) {
      const local = new Map<string, { key: K; c: C }>();
      for (const [k, v] of p) {
        const ck = canon(k);
        const e = local.get(ck);
        if (e) e.c = mergeValue(e.c, v);
        else local.set(ck, { key: k, c: createCombiner(v) });
      }
      for (const [ck, e] of local) {
        const m = merged.get(ck);
        if (m) m.c = mergeCombiners(m.c, e.c);
        else merged.set(ck, { key: e.key, c: e.c });
      }
    }
    return RefRDD.shuffled(
      [...merged.values()].map((e) => [e.key, e.c] as [K, C]),
      numPartitions,
    );
  }
  reduceByKey<K, V>(this: RefRDD<[K, V]>, f: (a: V, b: V) => V, numPartitions = this.partitions.length): RefRDD<[K, V]> {
    return this.combineByKey((v) => v, f, f, numPartitions);
  }
  foldByKey<K, V>(this: RefRDD<[K, V]>, zero: V, f: (a: V, b: V) => V, numPartitions = this.partitions.length): RefRDD<[K, V]> {
    return this.combineByKey((v) => f(structuredClone(zero), v), f, f, numPartitions);
  }
  aggregateByKey<K, V, U>(
    this: RefRDD<[K, V]>,
    zero: U,
    seqFunc: (u: U, v: V) => U,
    combFunc: (a: U, b: U) => U,
    numPartitions = this.partitions.length,
  ): RefRDD<[K, U]> {
    return this.combineByKey((v) => seqFunc(structuredClone(zero), v), seqFunc, combFunc, numPartitions);
  }
  groupByKey<K, V>(this: RefRDD<[K, V]>, numPartitions = this.partitions.length): RefRDD<[K, V[]]> {
    const groups = groupByCanon(this.collect(), (kv) => kv[0]);
    return RefRDD.shuffled(
      [...groups.values()].map((g) => [g.key, g.items.map((kv) => kv[1])] as [K, V[]]),
      numPartitions,
    );
  }
  /** Same pairs, `numPartitions` partitions, each key in exactly one of them. */
  partitionBy<K, V>(this: RefRDD<[K, V]>, numPartitions: number): RefRDD<[K, V]> {
    return RefRDD.shuffled(this.collect(), numPartitions);
  }
  sortByKey<K, V>(this: RefRDD<[K, V]>, ascending = true, numPartitions = this.partitions.length, keyfunc: (k: K) => unknown = (k) => k): RefRDD<[K, V]> {
    return this.sortBy((kv) => keyfunc(kv[0]), ascending, numPartitions);
  }
  /** For each key in any input, [k, [values in rdd 0, values in rdd 1, ...]]. */
  static groupWith<K>(rdds: readonly RefRDD<[K, unknown]>[], numPartitions?: number): RefRDD<[K, unknown[][]]> {
    const groups = new Map<string, { key: K; vs: unknown[][] }>();
    rdds.forEach((r, i) => {
      for (const [k, v] of r.collect()) {
        const ck = canon(k);
        let g = groups.get(ck);
        if (!g) groups.set(ck, (g = { key: k, vs: rdds.map(() => []) }));
        g.vs[i]!.push(v);
      }
    });
    const n = numPartitions ?? Math.max(...rdds.map((r) => r.partitions.length));
    return RefRDD.shuffled(
      [...groups.values()].map((g) => [g.key, g.vs] as [K, unknown[][]]),
      Math.max(1, n),
    );
  }
  cogroup<K, V, W>(this: RefRDD<[K, V]>, other: RefRDD<[K, W]>, numPartitions?: number): RefRDD<[K, [V[], W[]]]> {
    return RefRDD.groupWith<K>([this, other], numPartitions) as unknown as RefRDD<[K, [V[], W[]]]>;
  }
  private joinWith<K, V, W, A, B>(other: RefRDD<[K, W]>, keepLeft: boolean, keepRight: boolean, numPartitions?: number): RefRDD<[K, [A, B]]> {
    const self = this as unknown as RefRDD<[K, V]>;
    return self.cogroup(other, numPartitions).flatMapValues(([vs, ws]) => {
      const left: (V | null)[] = vs.length === 0 && keepRight ? [null] : vs;
      const right: (W | null)[] = ws.length === 0 && keepLeft ? [null] : ws;
      return left.flatMap((v) => right.map((w) => [v, w] as unknown as [A, B]));
    });
  }
  join<K, V, W>(this: RefRDD<[K, V]>, other: RefRDD<[K, W]>, numPartitions?: number): RefRDD<[K, [V, W]]> {
    return this.joinWith(other, false, false, numPartitions);
  }
  leftOuterJoin<K, V, W>(this: RefRDD<[K, V]>, other: RefRDD<[K, W]>, numPartitions?: number): RefRDD<[K, [V, W | null]]> {
    return this.joinWith(other, true, false, numPartitions);
  }
  rightOuterJoin<K, V, W>(this: RefRDD<[K, V]>, other: RefRDD<[K, W]>, numPartitions?: number): RefRDD<[K, [V | null, W]]> {
    return this.joinWith(other, false, true, numPartitions);
  }
  fullOuterJoin<K, V, W>(this: RefRDD<[K, V]>, other: RefRDD<[K, W]>, numPartitions?: number): RefRDD<[K, [V | null, W | null]]> {
    return this.joinWith(other, true, true, numPartitions);
  }
  subtractByKey<K, V, W>(this: RefRDD<[K, V]>, other: RefRDD<[K, W]>): RefRDD<[K, V]> {
    const theirs = new Set(other.collect().map((kv) => canon(kv[0])));
    return this.filter((kv) => !theirs.has(canon(kv[0])));
  }
  countByKey<K>(this: RefRDD<[K, unknown]>): [K, number][] {
    return this.keys().countByValue();
  }
  /** dict(collect()): a later pair for a key overwrites an earlier one. */
  collectAsMap<K, V>(this: RefRDD<[K, V]>): [K, V][] {
    const m = new Map<string, [K, V]>();
    for (const [k, v] of this.collect()) {
      const ck = canon(k);
      const e = m.get(ck);
      m.set(ck, [e ? e[0] : k, v]);
    }
    return [...m.values()];
  }
  lookup<K, V>(this: RefRDD<[K, V]>, key: K): V[] {
    const ck = canon(key);
    return this.collect()
      .filter((kv) => canon(kv[0]) === ck)
      .map((kv) => kv[1]);
  }
  reduceByKeyLocally<K, V>(this: RefRDD<[K, V]>, f: (a: V, b: V) => V): [K, V][] {
    return this.reduceByKey(f).collect();
  }
}
