/**
 * Resilient distributed datasets: the user-facing classes. Transformations are synchronous and
 * lazy (they only build lineage, capturing closures at once so that a bad closure fails where it was
 * written); actions run jobs through the context and return Promises. Semantics follow PySpark's
 * rdd.py method by method.
 */
import { captureClosure } from '../codec/closure-capture.js';
import type { ClosureSpec } from '../codec/closure-spec.js';
import { KeyMap } from '../codec/keys.js';
import { compareValues } from '../codec/order.js';
import { decodeRecords } from '../codec/records.js';
import { FlintError } from '../errors.js';
import { SeededRandom } from '../exec/random.js';
import { mergeStats, emptyStats, toStatCounter, type StatCounter, type Stats } from '../exec/stats.js';
import type { Dependency, LineageNode, ShuffleDependency } from '../plan/lineage.js';
import type { AggregatorDesc, OpDesc, PartitionerDesc, PlanNode, StorageLevelDesc } from '../plan/plan.js';
import type { FileSplit } from '../plan/sources.js';
import { callSite } from './call-site.js';
import type { Flint } from './context.js';
import { FunctionPartitioner, HashPartitioner, Partitioner, RangePartitioner, RoundRobinPartitioner, determineBounds } from './partitioner.js';
import { StorageLevel } from './storage-level.js';

export type Env = Record<string, unknown>;
export interface EnvOption {
  env?: Env;
}
export interface PartitionOptions extends EnvOption {
  numPartitions?: number;
}
export type BuiltinReducer = 'sum' | 'min' | 'max';

type Pair<K, V> = [K, V];
// RDD<T> is invariant in T; internal plumbing takes any RDD.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRDD = RDD<any>;

function capture(f: unknown, method: string, env?: Env): ClosureSpec {
  return captureClosure(f, { method, env });
}

function checkCount(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new FlintError('INVALID_ARGUMENT', `${what} must be a non-negative integer, got ${String(n)}`);
  }
  return n;
}

function checkPartitions(n: unknown, method: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new FlintError('INVALID_ARGUMENT', `${method}: numPartitions must be a positive integer, got ${String(n)}`);
  }
  return n;
}

function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

const emptyCollection = (what: string) => new FlintError('INVALID_ARGUMENT', `${what}: the RDD is empty`);

export abstract class RDD<T> implements LineageNode {
  readonly id: number;
  readonly callSite: string;
  private _name: string | null = null;
  private storage: StorageLevel | null = null;
  private checkpointRequested = false;
  private localCheckpointRequested = false;
  private checkpointed: string[] | null = null;
  private localCheckpointed = false;

  constructor(
    readonly context: Flint,
    method: string,
  ) {
    this.id = context._newRddId();
    this.callSite = callSite(method);
  }

  // ---- lineage (LineageNode) -------------------------------------------------------------

  abstract numPartitions(): number;
  abstract dependencies(): Dependency[];
  abstract planNode(child: (rdd: LineageNode) => PlanNode): PlanNode;
  sliceBytes(_partition: number): Uint8Array | null {
    return null;
  }
  storageDesc(): StorageLevelDesc | null {
    return this.storage;
  }
  checkpointFiles(): string[] | null {
    return this.checkpointed;
  }
  /** @internal Spark's `partitioner` of the records' keys, when known. */
  get partitioner(): Partitioner | null {
    return null;
  }

  // ---- properties and persistence -------------------------------------------------------

  get name(): string | null {
    return this._name;
  }
  setName(name: string): this {
    this._name = name;
    return this;
  }
  getNumPartitions(): number {
    return this.numPartitions();
  }
  cache(): this {
    return this.persist(StorageLevel.MEMORY_ONLY);
  }
  persist(level: StorageLevel = StorageLevel.MEMORY_ONLY): this {
    if (this.storage && !this.storage.equals(level)) {
      throw new FlintError('INVALID_ARGUMENT', `Cannot change the storage level of RDD ${this.id} after it was already assigned a level (${this.storage.toString()})`);
    }
    this.storage = level;
    this.context._cleaner.registerCached(this, this.id);
    return this;
  }
  unpersist(_blocking = false): this {
    this.storage = null;
    this.context._dropCachedBlocks(this.id);
    return this;
  }
  get isCached(): boolean {
    return this.storage !== null;
  }
  getStorageLevel(): StorageLevel {
    return this.storage ?? StorageLevel.NONE;
  }
  /** Saves to the checkpoint directory after the next job that computes this RDD, then forgets its lineage. */
  checkpoint(): void {
    if (!this.context._checkpointDir) {
      throw new FlintError('CHECKPOINT_DIR_NOT_SET', 'checkpoint() needs a checkpoint directory: call fl.setCheckpointDir(dir) first');
    }
    this.checkpointRequested = true;
  }
  get isCheckpointed(): boolean {
    return this.checkpointed !== null || this.localCheckpointed;
  }
  getCheckpointFile(): string | null {
    return this.checkpointed ? this.context._checkpointPathOf(this.id) : null;
  }
  /** Keeps partitions in executor memory after the next job; lost blocks are recomputed from lineage. */
  localCheckpoint(): this {
    this.persist(StorageLevel.MEMORY_AND_DISK);
    this.localCheckpointRequested = true;
    return this;
  }
  /** @internal Runs after a job over this RDD's lineage: writes requested checkpoints. */
  async _afterJob(): Promise<void> {
    const visit = async (rdd: LineageNode, seen: Set<number>) => {
      if (seen.has(rdd.id)) return;
      seen.add(rdd.id);
      if (rdd instanceof RDD) {
        if (rdd.localCheckpointRequested) rdd.localCheckpointed = true;
        if (rdd.checkpointRequested && !rdd.checkpointed) {
          rdd.checkpointRequested = false;
          rdd.checkpointed = await rdd.context._writeCheckpoint(rdd);
          return;
        }
      }
      if (rdd.checkpointFiles()) return;
      for (const d of rdd.dependencies()) await visit(d.kind === 'narrow' ? d.rdd : d.dep.rdd, seen);
    };
    await visit(this, new Set());
  }

  toDebugString(): string {
    const lines: string[] = [];
    const visit = (rdd: LineageNode, indent: string, first: boolean) => {
      const r = rdd as AnyRDD;
      const storage = r.storage ? ` [${r.storage.toString()}]` : '';
      const label = `${r.constructor.name}[${r.id}] at ${r.callSite}${storage}`;
      lines.push(`${indent}${first ? `(${rdd.numPartitions()}) ` : ' |  '}${label}`.replace(' |  (', '('));
      if (rdd.checkpointFiles()) return;
      for (const d of rdd.dependencies()) {
        if (d.kind === 'narrow') visit(d.rdd, indent, false);
        else {
          lines.push(`${indent} +-(${d.dep.rdd.numPartitions()}) ${(d.dep.rdd as AnyRDD).constructor.name}[${d.dep.rdd.id}] at ${d.dep.rdd.callSite}`);
          const sub = d.dep.rdd as AnyRDD;
          for (const dd of sub.checkpointFiles() ? [] : sub.dependencies()) {
            visit(dd.kind === 'narrow' ? dd.rdd : dd.dep.rdd, indent + '    ', false);
          }
        }
      }
    };
    visit(this, '', true);
    return lines.join('\n');
  }

  toString(): string {
    return `${this.constructor.name}[${this.id}] at ${this.callSite}`;
  }

  // ---- narrow transformations ------------------------------------------------------------

