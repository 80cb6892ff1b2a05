/**
 * The Flint context (Spark's SparkContext): entry point for creating RDDs and broadcasts, and the
 * owner of the driver that runs jobs on the executors of the chosen master.
 */
import { instantiateClosure } from '../codec/closure-runtime.js';
import type { ClosureSpec } from '../codec/closure-spec.js';
import { decodeRecords, encodeRecords } from '../codec/records.js';
import type { ExecutorBackend } from '../cluster/backend.js';
import { FlintError } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import type { FlintEvent } from '../events/events.js';
import type { ExecutorPlatform } from '../exec/platform.js';
import type { LineageNode } from '../plan/lineage.js';
import { Driver } from '../schedule/driver.js';
import { Broadcast } from './broadcast.js';
import { ContextCleaner } from './cleaner.js';
import type { DriverPlatform } from './platform.js';
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
  localityWaitMs?: number;
  schedulingMode?: 'FIFO' | 'FAIR';
  /** Heap limit of each worker thread in MB (Spark's executor memory); V8's default if unset. */
  executorMemoryMb?: number;
  /** Memory for cached partitions on each executor, in MB. */
  cacheMemoryMb?: number;
  /** Write every scheduler event as a JSON line to this file. */
  eventLog?: string;
  /** Built-in aggregations on WebAssembly operators (default: true unless FLINT_WASM=0). */
  wasm?: boolean;
}

/** What an environment (Node, later the browser) provides to the context. */
export interface FlintEnvironment {
  /** One per context: it may keep what the application named (the files its file server may serve). */
  createDriverPlatform(): DriverPlatform;
  executorPlatform: ExecutorPlatform;
  cores(): number;
  createBackend(master: Master, options: FlintOptions, driverPlatform: DriverPlatform): ExecutorBackend;
  openEventLog?(path: string): { write(event: FlintEvent): void; close(): void };
  env(name: string): string | undefined;
  /** A hook of the `flint` CLI: overrides the master and watches contexts for progress bars. */
  cliHook?(): { master?: string; onStart?(fl: Flint): void } | undefined;
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

export class Flint {
  readonly master: string;
  readonly appName: string;
  readonly applicationId: string;
  /** Scheduler and cluster events: `fl.events.on('taskEnd', e => ...)`. */
  readonly events: EventBus;
  private readonly driver: Driver;
  private readonly backend: ExecutorBackend;
  private readonly env: FlintEnvironment;
  private readonly driverPlatform: DriverPlatform;
  private nextRddId = 0;
  private nextShuffleId = 0;
  private nextBroadcastId = 0;
  private stopped = false;
  private eventLog: { write(event: FlintEvent): void; close(): void } | null = null;
  /** @internal */
  _checkpointDir: string | null = null;
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
    this.applicationId = `app-${Date.now()}-${appCounter++}`;
    this.backend = backend;
    this.driver = driver;
    this.events = driver.bus;
    this._cleaner = new ContextCleaner({
      removeShuffle: (shuffleId) => this.driver.removeShuffle(shuffleId),
      dropCachedRdd: (rddId) => this._dropCachedBlocks(rddId),
    });
    if (options.eventLog && env.openEventLog) {
      const log = env.openEventLog(options.eventLog);
      this.eventLog = log;
      this.events.on('*', (e) => log.write(e));
    }
  }

