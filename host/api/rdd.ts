/**
 * Resilient distributed datasets: the user-facing classes. Transformations are synchronous and
 * lazy (they only build lineage, capturing closures at once so that a bad closure fails where it was
 * written); actions run jobs through the context and return Promises. Semantics follow PySpark's
 * rdd.py method by method, and so do the arguments: PySpark's positional order or an options
 * object (see arguments.ts), each method's parameters declared once in `SIG` below.
 */
import { captureClosure } from '../codec/closure-capture.js';
import type { ClosureSpec } from '../codec/closure-spec.js';
import { KeyMap } from '../codec/keys.js';
import { compareValues } from '../codec/order.js';
import { decodeRecords, decodeRecordsConcat } from '../codec/records.js';
import { FlintError } from '../errors.js';
import { SeededRandom } from '../exec/random.js';
import { mergeStats, emptyStats, toStatCounter, type StatCounter, type Stats } from '../exec/stats.js';
import type { Dependency, LineageNode, ShuffleDependency } from '../plan/lineage.js';
import type { AggregatorDesc, OpDesc, PartitionerDesc, PlanNode, StorageLevelDesc } from '../plan/plan.js';
import type { FileSplit } from '../plan/sources.js';
import { envOption, kind, kinds, noArguments, param, signature } from './arguments.js';
import { callSite } from './call-site.js';
import type { Flint } from './context.js';
import { FunctionPartitioner, HashPartitioner, Partitioner, RangePartitioner, RoundRobinPartitioner, determineBounds } from './partitioner.js';
import { StorageLevel } from './storage-level.js';

/** Names and values a closure may use besides its parameters and JavaScript's globals. */
export type Env = Record<string, unknown>;
export interface EnvOption {
  env?: Env;
}
export interface PartitionOptions extends EnvOption {
  numPartitions?: number | null;
}
/** Options of the per-key shuffles: PySpark's `numPartitions` and `partitionFunc`. */
export interface KeyPartitionOptions<K> extends PartitionOptions {
  partitionFunc?: (key: K) => number;
}
export interface NumPartitionsOption {
  numPartitions?: number | null;
}
export interface MapOptions extends EnvOption {
  preservesPartitioning?: boolean;
}
export interface SortByOptions extends EnvOption {
  ascending?: boolean;
  numPartitions?: number | null;
}
export interface SortByKeyOptions<K> extends SortByOptions {
  keyfunc?: (key: K) => unknown;
}
export interface CoalesceOptions {
  shuffle?: boolean;
}
export interface SeedOption {
  seed?: number | null;
}
export interface DepthOption extends EnvOption {
  depth?: number;
}
export interface KeyOption<T> extends EnvOption {
  key?: (x: T) => unknown;
}
export type BuiltinReducer = 'sum' | 'min' | 'max';

type Pair<K, V> = [K, V];
/** An optional argument given positionally: null and undefined stand for the default (Python's None). */
type Opt<T> = T | null | undefined;
type PartitionFunc<K> = ((key: K) => number) | undefined;
type Reducer<V> = ((a: V, b: V) => V) | BuiltinReducer;
// RDD<T> is invariant in T; internal plumbing takes any RDD.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRDD = RDD<any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFunction = (...args: any[]) => any;

// ---- PySpark's signatures (rdd.py), one per method --------------------------------------------

const rddKind = kind<AnyRDD>('an RDD', (v) => v instanceof RDD);
const reducerKind = kind<AnyFunction | BuiltinReducer>("a function or one of 'sum', 'min', 'max'", (v) => typeof v === 'function' || v === 'sum' || v === 'min' || v === 'max');
const partitionerKind = kind<number | Partitioner | null>('a positive integer, a Partitioner or null', (v) => v === null || v instanceof Partitioner || kinds.positiveInteger.accepts(v));
const storageLevelKind = kind<StorageLevel>('a StorageLevel', (v) => v instanceof StorageLevel);
const weightsKind = kind<number[]>('a non-empty array of non-negative numbers', (v) => Array.isArray(v) && v.length > 0 && v.every((w) => typeof w === 'number' && w >= 0));
const fractionsKind = kind<Map<unknown, number> | Record<string, number>>('a Map or a plain object of fractions', (v) => v instanceof Map || kinds.plainObject.accepts(v));

const fn = <N extends string>(name: N) => param(name, kinds.function);
const numPartitions = param('numPartitions', kinds.positiveInteger);
const partitionFunc = fn('partitionFunc');
const other = param('other', rddKind);
const seed = param('seed', kinds.seed);
const depth = param('depth', kinds.positiveInteger);
const zeroValue = param('zeroValue', kinds.any);
const withF = (method: string) => signature(`rdd.${method}`, [fn('f')], [], envOption);
const mapLike = (method: string) => signature(`rdd.${method}`, [fn('f')], [param('preservesPartitioning', kinds.boolean)], envOption);
const withOther = (method: string) => signature(`rdd.${method}`, [other], [numPartitions]);
const ordered = (method: string) => signature(`rdd.${method}`, [param('num', kinds.count)], [param('key', kinds.function)], envOption);
const extreme = (method: string) => signature(`rdd.${method}`, [], [param('key', kinds.function)], envOption);

const SIG = {
  persist: signature('rdd.persist', [], [param('storageLevel', storageLevelKind)]),
  unpersist: signature('rdd.unpersist', [], [param('blocking', kinds.boolean)]),
  setName: signature('rdd.setName', [param('name', kinds.string)], []),
  map: mapLike('map'),
  flatMap: mapLike('flatMap'),
  mapPartitions: mapLike('mapPartitions'),
  mapPartitionsWithIndex: mapLike('mapPartitionsWithIndex'),
  filter: withF('filter'),
  keyBy: withF('keyBy'),
  mapValues: withF('mapValues'),
  flatMapValues: withF('flatMapValues'),
  foreach: withF('foreach'),
  foreachPartition: withF('foreachPartition'),
  sample: signature('rdd.sample', [param('withReplacement', kinds.boolean), param('fraction', kinds.number)], [seed]),
  randomSplit: signature('rdd.randomSplit', [param('weights', weightsKind)], [seed]),
  takeSample: signature('rdd.takeSample', [param('withReplacement', kinds.boolean), param('num', kinds.count)], [seed]),
  union: signature('rdd.union', [other], []),
  cartesian: signature('rdd.cartesian', [other], []),
  zip: signature('rdd.zip', [other], []),
  groupWith: signature('rdd.groupWith', [other], []),
  intersection: withOther('intersection'),
  subtract: withOther('subtract'),
  join: withOther('join'),
  leftOuterJoin: withOther('leftOuterJoin'),
  rightOuterJoin: withOther('rightOuterJoin'),
  fullOuterJoin: withOther('fullOuterJoin'),
  cogroup: withOther('cogroup'),
  subtractByKey: withOther('subtractByKey'),
  distinct: signature('rdd.distinct', [], [numPartitions]),
  groupBy: signature('rdd.groupBy', [fn('f')], [numPartitions, partitionFunc], envOption),
  sortBy: signature('rdd.sortBy', [fn('keyfunc')], [param('ascending', kinds.boolean), numPartitions], envOption),
  coalesce: signature('rdd.coalesce', [param('numPartitions', kinds.positiveInteger)], [param('shuffle', kinds.boolean)]),
  repartition: signature('rdd.repartition', [param('numPartitions', kinds.positiveInteger)], []),
  reduce: signature('rdd.reduce', [param('f', reducerKind)], [], envOption),
  treeReduce: signature('rdd.treeReduce', [fn('f')], [depth], envOption),
  fold: signature('rdd.fold', [zeroValue, fn('op')], [], envOption),
  aggregate: signature('rdd.aggregate', [zeroValue, fn('seqOp'), fn('combOp')], [], envOption),
  treeAggregate: signature('rdd.treeAggregate', [zeroValue, fn('seqOp'), fn('combOp')], [depth], envOption),
  max: extreme('max'),
  min: extreme('min'),
  top: ordered('top'),
  takeOrdered: ordered('takeOrdered'),
  take: signature('rdd.take', [param('num', kinds.count)], []),
  histogram: signature('rdd.histogram', [param('buckets', kinds.any)], []),
  saveAsTextFile: signature('rdd.saveAsTextFile', [param('path', kinds.path)], []),
  toLocalIterator: signature('rdd.toLocalIterator', [], [param('prefetchPartitions', kinds.boolean)]),
  lookup: signature('rdd.lookup', [param('key', kinds.any)], []),
  reduceByKeyLocally: signature('rdd.reduceByKeyLocally', [param('func', reducerKind)], [], envOption),
  reduceByKey: signature('rdd.reduceByKey', [param('func', reducerKind)], [numPartitions, partitionFunc], envOption),
  combineByKey: signature('rdd.combineByKey', [fn('createCombiner'), fn('mergeValue'), fn('mergeCombiners')], [numPartitions, partitionFunc], envOption),
  aggregateByKey: signature('rdd.aggregateByKey', [zeroValue, fn('seqFunc'), fn('combFunc')], [numPartitions, partitionFunc], envOption),
  foldByKey: signature('rdd.foldByKey', [zeroValue, fn('func')], [numPartitions, partitionFunc], envOption),
  groupByKey: signature('rdd.groupByKey', [], [numPartitions, partitionFunc], envOption),
  partitionBy: signature('rdd.partitionBy', [param('numPartitions', partitionerKind)], [partitionFunc], envOption),
  sortByKey: signature('rdd.sortByKey', [], [param('ascending', kinds.boolean), numPartitions, fn('keyfunc')], envOption),
  sampleByKey: signature('rdd.sampleByKey', [param('withReplacement', kinds.boolean), param('fractions', fractionsKind)], [seed]),
};