  /** @internal */
  _pipe<U>(method: string, ops: OpDesc[], preservesPartitioning = false): RDD<U> {
    return new MapPartitionsRDD<U>(this, method, ops, preservesPartitioning);
  }

  map<U>(f: (x: T) => U, opts: EnvOption & { preservesPartitioning?: boolean } = {}): RDD<U> {
    return this._pipe('map', [{ op: 'map', f: capture(f, 'map', opts.env) }], opts.preservesPartitioning);
  }
  flatMap<U>(f: (x: T) => Iterable<U>, opts: EnvOption & { preservesPartitioning?: boolean } = {}): RDD<U> {
    return this._pipe('flatMap', [{ op: 'flatMap', f: capture(f, 'flatMap', opts.env) }], opts.preservesPartitioning);
  }
  filter(f: (x: T) => unknown, opts: EnvOption = {}): RDD<T> {
    return this._pipe('filter', [{ op: 'filter', f: capture(f, 'filter', opts.env) }], true);
  }
  mapPartitions<U>(f: (it: Iterator<T>) => Iterable<U>, opts: EnvOption & { preservesPartitioning?: boolean } = {}): RDD<U> {
    return this._pipe('mapPartitions', [{ op: 'mapPartitions', f: capture(f, 'mapPartitions', opts.env), withIndex: false }], opts.preservesPartitioning);
  }
  mapPartitionsWithIndex<U>(f: (index: number, it: Iterator<T>) => Iterable<U>, opts: EnvOption & { preservesPartitioning?: boolean } = {}): RDD<U> {
    return this._pipe(
      'mapPartitionsWithIndex',
      [{ op: 'mapPartitions', f: capture(f, 'mapPartitionsWithIndex', opts.env), withIndex: true }],
      opts.preservesPartitioning,
    );
  }
  glom(): RDD<T[]> {
    return this._pipe('glom', [{ op: 'glom' }]);
  }
  keyBy<K>(f: (x: T) => K, opts: EnvOption = {}): RDD<[K, T]> {
    return this._pipe('keyBy', [{ op: 'keyBy', f: capture(f, 'keyBy', opts.env) }]);
  }
  sample(withReplacement: boolean, fraction: number, seed: number = randomSeed()): RDD<T> {
    if (!(fraction >= 0)) throw new FlintError('INVALID_ARGUMENT', `sample: fraction must be >= 0, got ${fraction}`);
    if (!withReplacement && fraction > 1) throw new FlintError('INVALID_ARGUMENT', `sample: fraction must be in [0, 1] without replacement, got ${fraction}`);
    return this._pipe('sample', [{ op: 'sample', withReplacement, fraction, seed }], true);
  }
  randomSplit(weights: number[], seed: number = randomSeed()): RDD<T>[] {
    if (!Array.isArray(weights) || weights.length === 0 || weights.some((w) => !(w >= 0))) {
      throw new FlintError('INVALID_ARGUMENT', 'randomSplit: weights must be non-negative numbers');
    }
    const total = weights.reduce((a, b) => a + b, 0);
    if (!(total > 0)) throw new FlintError('INVALID_ARGUMENT', 'randomSplit: the sum of weights must be positive');
    const out: RDD<T>[] = [];
    let lower = 0;
    for (const w of weights) {
      const upper = lower + w / total;
      out.push(this._pipe('randomSplit', [{ op: 'randomSplit', lower, upper, seed }], true));
      lower = upper;
    }
    return out;
  }
  union(other: RDD<T>): RDD<T> {
    return new UnionRDD<T>(this.context, [this, other]);
  }
  cartesian<U>(other: RDD<U>): RDD<[T, U]> {
    return new CartesianRDD<T, U>(this, other);
  }
  zip<U>(other: RDD<U>): RDD<[T, U]> {
    if (this.numPartitions() !== other.numPartitions()) {
      throw new FlintError('INVALID_ARGUMENT', `zip: can only zip RDDs with the same number of partitions (${this.numPartitions()} vs ${other.numPartitions()})`);
    }
    return new ZippedRDD<T, U>(this, other);
  }
  zipWithIndex(): RDD<[T, number]> {
    return new ZipWithIndexRDD<T>(this);
  }
  zipWithUniqueId(): RDD<[T, number]> {
    return this._pipe('zipWithUniqueId', [{ op: 'zipWithUniqueId', numPartitions: this.numPartitions() }]);
  }
  coalesce(numPartitions: number, opts: { shuffle?: boolean } = {}): RDD<T> {
    checkPartitions(numPartitions, 'coalesce');
    if (opts.shuffle) {
      const keyed = this._pipe<[null, T]>('repartition', [{ op: 'pairWithNull' }, { op: 'swap' }]);
      const shuffled = new ShuffledRDD<null, T, T>(keyed, 'repartition', new RoundRobinPartitioner(numPartitions), null, false, null);
      return shuffled._pipe<T>('repartition', [{ op: 'values' }]);
    }
    return new CoalescedRDD<T>(this, numPartitions);
  }
  repartition(numPartitions: number): RDD<T> {
    return this.coalesce(numPartitions, { shuffle: true });
  }
  distinct(opts: { numPartitions?: number } = {}): RDD<T> {
    const n = opts.numPartitions ?? this.numPartitions();
    // Counting each value is keeping one of each: the built-in lets the hash aggregation do it.
    return this._pipe<[T, null]>('distinct', [{ op: 'pairWithNull' }])
      ._combine<null>('distinct', { kind: 'builtin', name: 'count' }, new HashPartitioner(n), true)
      ._pipe<T>('distinct', [{ op: 'keys' }]);
  }
  intersection(other: RDD<T>, opts: { numPartitions?: number } = {}): RDD<T> {
    const a = this._pipe<[T, null]>('intersection', [{ op: 'pairWithNull' }]);
    const b = other._pipe<[T, null]>('intersection', [{ op: 'pairWithNull' }]);
    const both = captureClosure((kv: [unknown, unknown[][]]) => kv[1][0]!.length > 0 && kv[1][1]!.length > 0, { method: 'intersection' });
    return a
      .cogroup(b, opts)
      ._pipe<T>('intersection', [{ op: 'filter', f: both }, { op: 'keys' }]);
  }
  subtract(other: RDD<T>, opts: { numPartitions?: number } = {}): RDD<T> {
    const a = this._pipe<[T, null]>('subtract', [{ op: 'pairWithNull' }]);
    const b = other._pipe<[T, null]>('subtract', [{ op: 'pairWithNull' }]);
    return a.subtractByKey(b, opts)._pipe<T>('subtract', [{ op: 'keys' }]);
  }
  groupBy<K>(f: (x: T) => K, opts: PartitionOptions = {}): RDD<[K, T[]]> {
    return this.keyBy(f, opts).groupByKey({ numPartitions: opts.numPartitions });
  }
  sortBy<K>(keyfunc: (x: T) => K, opts: EnvOption & { ascending?: boolean; numPartitions?: number } = {}): RDD<T> {
    return this.keyBy(keyfunc, opts)
      .sortByKey({ ascending: opts.ascending, numPartitions: opts.numPartitions })
      ._pipe<T>('sortBy', [{ op: 'values' }]);
  }

  // ---- pair transformations ------------------------------------------------------------

