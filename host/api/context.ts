/**
 * The Flint context (Spark's SparkContext): entry point for creating RDDs and broadcasts, and the
 * owner of the driver that runs jobs on the executors of the chosen master.
 */
import { instantiateClosure } from '../codec/closure-runtime.js';
import { moduleRefs, type ClosureSpec } from '../codec/closure-spec.js';
import { decodeRecords, encodeRecords } from '../codec/records.js';
import type { ExecutorBackend } from '../cluster/backend.js';
import { FlintError } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import type { ExecutorPlatform } from '../exec/platform.js';
import type { LineageNode } from '../plan/lineage.js';
import type { ResultHandler } from '../schedule/dag-scheduler.js';
import { Driver } from '../schedule/driver.js';
import { recordEvents, type SparkEventSink } from '../ui/recorder.js';
import type { StatusSource } from '../ui/rest.js';
import { AppStatusStore } from '../ui/status-store.js';
import { applicationInfo } from '../ui/rest-views.js';
import { kind, kinds, noArguments, param, signature } from './arguments.js';
import { Broadcast } from './broadcast.js';
import { ContextCleaner } from './cleaner.js';
import { callerDirectory, callSite } from './call-site.js';
import { rethrownAt, showUserFrames } from './user-stack.js';
import type { DriverPlatform, TextOutputJob } from './platform.js';
import {
  EmptyRDD,
  ParallelCollectionRDD,
  RangeRDD,
  RDD,
  type AnyRDD,
  TextFileRDD,
  UnionRDD,
  WholeTextFilesRDD,
  range as indices,
  requireSameContext,
} from './rdd.js';

export type Master =
  | { kind: 'local' }
  | { kind: 'threads'; threads: number }
  | { kind: 'remote'; url: string };

export interface FlintOptions {
  /** 'local' (in-process, 1 slot), 'local[N]', 'local[*]' (one thread per core), 'flint://host:port'. */
  master?: string;
  appName?: string;
  /** Attempts per task before the job is aborted (Spark's spark.task.maxFailures). */
  maxTaskFailures?: number;
  /** Speculative copies of straggling tasks; on by default because volunteers straggle. */
  speculation?: boolean;
  /** How long a task waits for a slot on an executor that holds its input before going elsewhere. */
  localityWaitMs?: number;
  schedulingMode?: 'FIFO' | 'FAIR';
  /**
   * Each executor's memory budget in MB (Spark's executor memory): what its running tasks and its
   * cached blocks may hold together before they spill to disk. A worker thread's JavaScript heap is
   * limited to twice this plus 256 MB. Default: three quarters of the machine's memory shared by
   * its executors (for 'local', at most a quarter of the driver's heap).
   */
  executorMemoryMb?: number;
  /** The most cached partitions may hold in each executor's memory, in MB (default: no limit of their own). */
  cacheMemoryMb?: number;
  /**
   * Where executors keep their scratch files (spills, shuffle outputs and cached blocks that do not
   * fit in memory): one directory per executor under it, removed when the executor ends. Default
   * FLINT_SPILL_DIR, else the system's temporary directory.
   */
  spillDir?: string;
  /**
   * A directory: the application's events are written to one file in it, named after the
   * application id, one JSON object per line in Spark's listener event format (`flint history DIR`
   * serves them). The file ends in `.inprogress` until the application stops.
   */
  eventLog?: string;
  /**
   * Serve this application's dashboard and REST API on 127.0.0.1: `true` for port 4040 (or the next
   * free one), a number for that port (0: any free port). `fl.uiUrl` is its address.
   */
  ui?: boolean | number;
  /** Built-in aggregations on WebAssembly operators (default: true unless FLINT_WASM=0). */
  wasm?: boolean;
  /** The coordinator's token for master 'flint://…' (else FLINT_TOKEN). */
  token?: string;
  /** On a cluster, the most executor cores this application holds at once (Spark's spark.cores.max). */
  maxCores?: number;
  /** Clusters: which executors' results are checked by replication (browser volunteers: coming). */
  verify?: 'untrusted' | 'all' | 'none';
  /**
   * Limit on the encoded size of the results one job brings to the driver (collect, take, ...), in MB
   * (Spark's spark.driver.maxResultSize). A job over it fails with JOB_ABORTED before the driver runs
   * out of memory. 0 means no limit. Default: an eighth of the driver's heap limit, at most 1024.
   */
  maxResultSizeMb?: number;
}