function capture(f: unknown, method: string, env?: Env): ClosureSpec {
  return captureClosure(f, { method, env });
}

/**
 * Shuffle ids, cached blocks and broadcasts are numbered per context, so an RDD of one context
 * inside a job of another would read the wrong shuffle: refused when the lineage is built.
 */
export function requireSameContext(label: string, context: Flint, rdds: readonly AnyRDD[]): void {
  for (const r of rdds) {
    if (r.context === context) continue;
    throw new FlintError(
      'INVALID_ARGUMENT',
      `${label}: RDD ${r.id} (${r.callSite}) belongs to another Flint context (${r.context.applicationId}) than the one it is ` +
        `combined with (${context.applicationId}). RDDs of different contexts cannot be mixed; create them from the same context.`,
    );
  }
}

function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

/**
 * PySpark refuses a sample larger than sys.maxsize less a margin of 10 standard deviations; the
 * JavaScript bound is the longest array the sample is returned in (2^32 - 1 elements).
 */
const MAX_SAMPLE_SIZE = 2 ** 32 - 1 - Math.floor(10 * Math.sqrt(2 ** 32 - 1));

const emptyCollection = (what: string) => new FlintError('INVALID_ARGUMENT', `${what}: the RDD is empty`);

export abstract class RDD<T> implements LineageNode {
  readonly id: number;
  readonly callSite: string;
  private _name: string | null = null;
  private storage: StorageLevel | null = null;
  private checkpointMarked = false;
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
    // Plain data: the plan travels over the network, where class instances do not.
    const s = this.storage;
    return s ? { useMemory: s.useMemory, useDisk: s.useDisk, deserialized: s.deserialized, replication: s.replication } : null;
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
    this._name = SIG.setName.parse(arguments).name;
    return this;
  }
  getNumPartitions(): number {
    noArguments('rdd.getNumPartitions', arguments);
    return this.numPartitions();
  }
  cache(): this {
    noArguments('rdd.cache', arguments);
    return this.persist(StorageLevel.MEMORY_ONLY);
  }
  persist(storageLevel?: StorageLevel): this {
    const level = SIG.persist.parse(arguments).storageLevel ?? StorageLevel.MEMORY_ONLY;
    if (this.storage && !this.storage.equals(level)) {
      throw new FlintError('INVALID_ARGUMENT', `Cannot change the storage level of RDD ${this.id} after it was already assigned a level (${this.storage.toString()})`);
    }
    this.storage = level;
    this.context._cleaner.registerCached(this, this.id);
    return this;
  }
  unpersist(blocking?: boolean): this {
    SIG.unpersist.parse(arguments);
    this.storage = null;
    this.context._dropCachedBlocks(this.id);
    return this;
  }
  get isCached(): boolean {
    return this.storage !== null;
  }
  getStorageLevel(): StorageLevel {
    noArguments('rdd.getStorageLevel', arguments);
    return this.storage ?? StorageLevel.NONE;
  }
  /** Saves to the checkpoint directory after the next job that computes this RDD, then forgets its lineage. */
  checkpoint(): void {
    noArguments('rdd.checkpoint', arguments);
    if (!this.context._checkpointDir) {
      throw new FlintError('CHECKPOINT_DIR_NOT_SET', 'checkpoint() needs a checkpoint directory: call fl.setCheckpointDir(dir) first');
    }
    this.checkpointMarked = true;
    if (!this.checkpointed) this.checkpointRequested = true;
  }
  /**
   * True from `checkpoint()` on, as PySpark's `is_checkpointed` (the files are written by the next
   * job, see getCheckpointFile); for `localCheckpoint()`, once the next job materialized it.
   */
  get isCheckpointed(): boolean {
    return this.checkpointMarked || this.localCheckpointed;
  }
  getCheckpointFile(): string | null {
    noArguments('rdd.getCheckpointFile', arguments);
    return this.checkpointed ? this.context._checkpointPathOf(this.id) : null;
  }
  /** Keeps partitions in executor memory after the next job; lost blocks are recomputed from lineage. */
  localCheckpoint(): this {
    noArguments('rdd.localCheckpoint', arguments);
    this.persist(StorageLevel.MEMORY_AND_DISK);
    this.localCheckpointRequested = true;
    return this;
  }
  /** Whether `localCheckpoint()` marked this RDD (PySpark's isLocallyCheckpointed). */
  isLocallyCheckpointed(): boolean {
    noArguments('rdd.isLocallyCheckpointed', arguments);
    return this.localCheckpointRequested;
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
    noArguments('rdd.toDebugString', arguments);
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

  map<U>(f: (x: T) => U, opts?: MapOptions): RDD<U>;
  map<U>(f: (x: T) => U, preservesPartitioning?: boolean, opts?: EnvOption): RDD<U>;
  map(...args: unknown[]): AnyRDD {
    const a = SIG.map.parse(args);
    return this._pipe('map', [{ op: 'map', f: capture(a.f, 'map', a.env) }], a.preservesPartitioning);
  }
  flatMap<U>(f: (x: T) => Iterable<U>, opts?: MapOptions): RDD<U>;
  flatMap<U>(f: (x: T) => Iterable<U>, preservesPartitioning?: boolean, opts?: EnvOption): RDD<U>;
  flatMap(...args: unknown[]): AnyRDD {
    const a = SIG.flatMap.parse(args);
    return this._pipe('flatMap', [{ op: 'flatMap', f: capture(a.f, 'flatMap', a.env) }], a.preservesPartitioning);
  }
  filter(f: (x: T) => unknown, opts?: EnvOption): RDD<T>;
  filter(...args: unknown[]): AnyRDD {
    const a = SIG.filter.parse(args);
    return this._pipe('filter', [{ op: 'filter', f: capture(a.f, 'filter', a.env) }], true);
  }
  mapPartitions<U>(f: (it: IterableIterator<T>) => Iterable<U>, opts?: MapOptions): RDD<U>;
  mapPartitions<U>(f: (it: IterableIterator<T>) => Iterable<U>, preservesPartitioning?: boolean, opts?: EnvOption): RDD<U>;
  mapPartitions(...args: unknown[]): AnyRDD {
    const a = SIG.mapPartitions.parse(args);
    return this._pipe('mapPartitions', [{ op: 'mapPartitions', f: capture(a.f, 'mapPartitions', a.env), withIndex: false }], a.preservesPartitioning);
  }
  mapPartitionsWithIndex<U>(f: (index: number, it: IterableIterator<T>) => Iterable<U>, opts?: MapOptions): RDD<U>;
  mapPartitionsWithIndex<U>(f: (index: number, it: IterableIterator<T>) => Iterable<U>, preservesPartitioning?: boolean, opts?: EnvOption): RDD<U>;
  mapPartitionsWithIndex(...args: unknown[]): AnyRDD {
    const a = SIG.mapPartitionsWithIndex.parse(args);
    return this._pipe(
      'mapPartitionsWithIndex',
      [{ op: 'mapPartitions', f: capture(a.f, 'mapPartitionsWithIndex', a.env), withIndex: true }],
      a.preservesPartitioning,
    );
  }
  glom(): RDD<T[]> {
    noArguments('rdd.glom', arguments);
    return this._pipe('glom', [{ op: 'glom' }]);
  }
  keyBy<K>(f: (x: T) => K, opts?: EnvOption): RDD<[K, T]>;
  keyBy(...args: unknown[]): AnyRDD {
    const a = SIG.keyBy.parse(args);
    return this._pipe('keyBy', [{ op: 'keyBy', f: capture(a.f, 'keyBy', a.env) }]);
  }
  sample(withReplacement: boolean, fraction: number, seed?: Opt<number>): RDD<T>;
  sample(withReplacement: boolean, fraction: number, opts: SeedOption): RDD<T>;
  sample(...args: unknown[]): AnyRDD {
    const { withReplacement, fraction, seed = randomSeed() } = SIG.sample.parse(args);
    if (!(fraction >= 0)) throw new FlintError('INVALID_ARGUMENT', `rdd.sample: fraction must be >= 0, got ${fraction}`);
    if (!withReplacement && fraction > 1) throw new FlintError('INVALID_ARGUMENT', `rdd.sample: fraction must be in [0, 1] without replacement, got ${fraction}`);
    return this._pipe('sample', [{ op: 'sample', withReplacement, fraction, seed }], true);
  }
  randomSplit(weights: number[], seed?: Opt<number>): RDD<T>[];
  randomSplit(weights: number[], opts: SeedOption): RDD<T>[];
  randomSplit(...args: unknown[]): AnyRDD[] {
    const { weights, seed = randomSeed() } = SIG.randomSplit.parse(args);
    const total = weights.reduce((a, b) => a + b, 0);
    if (!(total > 0)) throw new FlintError('INVALID_ARGUMENT', 'rdd.randomSplit: the sum of weights must be positive');
    const out: AnyRDD[] = [];
    let lower = 0;
    for (const w of weights) {
      const upper = lower + w / total;
      out.push(this._pipe('randomSplit', [{ op: 'randomSplit', lower, upper, seed }], true));
      lower = upper;
    }
    return out;
  }
  union(other: RDD<T>): RDD<T>;
  union(...args: unknown[]): AnyRDD {
    const { other } = SIG.union.parse(args);
    requireSameContext('rdd.union', this.context, [other]);
    return new UnionRDD<T>(this.context, [this, other]);
  }
  cartesian<U>(other: RDD<U>): RDD<[T, U]>;
  cartesian(...args: unknown[]): AnyRDD {
    const { other } = SIG.cartesian.parse(args);
    requireSameContext('rdd.cartesian', this.context, [other]);
    return new CartesianRDD(this, other);
  }
  zip<U>(other: RDD<U>): RDD<[T, U]>;
  zip(...args: unknown[]): AnyRDD {
    const { other } = SIG.zip.parse(args);
    requireSameContext('rdd.zip', this.context, [other]);
    if (this.numPartitions() !== other.numPartitions()) {
      throw new FlintError('INVALID_ARGUMENT', `rdd.zip: can only zip RDDs with the same number of partitions (${this.numPartitions()} vs ${other.numPartitions()})`);
    }
    return new ZippedRDD(this, other);
  }
  zipWithIndex(): RDD<[T, number]> {
    noArguments('rdd.zipWithIndex', arguments);
    return new ZipWithIndexRDD<T>(this);
  }
  zipWithUniqueId(): RDD<[T, number]> {
    noArguments('rdd.zipWithUniqueId', arguments);
    return this._pipe('zipWithUniqueId', [{ op: 'zipWithUniqueId', numPartitions: this.numPartitions() }]);
  }
  coalesce(numPartitions: number, shuffle?: boolean): RDD<T>;
  coalesce(numPartitions: number, opts: CoalesceOptions): RDD<T>;
  coalesce(...args: unknown[]): AnyRDD {
    const { numPartitions: n, shuffle } = SIG.coalesce.parse(args);
    if (shuffle) {
      const keyed = this._pipe<[null, T]>('repartition', [{ op: 'pairWithNull' }, { op: 'swap' }]);
      const shuffled = new ShuffledRDD<null, T, T>(keyed, 'repartition', new RoundRobinPartitioner(n), null, false, null);
      return shuffled._pipe<T>('repartition', [{ op: 'values' }]);
    }
    return new CoalescedRDD<T>(this, n);
  }
  repartition(numPartitions: number): RDD<T>;
  repartition(...args: unknown[]): AnyRDD {
    return this.coalesce(SIG.repartition.parse(args).numPartitions, true);
  }
  distinct(numPartitions?: Opt<number>): RDD<T>;
  distinct(opts: NumPartitionsOption): RDD<T>;
  distinct(...args: unknown[]): AnyRDD {
    const n = SIG.distinct.parse(args).numPartitions ?? this.numPartitions();
    // Counting each value is keeping one of each: the built-in lets the hash aggregation do it.
    return this._pipe<[T, null]>('distinct', [{ op: 'pairWithNull' }])
      ._combine<null>('distinct', { kind: 'builtin', name: 'count' }, new HashPartitioner(n), true)
      ._pipe<T>('distinct', [{ op: 'keys' }]);
  }
  /** Scala's intersection(other, numPartitions); PySpark's takes no partition count. */
  intersection(other: RDD<T>, numPartitions?: Opt<number>): RDD<T>;
  intersection(other: RDD<T>, opts: NumPartitionsOption): RDD<T>;
  intersection(...args: unknown[]): AnyRDD {
    const { other, numPartitions: n } = SIG.intersection.parse(args);
    requireSameContext('rdd.intersection', this.context, [other]);
    const a = this._pipe<[T, null]>('intersection', [{ op: 'pairWithNull' }]);
    const b = other._pipe<[T, null]>('intersection', [{ op: 'pairWithNull' }]);
    const both = captureClosure((kv: [unknown, unknown[][]]) => kv[1][0]!.length > 0 && kv[1][1]!.length > 0, { method: 'intersection' });
    return a.cogroup(b, n)._pipe<T>('intersection', [{ op: 'filter', f: both }, { op: 'keys' }]);
  }
  subtract(other: RDD<T>, numPartitions?: Opt<number>): RDD<T>;
  subtract(other: RDD<T>, opts: NumPartitionsOption): RDD<T>;
  subtract(...args: unknown[]): AnyRDD {
    const { other, numPartitions: n } = SIG.subtract.parse(args);
    requireSameContext('rdd.subtract', this.context, [other]);
    const a = this._pipe<[T, null]>('subtract', [{ op: 'pairWithNull' }]);
    const b = other._pipe<[T, null]>('subtract', [{ op: 'pairWithNull' }]);
    return a.subtractByKey(b, n)._pipe<T>('subtract', [{ op: 'keys' }]);
  }
  groupBy<K>(f: (x: T) => K, opts?: KeyPartitionOptions<K>): RDD<[K, T[]]>;
  groupBy<K>(f: (x: T) => K, numPartitions: Opt<number>, opts?: Omit<KeyPartitionOptions<K>, 'numPartitions'>): RDD<[K, T[]]>;
  groupBy<K>(f: (x: T) => K, numPartitions: Opt<number>, partitionFunc: PartitionFunc<K>, opts?: EnvOption): RDD<[K, T[]]>;
  groupBy(...args: unknown[]): AnyRDD {
    const a = SIG.groupBy.parse(args);
    return this.keyBy(a.f, { env: a.env }).groupByKey(a.numPartitions, a.partitionFunc, { env: a.env });
  }
  sortBy<K>(keyfunc: (x: T) => K, opts?: SortByOptions): RDD<T>;
  sortBy<K>(keyfunc: (x: T) => K, ascending: Opt<boolean>, opts?: Omit<SortByOptions, 'ascending'>): RDD<T>;
  sortBy<K>(keyfunc: (x: T) => K, ascending: Opt<boolean>, numPartitions: Opt<number>, opts?: EnvOption): RDD<T>;
  sortBy(...args: unknown[]): AnyRDD {
    const a = SIG.sortBy.parse(args);
    return this.keyBy(a.keyfunc, { env: a.env })
      .sortByKey(a.ascending, a.numPartitions)
      ._pipe<T>('sortBy', [{ op: 'values' }]);
  }

  // ---- pair transformations ------------------------------------------------------------

  // Both type parameters are inferred: RDD<T> is invariant, so RDD<[K, V]> is not an RDD<[K, unknown]>.
  keys<K, V>(this: RDD<Pair<K, V>>): RDD<K> {
    noArguments('rdd.keys', arguments);
    return this._pipe('keys', [{ op: 'keys' }]);
  }
  values<K, V>(this: RDD<Pair<K, V>>): RDD<V> {
    noArguments('rdd.values', arguments);
    return this._pipe('values', [{ op: 'values' }]);
  }
  mapValues<K, V, U>(this: RDD<Pair<K, V>>, f: (v: V) => U, opts?: EnvOption): RDD<[K, U]>;
  mapValues(...args: unknown[]): AnyRDD {
    const a = SIG.mapValues.parse(args);
    return this._pipe('mapValues', [{ op: 'mapValues', f: capture(a.f, 'mapValues', a.env) }], true);
  }
  flatMapValues<K, V, U>(this: RDD<Pair<K, V>>, f: (v: V) => Iterable<U>, opts?: EnvOption): RDD<[K, U]>;
  flatMapValues(...args: unknown[]): AnyRDD {
    const a = SIG.flatMapValues.parse(args);
    return this._pipe('flatMapValues', [{ op: 'flatMapValues', f: capture(a.f, 'flatMapValues', a.env) }], true);
  }

  /** @internal A shuffle that combines values per key with `agg`. */
  _combine<C>(method: string, agg: AggregatorDesc, partitioner: Partitioner, mapSideCombine: boolean): RDD<[unknown, C]> {
    if (this.partitioner && this.partitioner.equals(partitioner)) {
      // Already partitioned this way: combine within partitions, no shuffle (Spark does the same).
      return new LocalCombineRDD<C>(this as AnyRDD, method, agg);
    }
    return new ShuffledRDD<unknown, unknown, C>(this as AnyRDD, method, partitioner, agg, mapSideCombine, null);
  }

  private partitionerFor(method: string, a: { numPartitions?: number; partitionFunc?: AnyFunction; env?: Env }): Partitioner {
    const n = a.numPartitions ?? this.context._defaultReducePartitions(this);
    if (a.partitionFunc) return new FunctionPartitioner(n, a.partitionFunc, a.env);
    return new HashPartitioner(n);
  }

  combineByKey<K, V, C>(
    this: RDD<Pair<K, V>>,
    createCombiner: (v: V) => C,
    mergeValue: (c: C, v: V) => C,
    mergeCombiners: (a: C, b: C) => C,
    opts?: KeyPartitionOptions<K>,
  ): RDD<[K, C]>;
  combineByKey<K, V, C>(
    this: RDD<Pair<K, V>>,
    createCombiner: (v: V) => C,
    mergeValue: (c: C, v: V) => C,
    mergeCombiners: (a: C, b: C) => C,
    numPartitions: Opt<number>,
    opts?: Omit<KeyPartitionOptions<K>, 'numPartitions'>,
  ): RDD<[K, C]>;
  combineByKey<K, V, C>(
    this: RDD<Pair<K, V>>,
    createCombiner: (v: V) => C,
    mergeValue: (c: C, v: V) => C,
    mergeCombiners: (a: C, b: C) => C,
    numPartitions: Opt<number>,
    partitionFunc: PartitionFunc<K>,
    opts?: EnvOption,
  ): RDD<[K, C]>;
  combineByKey(...args: unknown[]): AnyRDD {
    const a = SIG.combineByKey.parse(args);
    const agg: AggregatorDesc = {
      kind: 'closures',
      createCombiner: capture(a.createCombiner, 'combineByKey', a.env),
      mergeValue: capture(a.mergeValue, 'combineByKey', a.env),
      mergeCombiners: capture(a.mergeCombiners, 'combineByKey', a.env),
    };
    return this._combine('combineByKey', agg, this.partitionerFor('combineByKey', a), true);
  }
  reduceByKey<K, V>(this: RDD<Pair<K, V>>, func: Reducer<V>, opts?: KeyPartitionOptions<K>): RDD<[K, V]>;
  reduceByKey<K, V>(this: RDD<Pair<K, V>>, func: Reducer<V>, numPartitions: Opt<number>, opts?: Omit<KeyPartitionOptions<K>, 'numPartitions'>): RDD<[K, V]>;
  reduceByKey<K, V>(this: RDD<Pair<K, V>>, func: Reducer<V>, numPartitions: Opt<number>, partitionFunc: PartitionFunc<K>, opts?: EnvOption): RDD<[K, V]>;
  reduceByKey(...args: unknown[]): AnyRDD {
    const a = SIG.reduceByKey.parse(args);
    const partitioner = this.partitionerFor('reduceByKey', a);
    if (typeof a.func === 'string') return this._combine('reduceByKey', { kind: 'builtin', name: a.func }, partitioner, true);
    const spec = capture(a.func, 'reduceByKey', a.env);
    const id = captureClosure((v: unknown) => v, { method: 'reduceByKey' });
    return this._combine('reduceByKey', { kind: 'closures', createCombiner: id, mergeValue: spec, mergeCombiners: spec }, partitioner, true);
  }
  foldByKey<K, V>(this: RDD<Pair<K, V>>, zeroValue: V, func: (a: V, b: V) => V, opts?: KeyPartitionOptions<K>): RDD<[K, V]>;
  foldByKey<K, V>(
    this: RDD<Pair<K, V>>,
    zeroValue: V,
    func: (a: V, b: V) => V,
    numPartitions: Opt<number>,
    opts?: Omit<KeyPartitionOptions<K>, 'numPartitions'>,
  ): RDD<[K, V]>;
  foldByKey<K, V>(
    this: RDD<Pair<K, V>>,
    zeroValue: V,
    func: (a: V, b: V) => V,
    numPartitions: Opt<number>,
    partitionFunc: PartitionFunc<K>,
    opts?: EnvOption,
  ): RDD<[K, V]>;
  foldByKey(...args: unknown[]): AnyRDD {
    const a = SIG.foldByKey.parse(args);
    return this.combineFromZero('foldByKey', a.zeroValue, a.func, a.func, a);
  }
  aggregateByKey<K, V, U>(
    this: RDD<Pair<K, V>>,
    zeroValue: U,
    seqFunc: (acc: U, v: V) => U,
    combFunc: (a: U, b: U) => U,
    opts?: KeyPartitionOptions<K>,
  ): RDD<[K, U]>;
  aggregateByKey<K, V, U>(
    this: RDD<Pair<K, V>>,
    zeroValue: U,
    seqFunc: (acc: U, v: V) => U,
    combFunc: (a: U, b: U) => U,
    numPartitions: Opt<number>,
    opts?: Omit<KeyPartitionOptions<K>, 'numPartitions'>,
  ): RDD<[K, U]>;
  aggregateByKey<K, V, U>(
    this: RDD<Pair<K, V>>,
    zeroValue: U,
    seqFunc: (acc: U, v: V) => U,
    combFunc: (a: U, b: U) => U,
    numPartitions: Opt<number>,
    partitionFunc: PartitionFunc<K>,
    opts?: EnvOption,
  ): RDD<[K, U]>;
  aggregateByKey(...args: unknown[]): AnyRDD {
    const a = SIG.aggregateByKey.parse(args);
    return this.combineFromZero('aggregateByKey', a.zeroValue, a.seqFunc, a.combFunc, a);
  }
  /** PySpark's foldByKey and aggregateByKey: a fresh copy of the zero value starts each key in each partition. */
  private combineFromZero(
    method: string,
    zeroValue: unknown,
    seqFunc: AnyFunction,
    combFunc: AnyFunction,
    a: { numPartitions?: number; partitionFunc?: AnyFunction; env?: Env },
  ): AnyRDD {
    const env = { ...a.env, __flintZero: zeroValue, __flintF: seqFunc };
    const create = captureClosure((v: unknown) => __flintF(structuredClone(__flintZero), v), { method, env });
    const agg: AggregatorDesc = { kind: 'closures', createCombiner: create, mergeValue: capture(seqFunc, method, a.env), mergeCombiners: capture(combFunc, method, a.env) };
    return this._combine(method, agg, this.partitionerFor(method, a), true);
  }
  groupByKey<K, V>(this: RDD<Pair<K, V>>, opts?: KeyPartitionOptions<K>): RDD<[K, V[]]>;
  groupByKey<K, V>(this: RDD<Pair<K, V>>, numPartitions: Opt<number>, opts?: Omit<KeyPartitionOptions<K>, 'numPartitions'>): RDD<[K, V[]]>;
  groupByKey<K, V>(this: RDD<Pair<K, V>>, numPartitions: Opt<number>, partitionFunc: PartitionFunc<K>, opts?: EnvOption): RDD<[K, V[]]>;
  groupByKey(...args: unknown[]): AnyRDD {
    const a = SIG.groupByKey.parse(args);
    return this._combine('groupByKey', { kind: 'group' }, this.partitionerFor('groupByKey', a), false);
  }
  /** `numPartitions` may be a Partitioner (Scala's partitionBy(partitioner)) or null (the default count). */
  partitionBy<K, V>(this: RDD<Pair<K, V>>, numPartitions: number | Partitioner | null, opts?: Omit<KeyPartitionOptions<K>, 'numPartitions'>): RDD<[K, V]>;
  partitionBy<K, V>(this: RDD<Pair<K, V>>, numPartitions: number | Partitioner | null, partitionFunc: PartitionFunc<K>, opts?: EnvOption): RDD<[K, V]>;
  partitionBy(...args: unknown[]): AnyRDD {
    const a = SIG.partitionBy.parse(args);
    const given = a.numPartitions;
    if (given instanceof Partitioner && a.partitionFunc) {
      throw new FlintError('INVALID_ARGUMENT', 'rdd.partitionBy: give either a Partitioner or a partitionFunc, not both');
    }
    const p = given instanceof Partitioner ? given : this.partitionerFor('partitionBy', { numPartitions: given ?? undefined, partitionFunc: a.partitionFunc, env: a.env });
    if (this.partitioner && this.partitioner.equals(p)) return this;
    return new ShuffledRDD(this, 'partitionBy', p, null, false, null);
  }
  sortByKey<K, V>(this: RDD<Pair<K, V>>, opts?: SortByKeyOptions<K>): RDD<[K, V]>;
  sortByKey<K, V>(this: RDD<Pair<K, V>>, ascending: Opt<boolean>, opts?: Omit<SortByKeyOptions<K>, 'ascending'>): RDD<[K, V]>;
  sortByKey<K, V>(this: RDD<Pair<K, V>>, ascending: Opt<boolean>, numPartitions: Opt<number>, opts?: Omit<SortByKeyOptions<K>, 'ascending' | 'numPartitions'>): RDD<[K, V]>;
  sortByKey<K, V>(
    this: RDD<Pair<K, V>>,
    ascending: Opt<boolean>,
    numPartitions: Opt<number>,
    keyfunc: ((key: K) => unknown) | undefined,
    opts?: EnvOption,
  ): RDD<[K, V]>;
  sortByKey(...args: unknown[]): AnyRDD {
    const a = SIG.sortByKey.parse(args);
    const ascending = a.ascending ?? true;
    // An RDD without partitions (emptyRDD) still sorts, into one empty partition.
    const n = a.numPartitions ?? Math.max(1, this.numPartitions());
    if (a.keyfunc) {
      capture(a.keyfunc, 'sortByKey', a.env);
      const env = { ...a.env, __flintK: a.keyfunc };
      const wrap = captureClosure((kv: [unknown, unknown]) => [__flintK(kv[0]), kv], { method: 'sortByKey', env });
      return (this._pipe<[unknown, unknown]>('sortByKey', [{ op: 'map', f: wrap }]) as RDD<[unknown, unknown]>)
        .sortByKey(ascending, n)
        ._pipe('sortByKey', [{ op: 'values' }]);
    }
    return new ShuffledRDD(this, 'sortByKey', new RangePartitioner(n, ascending), null, false, { ascending });
  }
  cogroup<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, numPartitions?: Opt<number>): RDD<[K, [V[], W[]]]>;
  cogroup<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, opts: NumPartitionsOption): RDD<[K, [V[], W[]]]>;
  cogroup(...args: unknown[]): AnyRDD {
    const { other, numPartitions: n } = SIG.cogroup.parse(args);
    requireSameContext('rdd.cogroup', this.context, [other]);
    return new CoGroupedRDD(this.context, [this, other], this.cogroupPartitioner([this, other], n));
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  groupWith<K, V>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, any>>, ...others: RDD<Pair<K, any>>[]): RDD<[K, unknown[][]]>;
  groupWith(...args: unknown[]): AnyRDD {
    const { other } = SIG.groupWith.parse(args.slice(0, 1));
    const others = args.slice(1);
    others.forEach((r, i) => {
      if (!(r instanceof RDD)) {
        throw new FlintError('INVALID_ARGUMENT', `rdd.groupWith: argument ${i + 2} must be an RDD, got ${r === null ? 'null' : typeof r}`);
      }
    });
    const all = [this, other, ...(others as AnyRDD[])];
    requireSameContext('rdd.groupWith', this.context, all);
    return new CoGroupedRDD(this.context, all, this.cogroupPartitioner(all, undefined));
  }
  private cogroupPartitioner(rdds: AnyRDD[], numPartitions: number | undefined): Partitioner {
    if (numPartitions !== undefined) return new HashPartitioner(numPartitions);
    // Spark's defaultPartitioner: reuse an existing partitioner of a parent, else the widest parent.
    const existing = rdds
      .map((r) => r.partitioner)
      .filter((p): p is Partitioner => p !== null)
      .sort((a, b) => b.numPartitions - a.numPartitions)[0];
    const widest = Math.max(...rdds.map((r) => r.numPartitions()));
    if (existing && existing.numPartitions >= widest) return existing;
    return new HashPartitioner(Math.max(1, widest));
  }
  /** A cogroup of `this` and `other` whose value groups `f` turns into the output values of each key. */
  private joinWith(method: 'join' | 'leftOuterJoin' | 'rightOuterJoin' | 'fullOuterJoin' | 'subtractByKey', args: unknown[], f: ClosureSpec): AnyRDD {
    const { other, numPartitions: n } = SIG[method].parse(args);
    requireSameContext(`rdd.${method}`, this.context, [other]);
    return (this as AnyRDD).cogroup(other, n)._pipe(method, [{ op: 'flatMapValues', f }], true);
  }
  join<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, numPartitions?: Opt<number>): RDD<[K, [V, W]]>;
  join<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, opts: NumPartitionsOption): RDD<[K, [V, W]]>;
  join(...args: unknown[]): AnyRDD {
    const f = captureClosure((vw: [unknown[], unknown[]]) => {
      const out: unknown[] = [];
      for (const v of vw[0]) for (const w of vw[1]) out.push([v, w]);
      return out;
    }, { method: 'join' });
    return this.joinWith('join', args, f);
  }
  leftOuterJoin<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, numPartitions?: Opt<number>): RDD<[K, [V, W | null]]>;
  leftOuterJoin<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, opts: NumPartitionsOption): RDD<[K, [V, W | null]]>;
  leftOuterJoin(...args: unknown[]): AnyRDD {
    const f = captureClosure((vw: [unknown[], unknown[]]) => {
      const out: unknown[] = [];
      const ws = vw[1].length > 0 ? vw[1] : [null];
      for (const v of vw[0]) for (const w of ws) out.push([v, w]);
      return out;
    }, { method: 'leftOuterJoin' });
    return this.joinWith('leftOuterJoin', args, f);
  }
  rightOuterJoin<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, numPartitions?: Opt<number>): RDD<[K, [V | null, W]]>;
  rightOuterJoin<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, opts: NumPartitionsOption): RDD<[K, [V | null, W]]>;
  rightOuterJoin(...args: unknown[]): AnyRDD {
    const f = captureClosure((vw: [unknown[], unknown[]]) => {
      const out: unknown[] = [];
      const vs = vw[0].length > 0 ? vw[0] : [null];
      for (const v of vs) for (const w of vw[1]) out.push([v, w]);
      return out;
    }, { method: 'rightOuterJoin' });
    return this.joinWith('rightOuterJoin', args, f);
  }
  fullOuterJoin<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, numPartitions?: Opt<number>): RDD<[K, [V | null, W | null]]>;
  fullOuterJoin<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, opts: NumPartitionsOption): RDD<[K, [V | null, W | null]]>;
  fullOuterJoin(...args: unknown[]): AnyRDD {
    const f = captureClosure((vw: [unknown[], unknown[]]) => {
      const out: unknown[] = [];
      const vs = vw[0].length > 0 ? vw[0] : [null];
      const ws = vw[1].length > 0 ? vw[1] : [null];
      for (const v of vs) for (const w of ws) out.push([v, w]);
      return out;
    }, { method: 'fullOuterJoin' });
    return this.joinWith('fullOuterJoin', args, f);
  }
  subtractByKey<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, numPartitions?: Opt<number>): RDD<[K, V]>;
  subtractByKey<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, opts: NumPartitionsOption): RDD<[K, V]>;
  subtractByKey(...args: unknown[]): AnyRDD {
    const f = captureClosure((vw: [unknown[], unknown[]]) => (vw[1].length === 0 ? vw[0] : []), { method: 'subtractByKey' });
    return this.joinWith('subtractByKey', args, f);
  }
  sampleByKey<K, V>(this: RDD<Pair<K, V>>, withReplacement: boolean, fractions: Map<K, number> | Record<string, number>, seed?: Opt<number>): RDD<[K, V]>;
  sampleByKey<K, V>(this: RDD<Pair<K, V>>, withReplacement: boolean, fractions: Map<K, number> | Record<string, number>, opts: SeedOption): RDD<[K, V]>;
  sampleByKey(...args: unknown[]): AnyRDD {
    const { withReplacement, fractions, seed = randomSeed() } = SIG.sampleByKey.parse(args);
    const entries: [unknown, number][] = fractions instanceof Map ? [...fractions] : Object.entries(fractions);
    for (const [k, f] of entries) {
      if (!(f >= 0)) throw new FlintError('INVALID_ARGUMENT', `rdd.sampleByKey: negative fraction for key ${String(k)}`);
    }
    return this._pipe('sampleByKey', [{ op: 'sampleByKey', withReplacement, fractions: entries, seed }], true);
  }

  // ---- actions -----------------------------------------------------------------------------

  /** @internal Runs `ops` on the given partitions and returns each partition's records. */
  _run(method: string, ops: OpDesc[], partitions?: number[], description = callSite(method)): Promise<unknown[][]> {
    const target: AnyRDD = ops.length > 0 ? this._pipe(method, ops, true) : this;
    return this.context._collectPartitions(target, partitions ?? range(this.numPartitions()), description, this);
  }

  async collect(): Promise<T[]> {
    noArguments('rdd.collect', arguments);
    const parts = await this.context._collectEncoded(this, range(this.numPartitions()), callSite('collect'), this);
    return decodeRecordsConcat(parts) as T[];
  }
  async count(): Promise<number> {
    noArguments('rdd.count', arguments);
    const parts = await this._run('count', [{ op: 'count' }]);
    return parts.reduce((a, p) => a + (p[0] as number), 0);
  }
  async first(): Promise<T> {
    noArguments('rdd.first', arguments);
    const rs = await this.take(1);
    if (rs.length === 0) throw emptyCollection('first');
    return rs[0]!;
  }
  async take(num: number): Promise<T[]> {
    SIG.take.parse(arguments);
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
    noArguments('rdd.isEmpty', arguments);
    return this.numPartitions() === 0 || (await this.take(1)).length === 0;
  }
  /** The `num` smallest records (by `key`), in ascending order. */
  takeOrdered(num: number, key?: (x: T) => unknown, opts?: EnvOption): Promise<T[]>;
  takeOrdered(num: number, opts: KeyOption<T>): Promise<T[]>;
  takeOrdered(...args: unknown[]): Promise<T[]> {
    const a = SIG.takeOrdered.parse(args);
    return this.ordered('takeOrdered', a.num, a.key, a.env, false);
  }
  /** The `num` largest records (by `key`), in descending order. */
  top(num: number, key?: (x: T) => unknown, opts?: EnvOption): Promise<T[]>;
  top(num: number, opts: KeyOption<T>): Promise<T[]>;
  top(...args: unknown[]): Promise<T[]> {
    const a = SIG.top.parse(args);
    return this.ordered('top', a.num, a.key, a.env, true);
  }
  private async ordered(method: string, num: number, key: AnyFunction | undefined, env: Env | undefined, descending: boolean): Promise<T[]> {
    if (num === 0) return [];
    const spec = key ? capture(key, method, env) : null;
    const parts = await this._run(method, [{ op: 'takeOrdered', n: num, key: spec, descending }]);
    return mergeOrdered(parts.flat() as T[], num, spec ? this.context._driverFunction(spec) : undefined, descending);
  }
  max(key?: (x: T) => unknown, opts?: EnvOption): Promise<T>;
  max(opts: KeyOption<T>): Promise<T>;
  async max(...args: unknown[]): Promise<T> {
    const a = SIG.max.parse(args);
    const r = await this.ordered('max', 1, a.key, a.env, true);
    if (r.length === 0) throw emptyCollection('max');
    return r[0]!;
  }
  min(key?: (x: T) => unknown, opts?: EnvOption): Promise<T>;
  min(opts: KeyOption<T>): Promise<T>;
  async min(...args: unknown[]): Promise<T> {
    const a = SIG.min.parse(args);
    const r = await this.ordered('min', 1, a.key, a.env, false);
    if (r.length === 0) throw emptyCollection('min');
    return r[0]!;
  }
  reduce(f: ((a: T, b: T) => T) | BuiltinReducer, opts?: EnvOption): Promise<T>;
  async reduce(...args: unknown[]): Promise<T> {
    const a = SIG.reduce.parse(args);
    const fn = typeof a.f === 'string' ? builtinReduceFunction(a.f) : a.f;
    const spec = capture(fn, 'reduce', a.env);
    const vals = (await this._run('reduce', [{ op: 'mapPartitions', f: reducePartitionSpec(fn, a.env), withIndex: false }])).flat() as T[];
    if (vals.length === 0) throw new FlintError('INVALID_ARGUMENT', 'reduce: cannot reduce an empty RDD');
    const g = this.context._driverFunction<(a: T, b: T) => T>(spec);
    return vals.reduce((x, y) => g(x, y));
  }
  fold(zeroValue: T, op: (a: T, b: T) => T, opts?: EnvOption): Promise<T>;
  async fold(...args: unknown[]): Promise<T> {
    const a = SIG.fold.parse(args);
    const zero = a.zeroValue as T;
    const spec = capture(a.op, 'fold', a.env);
    const vals = (await this._run('fold', [{ op: 'mapPartitions', f: aggregatePartitionSpec(a.op, zero, a.env), withIndex: false }])).flat() as T[];
    const g = this.context._driverFunction<(a: T, b: T) => T>(spec);
    return vals.reduce((x, y) => g(x, y), structuredClone(zero));
  }
  aggregate<U>(zeroValue: U, seqOp: (acc: U, x: T) => U, combOp: (a: U, b: U) => U, opts?: EnvOption): Promise<U>;
  async aggregate(...args: unknown[]): Promise<unknown> {
    const a = SIG.aggregate.parse(args);
    capture(a.seqOp, 'aggregate', a.env);
    const comb = capture(a.combOp, 'aggregate', a.env);
    const vals = (await this._run('aggregate', [{ op: 'mapPartitions', f: aggregatePartitionSpec(a.seqOp, a.zeroValue, a.env), withIndex: false }])).flat();
    const g = this.context._driverFunction<(a: unknown, b: unknown) => unknown>(comb);
    return vals.reduce((x, y) => g(x, y), structuredClone(a.zeroValue));
  }
  treeAggregate<U>(zeroValue: U, seqOp: (acc: U, x: T) => U, combOp: (a: U, b: U) => U, opts?: DepthOption): Promise<U>;
  treeAggregate<U>(zeroValue: U, seqOp: (acc: U, x: T) => U, combOp: (a: U, b: U) => U, depth?: number, opts?: EnvOption): Promise<U>;
  async treeAggregate(...args: unknown[]): Promise<unknown> {
    const a = SIG.treeAggregate.parse(args);
    const comb = capture(a.combOp, 'treeAggregate', a.env);
    capture(a.seqOp, 'treeAggregate', a.env);
    if (this.numPartitions() === 0) return structuredClone(a.zeroValue);
    const partial = this._pipe('treeAggregate', [{ op: 'mapPartitions', f: aggregatePartitionSpec(a.seqOp, a.zeroValue, a.env), withIndex: false }]);
    const vals = await treeLevels(partial, a.combOp, a.depth ?? 2, a.env).collect();
    const g = this.context._driverFunction<(a: unknown, b: unknown) => unknown>(comb);
    return vals.reduce((x, y) => g(x, y), structuredClone(a.zeroValue));
  }
  treeReduce(f: (a: T, b: T) => T, opts?: DepthOption): Promise<T>;
  treeReduce(f: (a: T, b: T) => T, depth?: number, opts?: EnvOption): Promise<T>;
  async treeReduce(...args: unknown[]): Promise<T> {
    const a = SIG.treeReduce.parse(args);
    const spec = capture(a.f, 'treeReduce', a.env);
    const partial = this._pipe('treeReduce', [{ op: 'mapPartitions', f: reducePartitionSpec(a.f, a.env), withIndex: false }]);
    const vals = (await treeLevels(partial, a.f, a.depth ?? 2, a.env).collect()) as T[];
    if (vals.length === 0) throw new FlintError('INVALID_ARGUMENT', 'treeReduce: cannot reduce an empty RDD');
    const g = this.context._driverFunction<(a: T, b: T) => T>(spec);
    return vals.reduce((x, y) => g(x, y));
  }
  async stats(this: RDD<number>): Promise<StatCounter> {
    noArguments('rdd.stats', arguments);
    const parts = await this._run('stats', [{ op: 'stats' }]);
    let s: Stats = emptyStats();
    for (const p of parts) s = mergeStats(s, p[0] as Stats);
    return toStatCounter(s);
  }
  async sum(this: RDD<number>): Promise<number> {
    noArguments('rdd.sum', arguments);
    return (await this.stats()).sum;
  }
  async mean(this: RDD<number>): Promise<number> {
    noArguments('rdd.mean', arguments);
    return (await this.stats()).mean;
  }
  async variance(this: RDD<number>): Promise<number> {
    noArguments('rdd.variance', arguments);
    return (await this.stats()).variance;
  }
  async stdev(this: RDD<number>): Promise<number> {
    noArguments('rdd.stdev', arguments);
    return (await this.stats()).stdev;
  }
  async sampleVariance(this: RDD<number>): Promise<number> {
    noArguments('rdd.sampleVariance', arguments);
    return (await this.stats()).sampleVariance;
  }
  async sampleStdev(this: RDD<number>): Promise<number> {
    noArguments('rdd.sampleStdev', arguments);
    return (await this.stats()).sampleStdev;
  }
  /**
   * PySpark's histogram. A number of buckets spreads them evenly between the minimum and the
   * maximum; given bounds are numbers, or strings (compared in code point order, as Python
   * compares str). Every bucket is [lo, hi) but the last, [lo, hi]; values outside are not
   * counted, nor are null, undefined and NaN.
   */
  histogram(this: RDD<number>, buckets: number | number[]): Promise<[number[], number[]]>;
  histogram(this: RDD<string>, buckets: string[]): Promise<[string[], number[]]>;
  async histogram(...args: unknown[]): Promise<[unknown[], number[]]> {
    const { buckets } = SIG.histogram.parse(args);
    let bounds: number[] | string[];
    let even = false;
    let inc = 0;
    if (typeof buckets === 'number') {
      if (!Number.isInteger(buckets) || buckets < 1) throw new FlintError('INVALID_ARGUMENT', 'histogram: number of buckets must be >= 1');
      const comparable = (this as AnyRDD).filter((x) => x !== null && !(typeof x === 'number' && Number.isNaN(x)));
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
      bounds = checkBuckets(buckets);
      if (typeof bounds[0] === 'number') {
        const b = bounds as number[];
        const steps = b.slice(1).map((x, i) => x - b[i]!);
        even = Math.max(...steps) - Math.min(...steps) < 1e-10;
        if (even) inc = (b[b.length - 1]! - b[0]!) / (b.length - 1);
      }
    }
    const parts = await this._run('histogram', [{ op: 'histogram', buckets: bounds, evenBuckets: even, inc }]);
    const counts = new Array<number>(bounds.length - 1).fill(0);
    for (const p of parts) (p[0] as number[]).forEach((c, i) => (counts[i]! += c));
    return [bounds, counts];
  }
  async countByValue(): Promise<Map<T, number>> {
    noArguments('rdd.countByValue', arguments);
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
  foreach(f: (x: T) => void, opts?: EnvOption): Promise<void>;
  async foreach(...args: unknown[]): Promise<void> {
    const a = SIG.foreach.parse(args);
    capture(a.f, 'foreach', a.env);
    const spec = captureClosure(
      (it: Iterable<unknown>) => {
        for (const x of it) __flintF(x);
        return [];
      },
      { method: 'foreach', env: { ...a.env, __flintF: a.f } },
    );
    await this._run('foreach', [{ op: 'mapPartitions', f: spec, withIndex: false }]);
  }
  foreachPartition(f: (it: Iterator<T>) => void, opts?: EnvOption): Promise<void>;
  async foreachPartition(...args: unknown[]): Promise<void> {
    const a = SIG.foreachPartition.parse(args);
    capture(a.f, 'foreachPartition', a.env);
    const spec = captureClosure(
      (it: Iterator<unknown>) => {
        __flintF(it);
        return [];
      },
      { method: 'foreachPartition', env: { ...a.env, __flintF: a.f } },
    );
    await this._run('foreachPartition', [{ op: 'mapPartitions', f: spec, withIndex: false }]);
  }
  takeSample(withReplacement: boolean, num: number, seed?: Opt<number>): Promise<T[]>;
  takeSample(withReplacement: boolean, num: number, opts: SeedOption): Promise<T[]>;
  async takeSample(...args: unknown[]): Promise<T[]> {
    const a = SIG.takeSample.parse(args);
    const { withReplacement, num } = a;
    let seed = a.seed ?? randomSeed();
    if (num > MAX_SAMPLE_SIZE) {
      throw new FlintError(
        'INVALID_ARGUMENT',
        `rdd.takeSample: sample size cannot be greater than ${MAX_SAMPLE_SIZE} (the sample is returned as one array, which holds at most 2^32 - 1 records), got ${num}`,
      );
    }
    if (num === 0 || this.numPartitions() === 0) return [];
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
  /** One `part-NNNNN` file per partition, one line per record in the format of docs/API.md ("Text output"). */
  async saveAsTextFile(path: string): Promise<void> {
    SIG.saveAsTextFile.parse(arguments);
    await this.context._saveAsTextFile(this, path);
  }
  /** The records, one partition (one job) at a time; `prefetchPartitions` runs the next partition's job while this one is read. */
  toLocalIterator(prefetchPartitions?: boolean): AsyncGenerator<T>;
  toLocalIterator(opts: { prefetchPartitions?: boolean }): AsyncGenerator<T>;
  async *toLocalIterator(...args: unknown[]): AsyncGenerator<T> {
    const prefetch = SIG.toLocalIterator.parse(args).prefetchPartitions ?? false;
    const fetch = (p: number) => this._run('toLocalIterator', [], [p]).then(([records]) => records ?? []);
    const n = this.numPartitions();
    let next: Promise<unknown[]> | null = n > 0 ? fetch(0) : null;
    for (let p = 0; p < n; p++) {
      const records = await next!;
      next = p + 1 < n && prefetch ? fetch(p + 1) : null;
      for (const r of records) yield r as T;
      if (p + 1 < n && !next) next = fetch(p + 1);
    }
  }

  // ---- pair actions ----------------------------------------------------------------------------

  async countByKey<K, V>(this: RDD<Pair<K, V>>): Promise<Map<K, number>> {
    noArguments('rdd.countByKey', arguments);
    return this.keys().countByValue();
  }
  async collectAsMap<K, V>(this: RDD<Pair<K, V>>): Promise<Map<K, V>> {
    noArguments('rdd.collectAsMap', arguments);
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
    SIG.lookup.parse(arguments);
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
  reduceByKeyLocally<K, V>(this: RDD<Pair<K, V>>, func: ((a: V, b: V) => V) | BuiltinReducer, opts?: EnvOption): Promise<Map<K, V>>;
  reduceByKeyLocally(...args: unknown[]): Promise<Map<unknown, unknown>> {
    const a = SIG.reduceByKeyLocally.parse(args);
    return (this as AnyRDD).reduceByKey(a.func, { env: a.env, numPartitions: Math.max(1, this.numPartitions()) }).collectAsMap();
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
function treeLevel(partial: AnyRDD, n: number): RDD<[unknown, unknown]> {
  return partial.mapPartitionsWithIndex(
    (i: number, it: Iterator<unknown>) => {
      const out: unknown[] = [];
      for (let r = it.next(); !r.done; r = it.next()) out.push([i % __flintN, r.value]);
      return out;
    },
    { env: { __flintN: n } },
  ) as RDD<[unknown, unknown]>;
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

function builtinReduceFunction(name: BuiltinReducer): (a: never, b: never) => unknown {
  if (name === 'sum') return (a: number, b: number) => a + b;
  if (name === 'min') return (a: number, b: number) => Math.min(a, b);
  return (a: number, b: number) => Math.max(a, b);
}

/** PySpark's tree levels: partial results merged by key i mod n while that still shortens the last merge. */
function treeLevels(partial: AnyRDD, combOp: AnyFunction, depth: number, env: Env | undefined): AnyRDD {
  let numPartitions = partial.numPartitions();
  const scale = Math.max(Math.ceil(Math.pow(numPartitions, 1 / depth)), 2);
  while (numPartitions > scale + numPartitions / scale) {
    numPartitions /= scale;
    const n = Math.floor(numPartitions);
    partial = treeLevel(partial, n).reduceByKey(combOp, { numPartitions: n, env }).values();
  }
  return partial;
}

/** PySpark's checks of given histogram bounds; numbers or strings, as JavaScript compares no others. */
function checkBuckets(buckets: unknown): number[] | string[] {
  if (!Array.isArray(buckets) || buckets.length < 2) {
    throw new FlintError('INVALID_ARGUMENT', 'histogram: buckets must be a number of buckets or an array of more than one bound');
  }
  if (buckets.some((b) => b === null || b === undefined || (typeof b === 'number' && Number.isNaN(b)))) {
    throw new FlintError('INVALID_ARGUMENT', 'histogram: buckets cannot contain null, undefined or NaN');
  }
  const type = typeof buckets[0];
  if ((type !== 'number' && type !== 'string') || buckets.some((b) => typeof b !== type)) {
    throw new FlintError('INVALID_ARGUMENT', 'histogram: buckets must be all numbers or all strings');
  }
  for (let i = 1; i < buckets.length; i++) {
    const c = compareValues(buckets[i - 1], buckets[i]);
    if (c > 0) throw new FlintError('INVALID_ARGUMENT', 'histogram: buckets should be sorted');
    if (c === 0) throw new FlintError('INVALID_ARGUMENT', 'histogram: buckets should not contain duplicated values');
  }
  return [...buckets] as number[] | string[];
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
      callSite: this.callSite,
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
    // Reservoir sampling of keys on the executors as the partitions stream by (exec/ops.ts
    // sampleKeys); Spark names the sampling job after the sort that needs it.
    const sample = (await this.parent._run('sortByKey', [{ op: 'sampleKeys', n: perPartition }], undefined, this.callSite)).flat();
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
            dep: { shuffleId: context._newShuffleId(), rdd, partitioner: () => part.describe(), combiner: null, callSite: this.callSite },
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