  // Both type parameters are inferred: RDD<T> is invariant, so RDD<[K, V]> is not an RDD<[K, unknown]>.
  keys<K, V>(this: RDD<Pair<K, V>>): RDD<K> {
    return this._pipe('keys', [{ op: 'keys' }]);
  }
  values<K, V>(this: RDD<Pair<K, V>>): RDD<V> {
    return this._pipe('values', [{ op: 'values' }]);
  }
  mapValues<K, V, U>(this: RDD<Pair<K, V>>, f: (v: V) => U, opts: EnvOption = {}): RDD<[K, U]> {
    return this._pipe('mapValues', [{ op: 'mapValues', f: capture(f, 'mapValues', opts.env) }], true);
  }
  flatMapValues<K, V, U>(this: RDD<Pair<K, V>>, f: (v: V) => Iterable<U>, opts: EnvOption = {}): RDD<[K, U]> {
    return this._pipe('flatMapValues', [{ op: 'flatMapValues', f: capture(f, 'flatMapValues', opts.env) }], true);
  }

  /** @internal A shuffle that combines values per key with `agg`. */
  _combine<C>(method: string, agg: AggregatorDesc, partitioner: Partitioner, mapSideCombine: boolean): RDD<[unknown, C]> {
    if (this.partitioner && this.partitioner.equals(partitioner)) {
      // Already partitioned this way: combine within partitions, no shuffle (Spark does the same).
      return new LocalCombineRDD<C>(this as AnyRDD, method, agg);
    }
    return new ShuffledRDD<unknown, unknown, C>(this as AnyRDD, method, partitioner, agg, mapSideCombine, null);
  }

  private partitionerFor(method: string, opts: { numPartitions?: number; partitionFunc?: (k: never) => number; env?: Env }): Partitioner {
    const n = opts.numPartitions === undefined ? this.context._defaultReducePartitions(this) : checkPartitions(opts.numPartitions, method);
    if (opts.partitionFunc) return new FunctionPartitioner(n, opts.partitionFunc, opts.env);
    return new HashPartitioner(n);
  }