export interface RangeOptions {
  end?: number | null;
  step?: number | null;
  numSlices?: number | null;
}

const oneOf = <V extends string>(...values: V[]) =>
  kind<V>(values.map((v) => `'${v}'`).join(' or '), (v) => (values as unknown[]).includes(v));
const positiveNumber = kind<number>('a positive number', (v) => typeof v === 'number' && v > 0 && Number.isFinite(v));

/** Every option of Flint.start, so that a misspelt one is an error rather than a silent default. */
const START_OPTIONS = signature('Flint.start', [], [], [
  param('master', kinds.path),
  param('appName', kinds.string),
  param('maxTaskFailures', kinds.positiveInteger),
  param('speculation', kinds.boolean),
  param('localityWaitMs', kinds.count),
  param('schedulingMode', oneOf('FIFO', 'FAIR')),
  param('executorMemoryMb', positiveNumber),
  param('cacheMemoryMb', positiveNumber),
  param('spillDir', kinds.path),
  param('eventLog', kinds.path),
  param('ui', kind<boolean | number>('true, false or a port number (0-65535)', (v) => typeof v === 'boolean' || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535))),
  param('wasm', kinds.boolean),
  param('token', kinds.string),
  param('maxCores', kinds.positiveInteger),
  param('maxResultSizeMb', kind<number>('a number of MB >= 0 (0: no limit)', (v) => typeof v === 'number' && v >= 0 && Number.isFinite(v))),
  param('verify', oneOf('untrusted', 'all', 'none')),
]);