  static async start(options: FlintOptions = {}): Promise<Flint> {
    const env = environment;
    if (!env) throw new FlintError('INTERNAL', 'no Flint environment registered; import Flint from the package entry');
    const hook = env.cliHook?.();
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
      heartbeatTimeoutMs: 0,
      useWasm: options.wasm ?? wasmEnv !== '0',
    });
    const driverPlatform = env.createDriverPlatform();
    const backend = env.createBackend(master, options, driverPlatform);
    const fl = new Flint(env, driverPlatform, masterText, backend, driver, options);
    await backend.start(driver);
    await driver.waitForExecutors(1, 60_000);
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

  parallelize<T>(data: Iterable<T>, numSlices: number = this.defaultParallelism): RDD<T> {
    this.checkActive();
    if (data == null || typeof (data as Iterable<T>)[Symbol.iterator] !== 'function') {
      throw new FlintError('INVALID_ARGUMENT', `parallelize expects an array or another iterable, got ${data === null ? 'null' : typeof data}`);
    }
    if (!Number.isInteger(numSlices) || numSlices < 1) throw new FlintError('INVALID_ARGUMENT', `parallelize: numSlices must be a positive integer, got ${numSlices}`);
    const items = Array.isArray(data) ? data : [...data];
    const n = items.length;
    const slices: Uint8Array[] = [];
    for (let i = 0; i < numSlices; i++) {
      slices.push(encodeRecords(items.slice(Math.floor((i * n) / numSlices), Math.floor(((i + 1) * n) / numSlices))));
    }
    return new ParallelCollectionRDD<T>(this, slices);
  }

  range(start: number, end?: number, step = 1, numSlices: number = this.defaultParallelism): RDD<number> {
    this.checkActive();
    if (end === undefined || end === null) {
      end = start;
      start = 0;
    }
    if (step === 0 || !Number.isFinite(step)) throw new FlintError('INVALID_ARGUMENT', 'range: step must be a non-zero number');
    if (!Number.isInteger(numSlices) || numSlices < 1) throw new FlintError('INVALID_ARGUMENT', `range: numSlices must be a positive integer, got ${numSlices}`);
    const n = Math.max(0, Math.ceil((end - start) / step));
    return new RangeRDD(this, start, step, n, numSlices);
  }

  textFile(path: string, minPartitions: number = this.defaultMinPartitions): RDD<string> {
    this.checkActive();
    if (typeof path !== 'string' || path.length === 0) throw new FlintError('INVALID_ARGUMENT', 'textFile expects a path, a directory or a glob');
    return new TextFileRDD(this, path, minPartitions);
  }

  wholeTextFiles(path: string, minPartitions: number = this.defaultMinPartitions): RDD<[string, string]> {
    this.checkActive();
    if (typeof path !== 'string' || path.length === 0) throw new FlintError('INVALID_ARGUMENT', 'wholeTextFiles expects a path, a directory or a glob');
    return new WholeTextFilesRDD(this, path, minPartitions);
  }

  union<T>(rdds: RDD<T>[]): RDD<T> {
    this.checkActive();
    if (!Array.isArray(rdds) || rdds.length === 0) throw new FlintError('INVALID_ARGUMENT', 'union expects a non-empty array of RDDs');
    return new UnionRDD<T>(this, rdds);
  }

  emptyRDD<T = never>(): RDD<T> {
    this.checkActive();
    return new EmptyRDD<T>(this);
  }

  broadcast<T>(value: T): Broadcast<T> {
    this.checkActive();
    const id = this.nextBroadcastId++;
    this.driver.addBroadcast(id, value);
    return new Broadcast<T>(id, value, {
      unpersistBroadcast: (bid) => this.driver.dropBroadcast(bid, false),
      destroyBroadcast: (bid) => this.driver.dropBroadcast(bid, true),
    });
  }

  setCheckpointDir(dir: string): void {
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

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this._cleaner.stop();
    this.driver.stop();
    await this.backend.stop();
    this.eventLog?.close();
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
    return instantiateClosure(spec as never, (id) => this.driver.broadcastValue(id)) as unknown as F;
  }
  /** @internal */
  _dropCachedBlocks(rddId: number): void {
    if (!this.stopped) this.driver.dropBlocks(`rdd_${rddId}_`);
  }
  /** @internal */
  _checkpointPathOf(rddId: number): string {
    return this.driverPlatform.joinPath(this._checkpointDir ?? '', `rdd-${rddId}`);
  }

  /** @internal Runs a job and returns the records of each requested partition, in order. */
  async _collectPartitions(rdd: AnyRDD, partitions: number[], description: string, origin?: AnyRDD): Promise<unknown[][]> {
    this.checkActive();
    const results: unknown[][] = new Array(partitions.length);
    const index = new Map(partitions.map((p, i) => [p, i]));
    await this.driver.runJob(
      rdd,
      partitions,
      {
        output: () => ({ kind: 'result' }),
        taskSucceeded: (p, _attempt, r) => {
          results[index.get(p)!] = r.result ? decodeRecords(r.result) : [];
        },
      },
      description,
    );
    await (origin ?? rdd)._afterJob();
    return results;
  }

  /** @internal */
  async _writeCheckpoint(rdd: LineageNode): Promise<string[]> {
    const platform = this.driverPlatform;
    const dir = platform.makeCheckpointDir(this._checkpointPathOf(rdd.id));
    const n = rdd.numPartitions();
    const files = indices(n).map((p) => platform.joinPath(dir, `part-${String(p).padStart(5, '0')}`));
    await this.driver.runJob(rdd, indices(n), { output: (p) => ({ kind: 'checkpoint', path: files[p]! }), taskSucceeded: () => undefined }, `checkpoint of RDD ${rdd.id}`);
    return files;
  }

  /** @internal */
  async _saveAsTextFile(rdd: AnyRDD, path: string): Promise<void> {
    this.checkActive();
    const n = rdd.numPartitions();
    const job = this.driverPlatform.beginTextOutput(path, `job-${Date.now()}-${rdd.id}`);
    try {
      await this.driver.runJob(
        rdd,
        indices(n),
        {
          output: (p, attempt) => ({ kind: 'text', path: job.attemptPath(p, attempt) }),
          taskSucceeded: (p, attempt) => job.commitTask(p, attempt),
        },
        `saveAsTextFile at ${rdd.callSite}`,
      );
      job.commitJob(n);
    } catch (err) {
      job.abortJob();
      // Attempts still running elsewhere may write late; remove their files once they are done.
      await this.driver.quiesce();
      job.abortJob();
      throw err;
    }
    await rdd._afterJob();
  }
}