  combineByKey<K, V, C>(
    this: RDD<Pair<K, V>>,
    createCombiner: (v: V) => C,
    mergeValue: (c: C, v: V) => C,
    mergeCombiners: (a: C, b: C) => C,
    opts: PartitionOptions & { partitionFunc?: (k: K) => number } = {},
  ): RDD<[K, C]> {
    const agg: AggregatorDesc = {
      kind: 'closures',
      createCombiner: capture(createCombiner, 'combineByKey', opts.env),
      mergeValue: capture(mergeValue, 'combineByKey', opts.env),
      mergeCombiners: capture(mergeCombiners, 'combineByKey', opts.env),
    };
    return this._combine('combineByKey', agg, this.partitionerFor('combineByKey', opts as never), true) as RDD<[K, C]>;
  }
  reduceByKey<K, V>(
    this: RDD<Pair<K, V>>,
    f: ((a: V, b: V) => V) | BuiltinReducer,
    opts: PartitionOptions & { partitionFunc?: (k: K) => number } = {},
  ): RDD<[K, V]> {
    const partitioner = this.partitionerFor('reduceByKey', opts as never);
    if (typeof f === 'string') return this._combine('reduceByKey', builtinAggregator(f, 'reduceByKey'), partitioner, true) as RDD<[K, V]>;
    const spec = capture(f, 'reduceByKey', opts.env);
    const id = captureClosure((v: unknown) => v, { method: 'reduceByKey' });
    return this._combine('reduceByKey', { kind: 'closures', createCombiner: id, mergeValue: spec, mergeCombiners: spec }, partitioner, true) as RDD<[K, V]>;
  }
  foldByKey<K, V>(this: RDD<Pair<K, V>>, zeroValue: V, f: (a: V, b: V) => V, opts: PartitionOptions = {}): RDD<[K, V]> {
    const env = { ...opts.env, __flintZero: zeroValue, __flintF: f };
    const create = captureClosure((v: unknown) => __flintF(structuredClone(__flintZero), v), { method: 'foldByKey', env });
    const spec = capture(f, 'foldByKey', opts.env);
    return this._combine('foldByKey', { kind: 'closures', createCombiner: create, mergeValue: spec, mergeCombiners: spec }, this.partitionerFor('foldByKey', opts), true) as RDD<[K, V]>;
  }
  aggregateByKey<K, V, U>(
    this: RDD<Pair<K, V>>,
    zeroValue: U,
    seqFunc: (acc: U, v: V) => U,
    combFunc: (a: U, b: U) => U,
    opts: PartitionOptions = {},
  ): RDD<[K, U]> {
    const env = { ...opts.env, __flintZero: zeroValue, __flintF: seqFunc };
    const create = captureClosure((v: unknown) => __flintF(structuredClone(__flintZero), v), { method: 'aggregateByKey', env });
    return this._combine(
      'aggregateByKey',
      { kind: 'closures', createCombiner: create, mergeValue: capture(seqFunc, 'aggregateByKey', opts.env), mergeCombiners: capture(combFunc, 'aggregateByKey', opts.env) },
      this.partitionerFor('aggregateByKey', opts),
      true,
    ) as RDD<[K, U]>;
  }
  groupByKey<K, V>(this: RDD<Pair<K, V>>, opts: { numPartitions?: number; partitionFunc?: (k: K) => number } = {}): RDD<[K, V[]]> {
    return this._combine('groupByKey', { kind: 'group' }, this.partitionerFor('groupByKey', opts as never), false) as RDD<[K, V[]]>;
  }
  partitionBy<K, V>(this: RDD<Pair<K, V>>, partitioner: number | Partitioner, opts: EnvOption & { partitionFunc?: (k: K) => number } = {}): RDD<[K, V]> {
    const p =
      partitioner instanceof Partitioner
        ? partitioner
        : opts.partitionFunc
          ? new FunctionPartitioner(checkPartitions(partitioner, 'partitionBy'), opts.partitionFunc as never, opts.env)
          : new HashPartitioner(checkPartitions(partitioner, 'partitionBy'));
    if (this.partitioner && this.partitioner.equals(p)) return this;
    return new ShuffledRDD<K, V, V>(this, 'partitionBy', p, null, false, null);
  }
  sortByKey<K, V>(
    this: RDD<Pair<K, V>>,
    opts: { ascending?: boolean; numPartitions?: number; keyfunc?: (k: K) => unknown; env?: Env } = {},
  ): RDD<[K, V]> {
    const ascending = opts.ascending ?? true;
    // An RDD without partitions (emptyRDD) still sorts, into one empty partition.
    const n = opts.numPartitions === undefined ? Math.max(1, this.numPartitions()) : checkPartitions(opts.numPartitions, 'sortByKey');
    if (opts.keyfunc) {
      capture(opts.keyfunc, 'sortByKey', opts.env);
      const env = { ...opts.env, __flintK: opts.keyfunc };
      const wrap = captureClosure((kv: [unknown, unknown]) => [__flintK(kv[0]), kv], { method: 'sortByKey', env });
      return (this._pipe<[unknown, [K, V]]>('sortByKey', [{ op: 'map', f: wrap }]) as RDD<[unknown, [K, V]]>)
        .sortByKey({ ascending, numPartitions: n })
        ._pipe<[K, V]>('sortByKey', [{ op: 'values' }]);
    }
    const partitioner = new RangePartitioner(n, ascending);
    return new ShuffledRDD<K, V, V>(this, 'sortByKey', partitioner, null, false, { ascending });
  }
  cogroup<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, opts: { numPartitions?: number } = {}): RDD<[K, [V[], W[]]]> {
    return new CoGroupedRDD(this.context, [this, other], this.cogroupPartitioner([this, other], opts.numPartitions)) as never;
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  groupWith<K, V>(this: RDD<Pair<K, V>>, ...others: RDD<Pair<K, any>>[]): RDD<[K, unknown[][]]> {
    const all = [this, ...others];
    return new CoGroupedRDD(this.context, all, this.cogroupPartitioner(all, undefined)) as never;
  }
  private cogroupPartitioner(rdds: AnyRDD[], numPartitions: number | undefined): Partitioner {
    if (numPartitions !== undefined) return new HashPartitioner(checkPartitions(numPartitions, 'cogroup'));
    // Spark's defaultPartitioner: reuse an existing partitioner of a parent, else the widest parent.
    const existing = rdds
      .map((r) => r.partitioner)
      .filter((p): p is Partitioner => p !== null)
      .sort((a, b) => b.numPartitions - a.numPartitions)[0];
    const widest = Math.max(...rdds.map((r) => r.numPartitions()));
    if (existing && existing.numPartitions >= widest) return existing;
    return new HashPartitioner(Math.max(1, widest));
  }
  join<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, opts: { numPartitions?: number } = {}): RDD<[K, [V, W]]> {
    const f = captureClosure((vw: [unknown[], unknown[]]) => {
      const out: unknown[] = [];
      for (const v of vw[0]) for (const w of vw[1]) out.push([v, w]);
      return out;
    }, { method: 'join' });
    return this.cogroup(other, opts)._pipe('join', [{ op: 'flatMapValues', f }], true);
  }
  leftOuterJoin<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, opts: { numPartitions?: number } = {}): RDD<[K, [V, W | null]]> {
    const f = captureClosure((vw: [unknown[], unknown[]]) => {
      const out: unknown[] = [];
      const ws = vw[1].length > 0 ? vw[1] : [null];
      for (const v of vw[0]) for (const w of ws) out.push([v, w]);
      return out;
    }, { method: 'leftOuterJoin' });
    return this.cogroup(other, opts)._pipe('leftOuterJoin', [{ op: 'flatMapValues', f }], true);
  }
  rightOuterJoin<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, opts: { numPartitions?: number } = {}): RDD<[K, [V | null, W]]> {
    const f = captureClosure((vw: [unknown[], unknown[]]) => {
      const out: unknown[] = [];
      const vs = vw[0].length > 0 ? vw[0] : [null];
      for (const v of vs) for (const w of vw[1]) out.push([v, w]);
      return out;
    }, { method: 'rightOuterJoin' });
    return this.cogroup(other, opts)._pipe('rightOuterJoin', [{ op: 'flatMapValues', f }], true);
  }
  fullOuterJoin<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, opts: { numPartitions?: number } = {}): RDD<[K, [V | null, W | null]]> {
    const f = captureClosure((vw: [unknown[], unknown[]]) => {
      const out: unknown[] = [];
      const vs = vw[0].length > 0 ? vw[0] : [null];
      const ws = vw[1].length > 0 ? vw[1] : [null];
      for (const v of vs) for (const w of ws) out.push([v, w]);
      return out;
    }, { method: 'fullOuterJoin' });
    return this.cogroup(other, opts)._pipe('fullOuterJoin', [{ op: 'flatMapValues', f }], true);
  }
  subtractByKey<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, opts: { numPartitions?: number } = {}): RDD<[K, V]> {
    const f = captureClosure((vw: [unknown[], unknown[]]) => (vw[1].length === 0 ? vw[0] : []), { method: 'subtractByKey' });
    return this.cogroup(other, opts)._pipe('subtractByKey', [{ op: 'flatMapValues', f }], true);
  }
  sampleByKey<K, V>(
    this: RDD<Pair<K, V>>,
    withReplacement: boolean,
    fractions: Map<K, number> | Record<string, number>,
    seed: number = randomSeed(),
  ): RDD<[K, V]> {
    const entries: [unknown, number][] = fractions instanceof Map ? [...fractions] : Object.entries(fractions);
    for (const [k, f] of entries) {
      if (!(f >= 0)) throw new FlintError('INVALID_ARGUMENT', `sampleByKey: negative fraction for key ${String(k)}`);
    }
    return this._pipe('sampleByKey', [{ op: 'sampleByKey', withReplacement, fractions: entries, seed }], true);
  }

  // ---- actions -----------------------------------------------------------------------------

  /** @internal Runs `ops` on the given partitions and returns each partition's records. */
  _run(method: string, ops: OpDesc[], partitions?: number[]): Promise<unknown[][]> {
    const target: AnyRDD = ops.length > 0 ? this._pipe(method, ops, true) : this;
    return this.context._collectPartitions(target, partitions ?? range(this.numPartitions()), callSite(method), this);
  }

  async collect(): Promise<T[]> {
    return (await this._run('collect', [])).flat() as T[];
  }
  async count(): Promise<number> {
    const parts = await this._run('count', [{ op: 'count' }]);
    return parts.reduce((a, p) => a + (p[0] as number), 0);
  }
  async first(): Promise<T> {
    const rs = await this.take(1);
    if (rs.length === 0) throw emptyCollection('first');
    return rs[0]!;
  }
  async take(num: number): Promise<T[]> {
    checkCount(num, 'take: num');
    const items: T[] = [];
    const total = this.numPartitions();
    let scanned = 0;
    while (items.length < num && scanned < total) {
      let tryParts = 1;
      if (scanned > 0) {
        if (items.length === 0) tryParts = scanned * 4;
        else tryParts = Math.min(Math.max(Math.floor((1.5 * num * scanned) / items.length) - scanned, 1), scanned * 4);
      }
      const left = num - items.length;
      const parts = range(total).slice(scanned, Math.min(scanned + tryParts, total));
      const res = await this._run('take', [{ op: 'take', n: left }], parts);
      for (const p of res) items.push(...(p as T[]));
      scanned += tryParts;
    }
    return items.slice(0, num);
  }
  async isEmpty(): Promise<boolean> {
    return this.numPartitions() === 0 || (await this.take(1)).length === 0;
  }
  async takeOrdered(num: number, key?: (x: T) => unknown, opts: EnvOption = {}): Promise<T[]> {
    checkCount(num, 'takeOrdered: num');
    if (num === 0) return [];
    const spec = key ? capture(key, 'takeOrdered', opts.env) : null;
    const parts = await this._run('takeOrdered', [{ op: 'takeOrdered', n: num, key: spec, descending: false }]);
    return mergeOrdered(parts.flat() as T[], num, spec ? this.context._driverFunction(spec) : undefined, false);
  }
  async top(num: number, key?: (x: T) => unknown, opts: EnvOption = {}): Promise<T[]> {
    checkCount(num, 'top: num');
    if (num === 0) return [];
    const spec = key ? capture(key, 'top', opts.env) : null;
    const parts = await this._run('top', [{ op: 'takeOrdered', n: num, key: spec, descending: true }]);
    return mergeOrdered(parts.flat() as T[], num, spec ? this.context._driverFunction(spec) : undefined, true);
  }
  async max(key?: (x: T) => unknown, opts: EnvOption = {}): Promise<T> {
    const r = await this.top(1, key, opts);
    if (r.length === 0) throw emptyCollection('max');
    return r[0]!;
  }
  async min(key?: (x: T) => unknown, opts: EnvOption = {}): Promise<T> {
    const r = await this.takeOrdered(1, key, opts);
    if (r.length === 0) throw emptyCollection('min');
    return r[0]!;
  }
  async reduce(f: ((a: T, b: T) => T) | BuiltinReducer, opts: EnvOption = {}): Promise<T> {
    const fn = typeof f === 'string' ? builtinReduceFunction(f) : f;
    const spec = capture(fn, 'reduce', opts.env);
    const vals = (await this._run('reduce', [{ op: 'mapPartitions', f: reducePartitionSpec(fn, opts.env), withIndex: false }])).flat() as T[];
    if (vals.length === 0) throw new FlintError('INVALID_ARGUMENT', 'reduce: cannot reduce an empty RDD');
    const g = this.context._driverFunction<(a: T, b: T) => T>(spec);
    return vals.reduce((a, b) => g(a, b));
  }
  async fold(zeroValue: T, f: (a: T, b: T) => T, opts: EnvOption = {}): Promise<T> {
    const spec = capture(f, 'fold', opts.env);
    const vals = (await this._run('fold', [{ op: 'mapPartitions', f: aggregatePartitionSpec(f, zeroValue, opts.env), withIndex: false }])).flat() as T[];
    const g = this.context._driverFunction<(a: T, b: T) => T>(spec);
    return vals.reduce((a, b) => g(a, b), structuredClone(zeroValue));
  }
  async aggregate<U>(zeroValue: U, seqOp: (acc: U, x: T) => U, combOp: (a: U, b: U) => U, opts: EnvOption = {}): Promise<U> {
    capture(seqOp, 'aggregate', opts.env);
    const comb = capture(combOp, 'aggregate', opts.env);
    const vals = (await this._run('aggregate', [{ op: 'mapPartitions', f: aggregatePartitionSpec(seqOp, zeroValue, opts.env), withIndex: false }])).flat() as U[];
    const g = this.context._driverFunction<(a: U, b: U) => U>(comb);
    return vals.reduce((a, b) => g(a, b), structuredClone(zeroValue));
  }
  async treeAggregate<U>(
    zeroValue: U,
    seqOp: (acc: U, x: T) => U,
    combOp: (a: U, b: U) => U,
    opts: EnvOption & { depth?: number } = {},
  ): Promise<U> {
    const depth = opts.depth ?? 2;
    if (!Number.isInteger(depth) || depth < 1) throw new FlintError('INVALID_ARGUMENT', `treeAggregate: depth must be >= 1, got ${depth}`);
    capture(seqOp, 'treeAggregate', opts.env);
    const comb = capture(combOp, 'treeAggregate', opts.env);
    if (this.numPartitions() === 0) return structuredClone(zeroValue);
    let partial: AnyRDD = this._pipe('treeAggregate', [{ op: 'mapPartitions', f: aggregatePartitionSpec(seqOp, zeroValue, opts.env), withIndex: false }]);
    let numPartitions = partial.numPartitions();
    const scale = Math.max(Math.ceil(Math.pow(numPartitions, 1 / depth)), 2);
    while (numPartitions > scale + numPartitions / scale) {
      numPartitions /= scale;
      partial = treeLevel(partial, Math.floor(numPartitions)).reduceByKey(combOp as never, { numPartitions: Math.floor(numPartitions), env: opts.env }).values();
    }
    const vals = (await partial.collect()) as U[];
    const g = this.context._driverFunction<(a: U, b: U) => U>(comb);
    return vals.reduce((a, b) => g(a, b), structuredClone(zeroValue));
  }
  async treeReduce(f: (a: T, b: T) => T, opts: EnvOption & { depth?: number } = {}): Promise<T> {
    const depth = opts.depth ?? 2;
    if (!Number.isInteger(depth) || depth < 1) throw new FlintError('INVALID_ARGUMENT', `treeReduce: depth must be >= 1, got ${depth}`);
    const spec = capture(f, 'treeReduce', opts.env);
    let partial: AnyRDD = this._pipe('treeReduce', [{ op: 'mapPartitions', f: reducePartitionSpec(f, opts.env), withIndex: false }]);
    let numPartitions = partial.numPartitions();
    const scale = Math.max(Math.ceil(Math.pow(numPartitions, 1 / depth)), 2);
    while (numPartitions > scale + numPartitions / scale) {
      numPartitions /= scale;
      partial = treeLevel(partial, Math.floor(numPartitions)).reduceByKey(f as never, { numPartitions: Math.floor(numPartitions), env: opts.env }).values();
    }
    const vals = (await partial.collect()) as T[];
    if (vals.length === 0) throw new FlintError('INVALID_ARGUMENT', 'treeReduce: cannot reduce an empty RDD');
    const g = this.context._driverFunction<(a: T, b: T) => T>(spec);
    return vals.reduce((a, b) => g(a, b));
  }
  async stats(this: RDD<number>): Promise<StatCounter> {
    const parts = await this._run('stats', [{ op: 'stats' }]);
    let s: Stats = emptyStats();
    for (const p of parts) s = mergeStats(s, p[0] as Stats);
    return toStatCounter(s);
  }
  async sum(this: RDD<number>): Promise<number> {
    return (await this.stats()).sum;
  }
  async mean(this: RDD<number>): Promise<number> {
    return (await this.stats()).mean;
  }
  async variance(this: RDD<number>): Promise<number> {
    return (await this.stats()).variance;
  }
  async stdev(this: RDD<number>): Promise<number> {
    return (await this.stats()).stdev;
  }
  async sampleVariance(this: RDD<number>): Promise<number> {
    return (await this.stats()).sampleVariance;
  }
  async sampleStdev(this: RDD<number>): Promise<number> {
    return (await this.stats()).sampleStdev;
  }
  async histogram(this: RDD<number>, buckets: number | number[]): Promise<[number[], number[]]> {
    let bounds: number[];
    let even: boolean;
    let inc = 0;
    if (typeof buckets === 'number') {
      if (!Number.isInteger(buckets) || buckets < 1) throw new FlintError('INVALID_ARGUMENT', 'histogram: number of buckets must be >= 1');
      const comparable = this.filter((x) => x !== null && !(typeof x === 'number' && Number.isNaN(x)));
      const s = await comparable.stats();
      if (s.count === 0) throw new FlintError('INVALID_ARGUMENT', 'histogram: cannot generate buckets from an empty RDD');
      const [minv, maxv] = [s.min, s.max];
      if (minv === maxv || buckets === 1) return [[minv, maxv], [s.count]];
      inc = (maxv - minv) / buckets;
      if (!Number.isFinite(inc)) throw new FlintError('INVALID_ARGUMENT', 'histogram: cannot generate buckets with an infinite value');
      if (Math.trunc(inc) * buckets === maxv - minv) inc = Math.trunc(inc);
      bounds = range(buckets).map((i) => i * inc + minv);
      bounds.push(maxv);
      even = true;
    } else {
      if (!Array.isArray(buckets) || buckets.length < 2) throw new FlintError('INVALID_ARGUMENT', 'histogram: buckets should have more than one value');
      if (buckets.some((b) => typeof b !== 'number' || Number.isNaN(b))) throw new FlintError('INVALID_ARGUMENT', 'histogram: buckets cannot contain null or NaN');
      for (let i = 1; i < buckets.length; i++) {
        if (buckets[i]! < buckets[i - 1]!) throw new FlintError('INVALID_ARGUMENT', 'histogram: buckets should be sorted');
        if (buckets[i] === buckets[i - 1]) throw new FlintError('INVALID_ARGUMENT', 'histogram: buckets should not contain duplicated values');
      }
      bounds = [...buckets];
      const steps = bounds.slice(1).map((b, i) => b - bounds[i]!);
      even = Math.max(...steps) - Math.min(...steps) < 1e-10;
      if (even) inc = (bounds[bounds.length - 1]! - bounds[0]!) / (bounds.length - 1);
    }
    const parts = await this._run('histogram', [{ op: 'histogram', buckets: bounds, evenBuckets: even, inc }]);
    const counts = new Array<number>(bounds.length - 1).fill(0);
    for (const p of parts) (p[0] as number[]).forEach((c, i) => (counts[i]! += c));
    return [bounds, counts];
  }
  async countByValue(): Promise<Map<T, number>> {
    const parts = await this._run('countByValue', [{ op: 'countByValue' }]);
    const merged = new KeyMap<number>();
    const originals = new KeyMap<unknown>();
    for (const p of parts) {
      for (const [k, n] of p as [unknown, number][]) {
        if (!originals.has(k)) originals.set(k, k);
        merged.set(k, (merged.get(k) ?? 0) + n);
      }
    }
    const out = new Map<T, number>();
    for (const [k, n] of merged.entries()) out.set(originals.get(k) as T, n);
    return out;
  }
  async foreach(f: (x: T) => void, opts: EnvOption = {}): Promise<void> {
    capture(f, 'foreach', opts.env);
    const spec = captureClosure(
      (it: Iterable<unknown>) => {
        for (const x of it) __flintF(x);
        return [];
      },
      { method: 'foreach', env: { ...opts.env, __flintF: f } },
    );
    await this._run('foreach', [{ op: 'mapPartitions', f: spec, withIndex: false }]);
  }
  async foreachPartition(f: (it: Iterator<T>) => void, opts: EnvOption = {}): Promise<void> {
    capture(f, 'foreachPartition', opts.env);
    const spec = captureClosure(
      (it: Iterator<unknown>) => {
        __flintF(it);
        return [];
      },
      { method: 'foreachPartition', env: { ...opts.env, __flintF: f } },
    );
    await this._run('foreachPartition', [{ op: 'mapPartitions', f: spec, withIndex: false }]);
  }
  async takeSample(withReplacement: boolean, num: number, seed: number = randomSeed()): Promise<T[]> {
    checkCount(num, 'takeSample: num');
    if (num === 0) return [];
    const initialCount = await this.count();
    if (initialCount === 0) return [];
    const rand = new SeededRandom(seed);
    const shuffle = (xs: T[]) => {
      for (let i = xs.length - 1; i > 0; i--) {
        const j = Math.floor(rand.next() * (i + 1));
        [xs[i], xs[j]] = [xs[j]!, xs[i]!];
      }
      return xs;
    };
    if (!withReplacement && num >= initialCount) return shuffle(await this.collect());
    const fraction = fractionForSampleSize(num, initialCount, withReplacement);
    let samples = await this.sample(withReplacement, fraction, seed).collect();
    while (samples.length < num) {
      seed = Math.floor(rand.next() * 2 ** 31);
      samples = await this.sample(withReplacement, fraction, seed).collect();
    }
    return shuffle(samples).slice(0, num);
  }
  async saveAsTextFile(path: string): Promise<void> {
    await this.context._saveAsTextFile(this, path);
  }
  async *toLocalIterator(): AsyncGenerator<T> {
    for (let p = 0; p < this.numPartitions(); p++) {
      const [records] = await this._run('toLocalIterator', [], [p]);
      for (const r of records ?? []) yield r as T;
    }
  }

  // ---- pair actions ----------------------------------------------------------------------------

  async countByKey<K, V>(this: RDD<Pair<K, V>>): Promise<Map<K, number>> {
    return this.keys().countByValue();
  }
  async collectAsMap<K, V>(this: RDD<Pair<K, V>>): Promise<Map<K, V>> {
    const out = new Map<K, V>();
    const index = new KeyMap<K>();
    for (const rec of await this.collect()) {
      const [k, v] = rec;
      // Keys equal by value are one entry, as in a Python dict; the first key object represents it.
      const existing = index.get(k);
      if (existing === undefined && !index.has(k)) index.set(k, k);
      out.set(index.get(k) as K, v);
    }
    return out;
  }
  async lookup<K, V>(this: RDD<Pair<K, V>>, key: K): Promise<V[]> {
    const env = { __flintKey: key };
    const spec = captureClosure((kv: [unknown, unknown]) => __flintEq(kv[0], __flintKey), { method: 'lookup', env: { ...env, __flintEq: keyEqualsForLookup } });
    const p = this.partitioner;
    // A range partitioner knows its bounds only once a job has sampled them; until then every
    // partition must be searched.
    const known = p !== null && !(p instanceof RangePartitioner && p.bounds === null);
    const parts = known ? [p.getPartition(key)] : undefined;
    const res = await this._run('lookup', [{ op: 'filter', f: spec }, { op: 'values' }], parts);
    return res.flat() as V[];
  }
  async reduceByKeyLocally<K, V>(this: RDD<Pair<K, V>>, f: ((a: V, b: V) => V) | BuiltinReducer, opts: EnvOption = {}): Promise<Map<K, V>> {
    return this.reduceByKey(f, { env: opts.env, numPartitions: Math.max(1, this.numPartitions()) }).collectAsMap();
  }
}