const numSlices = param('numSlices', kinds.positiveInteger);
const minPartitions = param('minPartitions', kinds.positiveInteger);
const iterableKind = kind<Iterable<unknown>>('an array or another iterable', (v) => v != null && typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function');
const SIG = {
  parallelize: signature('fl.parallelize', [param('data', iterableKind)], [numSlices]),
  range: signature('fl.range', [param('start', kinds.number)], [param('end', kinds.number), param('step', kinds.number), numSlices]),
  textFile: signature('fl.textFile', [param('path', kinds.path)], [minPartitions]),
  wholeTextFiles: signature('fl.wholeTextFiles', [param('path', kinds.path)], [minPartitions]),
  union: signature('fl.union', [param('rdds', kind<AnyRDD[]>('a non-empty array of RDDs', (v) => Array.isArray(v) && v.length > 0 && v.every((r) => r instanceof RDD)))], []),
  broadcast: signature('fl.broadcast', [param('value', kinds.any)], []),
  setCheckpointDir: signature('fl.setCheckpointDir', [param('dirName', kinds.path)], []),
  module: signature('fl.module', [param('specifier', kinds.path)], [], [param('from', kinds.path)]),
};

/** What an environment (Node, later the browser) provides to the context. */
export interface FlintEnvironment {
  /** One per context: it may keep what the application named (the files its file server may serve). */
  createDriverPlatform(): DriverPlatform;
  executorPlatform: ExecutorPlatform;
  cores(): number;
  createBackend(master: Master, options: FlintOptions, driverPlatform: DriverPlatform): ExecutorBackend;
  /** The event log of an application in directory `dir` (its file is named once the application starts). */
  openEventLog?(dir: string): EventLogWriter;
  /** Serves the dashboard and REST API of `source` on 127.0.0.1:`port` (the next free port when taken). */
  startUi?(source: StatusSource, port: number): Promise<UiServerHandle>;
  /** The user running the driver, for the application's record. */
  userName?(): string;
  env(name: string): string | undefined;
  /** The default of `maxResultSizeMb`, from the driver's heap limit. */
  defaultMaxResultSizeMb?(): number;
  /**
   * Bundles a module for executors (fl.module): `specifier` is a package name or a path, resolved
   * from `fromDir`; returns its content-addressed id, its code per platform and its exports here.
   */
  loadModule?(specifier: string, fromDir: string): { id: string; exports: unknown; node: string; browser: string | null };
  /** A hook of the `flint` CLI: overrides the master and watches contexts for progress bars. */
  cliHook?(): { master?: string; token?: string; ui?: boolean; onStart?(fl: Flint): void } | undefined;
}

export interface EventLogWriter extends SparkEventSink {
  /** Writes what is buffered and closes the file (renaming it from `.inprogress`). */
  close(): Promise<void>;
}

export interface UiServerHandle {
  /** The dashboard's address, with the token that opens it. */
  url: string;
  close(): Promise<void>;
}

let environment: FlintEnvironment | null = null;

export function setEnvironment(env: FlintEnvironment): void {
  environment = env;
}

export function parseMaster(master: string, cores: number): Master {
  if (master === 'local') return { kind: 'local' };
  const m = /^local\[(\*|\d+)\]$/.exec(master);
  if (m) {
    const threads = m[1] === '*' ? cores : Number(m[1]);
    if (!(threads >= 1)) throw new FlintError('INVALID_ARGUMENT', `master ${master}: the number of threads must be at least 1`);
    return { kind: 'threads', threads };
  }
  if (/^flint:\/\/[^/:]+:\d+$/.test(master)) return { kind: 'remote', url: master };
  throw new FlintError(
    'INVALID_ARGUMENT',
    `unknown master "${master}": use 'local', 'local[N]', 'local[*]' or 'flint://host:port'`,
  );
}

let appCounter = 0;
// Broadcasts reach closures through env, where no context is known: ids unique in the process make
// another context's broadcast an unknown one (BROADCAST_DESTROYED) rather than a wrong value.
let nextBroadcastId = 0;

export class Flint {
  readonly master: string;
  readonly appName: string;
  private appId: string;
  /** Scheduler and cluster events: `fl.events.on('taskEnd', e => ...)`. */
  readonly events: EventBus;
  private readonly driver: Driver;
  private readonly backend: ExecutorBackend;
  private readonly env: FlintEnvironment;
  private readonly driverPlatform: DriverPlatform;
  private nextRddId = 0;
  private nextShuffleId = 0;
  private stopped = false;
  private readonly maxResultSizeMb: number;
  private stopping: Promise<void> | null = null;
  /** saveAsTextFile jobs not committed yet: a stop aborts them. */
  private readonly openOutputs = new Set<TextOutputJob>();
  /** Descriptions of the jobs running now ("collect at job.ts:12"). */
  private readonly running = new Map<number, string>();
  private nextJob = 0;
  private readonly startTime: number;
  private eventLog: EventLogWriter | null = null;
  private status: AppStatusStore | null = null;
  private stopRecording: (() => void) | null = null;
  private ui: UiServerHandle | null = null;
  /** @internal */
  _checkpointDir: string | null = null;
  /** fl.module exports by id, for closures run on the driver (final merges). */
  private readonly moduleExports = new Map<string, unknown>();
  /** @internal Drops shuffle outputs and cached blocks of RDDs the program can no longer reach. */
  readonly _cleaner: ContextCleaner;

  private constructor(
    env: FlintEnvironment,
    driverPlatform: DriverPlatform,
    master: string,
    backend: ExecutorBackend,
    driver: Driver,
    options: FlintOptions,
  ) {
    this.env = env;
    this.driverPlatform = driverPlatform;
    this.master = master;
    this.appName = options.appName ?? 'flint';
    this.maxResultSizeMb = options.maxResultSizeMb ?? env.defaultMaxResultSizeMb?.() ?? 1024;
    this.startTime = Date.now();
    this.appId = `app-${this.startTime}-${appCounter++}`;
    this.backend = backend;
    this.driver = driver;
    this.events = driver.bus;
    this._cleaner = new ContextCleaner({
      removeShuffle: (shuffleId) => this.driver.removeShuffle(shuffleId),
      dropCachedRdd: (rddId) => this._dropCachedBlocks(rddId),
    });
    // Subscribed before the backend starts, so that the executors it brings are recorded too.
    const sinks: SparkEventSink[] = [];
    if (options.eventLog) {
      if (!env.openEventLog) throw new FlintError('INVALID_ARGUMENT', 'Flint.start: eventLog is not available in this environment');
      this.eventLog = env.openEventLog(options.eventLog);
      sinks.push(this.eventLog);
    }
    if (options.ui !== undefined && options.ui !== false) {
      const status = new AppStatusStore(this.appId);
      this.status = status;
      sinks.push({ write: (e) => status.apply(e) });
    }
    if (sinks.length > 0) this.stopRecording = recordEvents(this.events, sinks);
    backend.attachEvents?.(this.events);
  }

  /** The application's id: the coordinator's for 'flint://' masters, as Spark takes its cluster manager's. */
  get applicationId(): string {
    return this.appId;
  }

  /** The address of this application's dashboard (`ui` option), with its token; null without one. */
  get uiUrl(): string | null {
    return this.ui?.url ?? null;
  }

  /** Names the application after its backend started (a coordinator assigns the id) and opens its UI. */
  private async opened(options: FlintOptions): Promise<void> {
    const assigned = this.backend.applicationId;
    if (assigned) this.appId = assigned;
    this.events.emit({
      type: 'applicationStart',
      time: this.startTime,
      appId: this.appId,
      appName: this.appName,
      master: this.master,
      user: this.env.userName?.() ?? '',
    });
    const status = this.status;
    if (status && this.env.startUi) {
      const port = options.ui === true ? 4040 : (options.ui as number);
      const source: StatusSource = {
        info: () => ({ mode: 'local', title: this.appName }),
        applications: () => [applicationInfo(status)],
        store: (id) => (id === status.app.id || id === this.appId ? status : null),
      };
      this.ui = await this.env.startUi(source, port);
    }
  }

  static async start(options: FlintOptions = {}): Promise<Flint> {
    START_OPTIONS.parse([options]);
    const env = environment;
    if (!env) throw new FlintError('INTERNAL', 'no Flint environment registered; import Flint from the package entry');
    const hook = env.cliHook?.();
    // `flint run --ui` serves the dashboard of every context the job starts, unless the job chose a port.
    if (hook?.ui && (options.ui === undefined || options.ui === false)) options = { ...options, ui: true };
    const masterText = hook?.master ?? options.master ?? env.env('FLINT_MASTER') ?? 'local[*]';
    const master = parseMaster(masterText, env.cores());
    const wasmEnv = env.env('FLINT_WASM');
    const driver = new Driver({
      maxTaskFailures: options.maxTaskFailures ?? 4,
      maxStageAttempts: 4,
      speculation: options.speculation ?? true,
      localityWaitMs: options.localityWaitMs ?? 300,
      schedulingMode: options.schedulingMode ?? 'FIFO',
      prefetchPerCore: 1,
      remoteSendAheadMs: 5,
      heartbeatTimeoutMs: 0,
      verify: options.verify ?? 'untrusted',
      useWasm: options.wasm ?? wasmEnv !== '0',
    });
    const driverPlatform = env.createDriverPlatform();
    const backend = env.createBackend(master, hook?.token ? { ...options, token: hook.token } : options, driverPlatform);
    const fl = new Flint(env, driverPlatform, masterText, backend, driver, options);
    try {
      await backend.start(driver);
      // A cluster may have no executor free yet: jobs wait for the coordinator to lend some.
      if (master.kind !== 'remote') await driver.waitForExecutors(1, 60_000);
      await fl.opened(options);
    } catch (err) {
      await fl.stop().catch(() => undefined);
      throw err;
    }
    backend.keepAlive?.(false);
    hook?.onStart?.(fl);
    return fl;
  }

  get defaultParallelism(): number {
    return Math.max(1, this.backend.defaultParallelism);
  }

  /** Spark's defaultMinPartitions for text files. */
  get defaultMinPartitions(): number {
    return Math.min(this.defaultParallelism, 2);
  }

  private checkActive(): void {
    if (this.stopped) throw new FlintError('CONTEXT_STOPPED', 'this Flint context was stopped; start a new one with Flint.start()');
  }

  parallelize<T>(data: Iterable<T>, numSlices?: number | null): RDD<T>;
  parallelize<T>(data: Iterable<T>, opts: { numSlices?: number | null }): RDD<T>;
  parallelize(...args: unknown[]): AnyRDD {
    this.checkActive();
    const a = SIG.parallelize.parse(args);
    const k = a.numSlices ?? this.defaultParallelism;
    const items = Array.isArray(a.data) ? a.data : [...a.data];
    const n = items.length;
    const slices: Uint8Array[] = [];
    for (let i = 0; i < k; i++) {
      slices.push(encodeRecords(items.slice(Math.floor((i * n) / k), Math.floor(((i + 1) * n) / k))));
    }
    return new ParallelCollectionRDD(this, slices);
  }

  /** Python's range(start, end, step) sliced as parallelize slices; `range(n)` is 0 until n. */
  range(start: number, opts?: RangeOptions): RDD<number>;
  range(start: number, end: number | null | undefined, opts?: Omit<RangeOptions, 'end'>): RDD<number>;
  range(start: number, end: number | null | undefined, step: number | null | undefined, opts?: Pick<RangeOptions, 'numSlices'>): RDD<number>;
  range(start: number, end?: number | null, step?: number | null, numSlices?: number | null): RDD<number>;
  range(...args: unknown[]): RDD<number> {
    this.checkActive();
    const a = SIG.range.parse(args);
    let { start, end } = a;
    const step = a.step ?? 1;
    if (end === undefined) [start, end] = [0, start];
    if (step === 0 || !Number.isFinite(step)) throw new FlintError('INVALID_ARGUMENT', 'fl.range: step must be a non-zero number');
    const n = Math.max(0, Math.ceil((end - start) / step));
    return new RangeRDD(this, start, step, n, a.numSlices ?? this.defaultParallelism);
  }

  textFile(path: string, minPartitions?: number | null): RDD<string>;
  textFile(path: string, opts: { minPartitions?: number | null }): RDD<string>;
  textFile(...args: unknown[]): RDD<string> {
    this.checkActive();
    const a = SIG.textFile.parse(args);
    return new TextFileRDD(this, a.path, a.minPartitions ?? this.defaultMinPartitions);
  }

  wholeTextFiles(path: string, minPartitions?: number | null): RDD<[string, string]>;
  wholeTextFiles(path: string, opts: { minPartitions?: number | null }): RDD<[string, string]>;
  wholeTextFiles(...args: unknown[]): RDD<[string, string]> {
    this.checkActive();
    const a = SIG.wholeTextFiles.parse(args);
    return new WholeTextFilesRDD(this, a.path, a.minPartitions ?? this.defaultMinPartitions);
  }

  union<T>(rdds: RDD<T>[]): RDD<T>;
  union(...args: unknown[]): AnyRDD {
    this.checkActive();
    const { rdds } = SIG.union.parse(args);
    requireSameContext('fl.union', this, rdds);
    return new UnionRDD(this, rdds);
  }

  emptyRDD<T = never>(): RDD<T> {
    noArguments('fl.emptyRDD', arguments);
    this.checkActive();
    return new EmptyRDD<T>(this);
  }

  broadcast<T>(value: T): Broadcast<T> {
    SIG.broadcast.parse(arguments);
    this.checkActive();
    const id = nextBroadcastId++;
    this.driver.addBroadcast(id, value);
    return new Broadcast<T>(id, value, {
      unpersistBroadcast: (bid) => this.driver.dropBroadcast(bid, false),
      destroyBroadcast: (bid) => this.driver.dropBroadcast(bid, true),
    });
  }

  /**
   * A module (an npm package, or a local .js/.ts file) that closures may use through env:
   * `const papa = fl.module('papaparse'); rdd.map((l) => papa.parse(l).data, { env: { papa } })`.
   * It is bundled once by esbuild, shipped once to each executor that runs a task using it, and
   * evaluated once there; the value returned here is the module's exports, usable on the driver too.
   * Relative paths resolve from the calling file's directory (or `options.from`). A module that
   * needs Node's built-ins ties its closures to Node executors.
   */
  module<M = any>(specifier: string, options: { from?: string } = {}): M { // eslint-disable-line @typescript-eslint/no-explicit-any
    SIG.module.parse(arguments);
    this.checkActive();
    const load = this.env.loadModule;
    if (!load) throw new FlintError('INVALID_ARGUMENT', 'fl.module: this environment cannot bundle modules');
    const from = options.from ?? callerDirectory() ?? this.env.env('PWD') ?? '.';
    const loaded = load(specifier, from);
    const exports = loaded.exports;
    if ((typeof exports !== 'object' || exports === null) && typeof exports !== 'function') {
      throw new FlintError('INVALID_ARGUMENT', `fl.module(${JSON.stringify(specifier)}): the module must export an object or a function, it exports ${typeof exports}`);
    }
    moduleRefs.set(exports as object, { id: loaded.id, nodeOnly: loaded.browser === null, specifier });
    this.moduleExports.set(loaded.id, exports);
    this.driver.addModule(loaded.id, { node: loaded.node, browser: loaded.browser });
    return exports as M;
  }

  setCheckpointDir(dir: string): void {
    SIG.setCheckpointDir.parse(arguments);
    this._checkpointDir = this.driverPlatform.makeCheckpointDir(this.driverPlatform.joinPath(dir, this.applicationId));
  }

  /** Executors currently registered (ids), e.g. to kill one in a fault-injection test. */
  executorIds(): string[] {
    return this.driver.registry.all().map((e) => e.id);
  }

  /** Spark's DeveloperApi killExecutor: the backend replaces the executor; its work is recomputed. */
  async killExecutor(executorId: string): Promise<boolean> {
    const kill = (this.backend as { killExecutor?(id: string): Promise<boolean> }).killExecutor;
    return kill ? kill.call(this.backend, executorId) : false;
  }

  /** Stops the executors; jobs still running fail with CONTEXT_STOPPED and their output is removed. */
  async stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    this._cleaner.stop();
    this.driver.stop();
    await this.backend.stop();
    // Executors are gone, so nothing writes any more: remove what the cut-short saves wrote.
    for (const job of this.openOutputs) {
      try {
        job.abortJob();
      } catch {
        // the directory is left for the user to remove; the stop itself must complete
      }
    }
    this.openOutputs.clear();
    this.events.emit({ type: 'applicationEnd', time: Date.now() });
    // The log and the store get every event up to the end before the file closes.
    await this.events.delivered();
    this.stopRecording?.();
    await this.eventLog?.close();
    await this.ui?.close();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  // ---- internals used by RDDs -----------------------------------------------------------------

  /** @internal */
  _newRddId(): number {
    return this.nextRddId++;
  }
  /** @internal */
  _newShuffleId(): number {
    return this.nextShuffleId++;
  }
  /** @internal */
  get _driverPlatform(): DriverPlatform {
    return this.driverPlatform;
  }
  /** @internal PySpark's _defaultReducePartitions: the parent's partition count. */
  _defaultReducePartitions(rdd: AnyRDD): number {
    return Math.max(1, rdd.numPartitions());
  }
  /** @internal A closure instantiated on the driver, for the final merge of an action. */
  _driverFunction<F>(spec: ClosureSpec): F {
    const f = instantiateClosure(spec as never, (id) => this.driver.broadcastValue(id), (id) => this.moduleExports.get(id)) as unknown as (...args: unknown[]) => unknown;
    // What it throws is the user's error, with the user's frames, as on an executor.
    return function (this: unknown, ...args: unknown[]) {
      try {
        return f.apply(this, args);
      } catch (err) {
        throw showUserFrames(err);
      }
    } as unknown as F;
  }
  /** @internal */
  _dropCachedBlocks(rddId: number): void {
    if (!this.stopped) this.driver.dropBlocks(`rdd_${rddId}_`);
  }
  /** @internal */
  _checkpointPathOf(rddId: number): string {
    return this.driverPlatform.joinPath(this._checkpointDir ?? '', `rdd-${rddId}`);
  }

  /** @internal Descriptions of the jobs running now, e.g. `['collect at job.ts:12']`. */
  get _runningJobs(): string[] {
    return [...this.running.values()];
  }

  /**
   * Every job goes through here: while one runs, the executors keep the process alive, and a failure
   * shows the user's frames (where the action was called, where the closure was written).
   */
  private async runJob(rdd: LineageNode, partitions: number[], handler: ResultHandler, description: string): Promise<void> {
    const caller = new Error(); // V8 formats its stack only if the job fails
    const id = this.nextJob++;
    if (this.running.size === 0) this.backend.keepAlive?.(true);
    this.running.set(id, description);
    try {
      await this.driver.runJob(rdd, partitions, handler, description);
    } catch (err) {
      throw rethrownAt(err, caller);
    } finally {
      this.running.delete(id);
      if (this.running.size === 0 && !this.stopped) this.backend.keepAlive?.(false);
    }
  }

  /** @internal Runs a job and returns the records of each requested partition, in order. */
  async _collectPartitions(rdd: AnyRDD, partitions: number[], description: string, origin?: AnyRDD): Promise<unknown[][]> {
    const encoded = await this._collectEncoded(rdd, partitions, description, origin);
    return encoded.map((bytes) => (bytes ? decodeRecords(bytes) : []));
  }

  /**
   * @internal Runs a job and returns each requested partition's encoded records (null: none), in
   * order, for the caller to decode: collect reads them all into one array (decodeRecordsConcat).
   */
  async _collectEncoded(rdd: AnyRDD, partitions: number[], description: string, origin?: AnyRDD): Promise<Array<Uint8Array | null>> {
    this.checkActive();
    const results: Array<Uint8Array | null> = new Array(partitions.length).fill(null);
    const index = new Map(partitions.map((p, i) => [p, i]));
    let bytes = 0;
    let tasks = 0;
    await this.runJob(
      rdd,
      partitions,
      {
        output: () => ({ kind: 'result' }),
        taskSucceeded: (p, _attempt, r) => {
          // Counted before decoding: decoded records take several times their encoded size.
          bytes += r.result?.byteLength ?? 0;
          tasks++;
          if (this.maxResultSizeMb > 0 && bytes > this.maxResultSizeMb * 1024 * 1024) throw this.resultTooLarge(description, tasks, bytes);
          results[index.get(p)!] = r.result ?? null;
        },
      },
      description,
    );
    await (origin ?? rdd)._afterJob();
    return results;
  }

  private resultTooLarge(description: string, tasks: number, bytes: number): FlintError {
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    return new FlintError(
      'JOB_ABORTED',
      `Job aborted: ${description}: the results of ${tasks} task${tasks === 1 ? '' : 's'} (${mb(bytes)} encoded) exceed ` +
        `maxResultSizeMb (${this.maxResultSizeMb} MB), the most a job may bring to the driver. Keep the data distributed ` +
        '(saveAsTextFile, take(n), an aggregation before collect) or raise Flint.start({ maxResultSizeMb }) together with ' +
        "the driver's heap (node --max-old-space-size); 0 removes the limit.",
    );
  }

  /** @internal */
  async _writeCheckpoint(rdd: LineageNode): Promise<string[]> {
    const platform = this.driverPlatform;
    const dir = platform.makeCheckpointDir(this._checkpointPathOf(rdd.id));
    const n = rdd.numPartitions();
    const files = indices(n).map((p) => platform.joinPath(dir, `part-${String(p).padStart(5, '0')}`));
    await this.runJob(rdd, indices(n), { output: (p) => ({ kind: 'checkpoint', path: files[p]! }), taskSucceeded: () => undefined }, `checkpoint of RDD ${rdd.id}`);
    return files;
  }

  /** @internal */
  async _saveAsTextFile(rdd: AnyRDD, path: string): Promise<void> {
    this.checkActive();
    const n = rdd.numPartitions();
    const job = this.driverPlatform.beginTextOutput(path, `job-${Date.now()}-${rdd.id}`);
    this.openOutputs.add(job);
    try {
      await this.runJob(
        rdd,
        indices(n),
        {
          output: (p, attempt) => ({ kind: 'text', path: job.attemptPath(p, attempt) }),
          taskSucceeded: (p, attempt) => job.commitTask(p, attempt),
        },
        callSite('saveAsTextFile'),
      );
      job.commitJob(n);
    } catch (err) {
      job.abortJob();
      // Attempts still running elsewhere may write late; remove their files once they are done
      // (after a stop, the stop does that once the executors are gone).
      if (!this.stopped) {
        await this.driver.quiesce();
        job.abortJob();
      }
      throw err;
    } finally {
      if (!this.stopped) this.openOutputs.delete(job);
    }
    await rdd._afterJob();
  }
}