// Names that internal closures receive through env; declared so TypeScript accepts the closures.
declare const __flintF: (...args: unknown[]) => unknown;
declare const __flintZero: unknown;
declare const __flintK: (k: unknown) => unknown;
declare const __flintKey: unknown;
declare const __flintN: number;
declare const __flintEq: (a: unknown, b: unknown) => boolean;

/** Structural equality usable inside a closure (it travels as source, so it is self-contained). */
function keyEqualsForLookup(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return a === b || (a !== a && b !== b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!keyEqualsForLookup((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

function reducePartitionSpec(f: Function, env: Env | undefined): ClosureSpec {
  return captureClosure(
    (it: Iterable<unknown>) => {
      let acc: unknown;
      let first = true;
      for (const x of it) {
        if (first) {
          acc = x;
          first = false;
        } else acc = __flintF(acc, x);
      }
      return first ? [] : [acc];
    },
    { method: 'reduce', env: { ...env, __flintF: f } },
  );
}

/** One level of a tree aggregation: partition i's partial results are keyed by i mod n. */
function treeLevel(partial: AnyRDD, n: number): RDD<[any, any]> {
  return partial.mapPartitionsWithIndex(
    (i: number, it: Iterator<unknown>) => {
      const out: unknown[] = [];
      for (let r = it.next(); !r.done; r = it.next()) out.push([i % __flintN, r.value]);
      return out;
    },
    { env: { __flintN: n } },
  ) as RDD<[any, any]>;
}

function aggregatePartitionSpec(seqOp: Function, zeroValue: unknown, env: Env | undefined): ClosureSpec {
  return captureClosure(
    (it: Iterable<unknown>) => {
      let acc = structuredClone(__flintZero);
      for (const x of it) acc = __flintF(acc, x);
      return [acc];
    },
    { method: 'aggregate', env: { ...env, __flintF: seqOp, __flintZero: zeroValue } },
  );
}

function builtinAggregator(name: string, method: string): AggregatorDesc {
  if (name !== 'sum' && name !== 'min' && name !== 'max') {
    throw new FlintError('INVALID_ARGUMENT', `${method}: unknown built-in aggregator '${name}'; use 'sum', 'min', 'max' or a function`);
  }
  return { kind: 'builtin', name };
}

function builtinReduceFunction(name: string): (a: never, b: never) => unknown {
  builtinAggregator(name, 'reduce');
  if (name === 'sum') return (a: number, b: number) => a + b;
  if (name === 'min') return (a: number, b: number) => Math.min(a, b);
  return (a: number, b: number) => Math.max(a, b);
}

function mergeOrdered<T>(xs: T[], n: number, key: ((x: T) => unknown) | undefined, descending: boolean): T[] {
  const sign = descending ? -1 : 1;
  const keyed = xs.map((x) => ({ k: key ? key(x) : x, x }));
  keyed.sort((a, b) => sign * compareValues(a.k, b.k));
  return keyed.slice(0, n).map((r) => r.x);
}

function fractionForSampleSize(lowerBound: number, total: number, withReplacement: boolean): number {
  const fraction = lowerBound / total;
  if (withReplacement) {
    const numStDev = lowerBound < 12 ? 9 : 5;
    return fraction + numStDev * Math.sqrt(fraction / total);
  }
  const delta = 0.00005;
  const gamma = -Math.log(delta) / total;
  return Math.min(1, fraction + gamma + Math.sqrt(gamma * gamma + 2 * gamma * fraction));
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

const oneToOne = (rdd: LineageNode): Dependency => ({ kind: 'narrow', rdd, parents: (p) => [p] });

// ---- lineage classes ------------------------------------------------------------------------

export class ParallelCollectionRDD<T> extends RDD<T> {
  constructor(
    context: Flint,
    private readonly slices: Uint8Array[],
  ) {
    super(context, 'parallelize');
  }
  numPartitions(): number {
    return this.slices.length;
  }
  dependencies(): Dependency[] {
    return [];
  }
  planNode(): PlanNode {
    return { kind: 'parallel', rddId: this.id };
  }
  override sliceBytes(partition: number): Uint8Array | null {
    return this.slices[partition] ?? null;
  }
}

export class RangeRDD extends RDD<number> {
  constructor(
    context: Flint,
    private readonly start: number,
    private readonly step: number,
    private readonly length: number,
    private readonly slices: number,
  ) {
    super(context, 'range');
  }
  numPartitions(): number {
    return this.slices;
  }
  dependencies(): Dependency[] {
    return [];
  }
  planNode(): PlanNode {
    return { kind: 'range', rddId: this.id, start: this.start, step: this.step, count: this.length, slices: this.slices };
  }
}

export class TextFileRDD extends RDD<string> {
  private splits: FileSplit[] | null = null;
  constructor(
    context: Flint,
    readonly path: string,
    private readonly minPartitions: number,
  ) {
    super(context, 'textFile');
  }
  private getSplits(): FileSplit[] {
    if (!this.splits) {
      const platform = this.context._driverPlatform;
      let splits = platform.planTextSplits(this.path, this.minPartitions);
      // A multiple of the slots keeps every executor busy to the end (3 splits on 2 threads would
      // leave one idle for a third of the stage); split sizes stay bounded by the planner.
      const slots = this.context.defaultParallelism;
      if (splits.length > slots && splits.length % slots !== 0) {
        splits = platform.planTextSplits(this.path, Math.ceil(splits.length / slots) * slots);
      }
      this.splits = splits;
    }
    return this.splits;
  }
  numPartitions(): number {
    return this.getSplits().length;
  }
  dependencies(): Dependency[] {
    return [];
  }
  planNode(): PlanNode {
    return { kind: 'textFile', rddId: this.id, splits: this.getSplits() };
  }
}

export class WholeTextFilesRDD extends RDD<[string, string]> {
  private groups: FileSplit[][] | null = null;
  constructor(
    context: Flint,
    readonly path: string,
    private readonly minPartitions: number,
  ) {
    super(context, 'wholeTextFiles');
  }
  private getGroups(): FileSplit[][] {
    return (this.groups ??= this.context._driverPlatform.planWholeTextFiles(this.path, this.minPartitions));
  }
  numPartitions(): number {
    return this.getGroups().length;
  }
  dependencies(): Dependency[] {
    return [];
  }
  planNode(): PlanNode {
    return { kind: 'wholeTextFiles', rddId: this.id, groups: this.getGroups() };
  }
}

export class EmptyRDD<T> extends RDD<T> {
  constructor(context: Flint) {
    super(context, 'emptyRDD');
  }
  numPartitions(): number {
    return 0;
  }
  dependencies(): Dependency[] {
    return [];
  }
  planNode(): PlanNode {
    return { kind: 'empty', rddId: this.id };
  }
}

/** An RDD computed partition by partition from the same partition of one parent. */
abstract class OneToOneRDD<T> extends RDD<T> {
  constructor(
    protected readonly parent: AnyRDD,
    method: string,
  ) {
    super(parent.context, method);
  }
  numPartitions(): number {
    return this.parent.numPartitions();
  }
  dependencies(): Dependency[] {
    return [oneToOne(this.parent)];
  }
}

export class MapPartitionsRDD<T> extends OneToOneRDD<T> {
  constructor(
    parent: AnyRDD,
    method: string,
    private readonly ops: OpDesc[],
    private readonly preservesPartitioning: boolean,
  ) {
    super(parent, method);
  }
  planNode(child: (rdd: LineageNode) => PlanNode): PlanNode {
    return { kind: 'pipe', rddId: this.id, parent: child(this.parent), ops: this.ops };
  }
  override get partitioner(): Partitioner | null {
    return this.preservesPartitioning ? this.parent.partitioner : null;
  }
}

/** zipWithIndex needs the sizes of all partitions but the last: a job run when the RDD is prepared. */
class ZipWithIndexRDD<T> extends OneToOneRDD<[T, number]> {
  private startIndices: number[] | null = null;
  constructor(parent: RDD<T>) {
    super(parent, 'zipWithIndex');
  }
  async prepare(): Promise<void> {
    if (this.startIndices) return;
    const n = this.parent.numPartitions();
    const counts = n > 1 ? (await this.parent._run('zipWithIndex', [{ op: 'count' }], range(n - 1))).map((p) => p[0] as number) : [];
    const starts = [0];
    for (const c of counts) starts.push(starts[starts.length - 1]! + c);
    this.startIndices = starts;
  }
  planNode(child: (rdd: LineageNode) => PlanNode): PlanNode {
    if (!this.startIndices) throw new FlintError('INTERNAL', 'zipWithIndex planned before it was prepared');
    return { kind: 'pipe', rddId: this.id, parent: child(this.parent), ops: [{ op: 'zipWithIndex', startIndices: this.startIndices }] };
  }
}

export class UnionRDD<T> extends RDD<T> {
  constructor(
    context: Flint,
    private readonly rdds: RDD<T>[],
  ) {
    super(context, 'union');
  }
  private offsets(): number[] {
    const offs: number[] = [];
    let o = 0;
    for (const r of this.rdds) {
      offs.push(o);
      o += r.numPartitions();
    }
    return offs;
  }
  numPartitions(): number {
    return this.rdds.reduce((a, r) => a + r.numPartitions(), 0);
  }
  dependencies(): Dependency[] {
    const offs = this.offsets();
    return this.rdds.map((rdd, i) => ({
      kind: 'narrow' as const,
      rdd,
      parents: (p: number) => {
        const local = p - offs[i]!;
        return local >= 0 && local < rdd.numPartitions() ? [local] : [];
      },
    }));
  }
  planNode(child: (rdd: LineageNode) => PlanNode): PlanNode {
    return { kind: 'union', rddId: this.id, parents: this.rdds.map((r) => child(r)), offsets: this.offsets() };
  }
}

export class CoalescedRDD<T> extends RDD<T> {
  constructor(
    private readonly parent: RDD<T>,
    private readonly target: number,
  ) {
    super(parent.context, 'coalesce');
  }
  private groups(): number[][] {
    const m = this.parent.numPartitions();
    const n = Math.min(this.target, m);
    return range(n).map((i) => range(m).slice(Math.floor((i * m) / n), Math.floor(((i + 1) * m) / n)));
  }
  numPartitions(): number {
    return Math.min(this.target, this.parent.numPartitions());
  }
  dependencies(): Dependency[] {
    const groups = this.groups();
    return [{ kind: 'narrow', rdd: this.parent, parents: (p) => groups[p] ?? [] }];
  }
  planNode(child: (rdd: LineageNode) => PlanNode): PlanNode {
    return { kind: 'coalesce', rddId: this.id, parent: child(this.parent), groups: this.groups() };
  }
}

export class ZippedRDD<A, B> extends RDD<[A, B]> {
  constructor(
    private readonly left: RDD<A>,
    private readonly right: RDD<B>,
  ) {
    super(left.context, 'zip');
  }
  numPartitions(): number {
    return this.left.numPartitions();
  }
  dependencies(): Dependency[] {
    return [oneToOne(this.left), oneToOne(this.right)];
  }
  planNode(child: (rdd: LineageNode) => PlanNode): PlanNode {
    return { kind: 'zip', rddId: this.id, left: child(this.left), right: child(this.right) };
  }
}

export class CartesianRDD<A, B> extends RDD<[A, B]> {
  constructor(
    private readonly left: RDD<A>,
    private readonly right: RDD<B>,
  ) {
    super(left.context, 'cartesian');
  }
  numPartitions(): number {
    return this.left.numPartitions() * this.right.numPartitions();
  }
  dependencies(): Dependency[] {
    const nr = this.right.numPartitions();
    return [
      { kind: 'narrow', rdd: this.left, parents: (p) => [Math.floor(p / nr)] },
      { kind: 'narrow', rdd: this.right, parents: (p) => [p % nr] },
    ];
  }
  planNode(child: (rdd: LineageNode) => PlanNode): PlanNode {
    return { kind: 'cartesian', rddId: this.id, left: child(this.left), right: child(this.right), rightPartitions: this.right.numPartitions() };
  }
}

/** Combines per key inside each partition when the input is already partitioned by the key. */
class LocalCombineRDD<C> extends OneToOneRDD<[unknown, C]> {
  constructor(
    parent: AnyRDD,
    method: string,
    private readonly agg: AggregatorDesc,
  ) {
    super(parent, method);
  }
  planNode(child: (rdd: LineageNode) => PlanNode): PlanNode {
    return {
      kind: 'cogroup',
      rddId: this.id,
      sources: [{ kind: 'narrow', node: child(this.parent) }],
      combine: this.agg,
    };
  }
  override get partitioner(): Partitioner | null {
    return this.parent.partitioner;
  }
}

export class ShuffledRDD<K, V, C> extends RDD<[K, C]> {
  private readonly dep: ShuffleDependency;
  constructor(
    private readonly parent: AnyRDD,
    method: string,
    private readonly part: Partitioner,
    private readonly aggregator: AggregatorDesc | null,
    private readonly mapSideCombine: boolean,
    private readonly sort: { ascending: boolean } | null,
  ) {
    super(parent.context, method);
    const self = this;
    this.dep = {
      shuffleId: parent.context._newShuffleId(),
      rdd: parent,
      partitioner: () => self.part.describe(),
      combiner: mapSideCombine && aggregator && aggregator.kind !== 'group' ? aggregator : null,
    };
    this.context._cleaner.registerShuffle(this, this.dep.shuffleId);
  }
  numPartitions(): number {
    return this.part.numPartitions;
  }
  dependencies(): Dependency[] {
    return [{ kind: 'shuffle', dep: this.dep }];
  }
  override get partitioner(): Partitioner | null {
    return this.part instanceof RoundRobinPartitioner ? null : this.part;
  }
  async prepare(): Promise<void> {
    if (!(this.part instanceof RangePartitioner) || this.part.bounds) return;
    // Spark's RangePartitioner: sample ~20 keys per output partition from every input partition.
    const n = this.part.numPartitions;
    const inputs = this.parent.numPartitions();
    if (n === 1 || inputs === 0) {
      this.part.bounds = [];
      return;
    }
    const perPartition = Math.ceil((20 * n * 3) / inputs);
    const spec = captureClosure(
      (it: Iterator<unknown>) => {
        // Reservoir sampling of keys; deterministic per partition so reruns agree.
        const out: unknown[] = [];
        let seen = 0;
        let state = 0x2545f491;
        for (let r = it.next(); !r.done; r = it.next()) {
          const kv = r.value as unknown[];
          if (!Array.isArray(kv) || kv.length !== 2) throw new TypeError('sortByKey expects [key, value] pairs');
          seen++;
          if (out.length < __flintN) out.push(kv[0]);
          else {
            state = (Math.imul(state, 1103515245) + 12345) >>> 0;
            const j = state % seen;
            if (j < __flintN) out[j] = kv[0];
          }
        }
        return out;
      },
      { method: 'sortByKey', env: { __flintN: perPartition } },
    );
    const sample = (await this.parent._run('sortByKey', [{ op: 'mapPartitions', f: spec, withIndex: false }])).flat();
    this.part.bounds = determineBounds(sample, n);
  }
  planNode(): PlanNode {
    return {
      kind: 'shuffleRead',
      rddId: this.id,
      shuffleId: this.dep.shuffleId,
      aggregator: this.aggregator,
      mapSideCombined: this.dep.combiner !== null,
      sort: this.sort,
    };
  }
  /** @internal */
  get shuffleId(): number {
    return this.dep.shuffleId;
  }
}

export class CoGroupedRDD<K> extends RDD<[K, unknown[][]]> {
  private readonly deps: Dependency[];
  constructor(
    context: Flint,
    private readonly rdds: AnyRDD[],
    private readonly part: Partitioner,
  ) {
    super(context, 'cogroup');
    this.deps = rdds.map((rdd) =>
      rdd.partitioner && rdd.partitioner.equals(part)
        ? oneToOne(rdd)
        : {
            kind: 'shuffle' as const,
            dep: { shuffleId: context._newShuffleId(), rdd, partitioner: () => part.describe(), combiner: null },
          },
    );
    for (const d of this.deps) if (d.kind === 'shuffle') context._cleaner.registerShuffle(this, d.dep.shuffleId);
  }
  numPartitions(): number {
    return this.part.numPartitions;
  }
  dependencies(): Dependency[] {
    return this.deps;
  }
  override get partitioner(): Partitioner | null {
    return this.part;
  }
  planNode(child: (rdd: LineageNode) => PlanNode): PlanNode {
    return {
      kind: 'cogroup',
      rddId: this.id,
      sources: this.deps.map((d) =>
        d.kind === 'narrow' ? { kind: 'narrow' as const, node: child(d.rdd) } : { kind: 'shuffle' as const, shuffleId: d.dep.shuffleId, mapSideCombined: false as const },
      ),
    };
  }
}

export function decodeResult(bytes: Uint8Array | null): unknown[] {
  return bytes ? decodeRecords(bytes) : [];
}

export type { PartitionerDesc };
