/**
 * Scripted executors and a manual clock for scheduler tests (Spark's TaskSetManagerSuite style):
 * the driver's real DAG and task schedulers run against executors that only record what they are
 * sent and answer when the test says so, with time advanced by the test, never by sleeps.
 */
import type { Capability, ExecutorDescription } from '../../host/cluster/backend.js';
import { encodeRecords } from '../../host/codec/records.js';
import type { FlintEvent } from '../../host/events/events.js';
import type { DriverToExecutor } from '../../host/exec/protocol.js';
import type { Dependency, LineageNode, ShuffleDependency } from '../../host/plan/lineage.js';
import type { PlanNode, StagePlan, StorageLevelDesc, TaskDescriptor, TaskResult } from '../../host/plan/plan.js';
import type { Clock, TimerHandle } from '../../host/schedule/clock.js';
import { Driver, type DriverConfig } from '../../host/schedule/driver.js';
import type { Endpoint } from '../../host/transport/endpoint.js';

export class ManualClock implements Clock {
  private time = 1_000_000;
  private nextId = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return { id } as unknown as TimerHandle;
  }
  clearTimeout(handle: TimerHandle): void {
    this.timers.delete((handle as unknown as { id: number }).id);
  }
  /** Time passes while the thread is held up: no timer fires until the next `advance`, late. */
  stall(ms: number): void {
    this.time += ms;
  }
  /** Moves time forward, firing due timers in time order (timers they set fire too if due). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | null = null;
      for (const entry of this.timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].fn();
    }
    this.time = end;
  }
}

/** A task as the fake executor received it: the descriptor and the plan of its stage. */
export interface ReceivedTask {
  task: TaskDescriptor;
  stage: StagePlan;
}

export class FakeExecutor {
  readonly messages: DriverToExecutor[] = [];
  readonly stages = new Map<string, StagePlan>();
  /** Tasks received and not yet answered, in arrival order. */
  readonly pending: ReceivedTask[] = [];
  private toDriver: ((m: unknown) => void) | null = null;
  private readonly closeHandlers: Array<(reason?: Error) => void> = [];
  closed = false;
  readonly endpoint: Endpoint;

  constructor(readonly description: ExecutorDescription) {
    this.endpoint = {
      send: (m) => this.receive(m as DriverToExecutor),
      onMessage: (h) => {
        this.toDriver = h;
      },
      onClose: (h) => {
        this.closeHandlers.push(h);
      },
      close: () => {
        this.closed = true;
      },
    };
  }

  get id(): string {
    return this.description.id;
  }

  private receive(m: DriverToExecutor): void {
    this.messages.push(m);
    if (m.t === 'stage') this.stages.set(m.stage.stageKey, m.stage);
    if (m.t === 'task') this.pending.push({ task: m.task, stage: this.stages.get(m.task.stageKey)! });
    if (m.t === 'killTask') {
      const i = this.pending.findIndex((p) => p.task.taskId === m.taskId);
      if (i >= 0 && this.autoAckKills) {
        const [killed] = this.pending.splice(i, 1);
        this.reply({ taskId: killed!.task.taskId, ok: false, killed: true, error: { name: 'TaskKilled', message: m.reason }, fetchFailed: null, metrics: metrics(0) });
      }
    }
  }

  /** Confirm kills at once, as a real executor does at its next batch boundary. */
  autoAckKills = true;

  /** Sends a message from this executor to the driver. */
  reply(result: TaskResult): void {
    this.toDriver?.({ t: 'taskEnd', result });
  }

  sendRaw(message: unknown): void {
    this.toDriver?.(message);
  }

  /** Takes the oldest pending task, optionally one matching `where`. */
  take(where: (t: ReceivedTask) => boolean = () => true): ReceivedTask {
    const i = this.pending.findIndex(where);
    if (i < 0) throw new Error(`executor ${this.id} has no matching pending task (pending: ${this.pending.map((p) => `${p.task.stageId}/${p.task.partition}`).join(', ')})`);
    return this.pending.splice(i, 1)[0]!;
  }

  /** Answers a pending task with success: map sizes for map tasks, `records` for result tasks. */
  succeed(t: ReceivedTask, durationMs = 10, records: unknown[] = [t.task.partition], digest?: string): void {
    const isMap = t.task.output.kind === 'shuffle';
    const reducers = t.stage.shuffle?.partitioner.numPartitions ?? 0;
    this.reply({
      taskId: t.task.taskId,
      ok: true,
      result: isMap ? null : encodeRecords(records),
      mapSizes: isMap ? Array.from({ length: reducers }, () => 10) : null,
      blocksAdded: [],
      metrics: metrics(durationMs),
      // An honest executor's digest depends only on the task; pass another to lie.
      ...(t.task.digest ? { digest: digest ?? honestDigest(t) } : {}),
    });
  }

  fail(t: ReceivedTask, message = 'boom', fetchFailed: { shuffleId: number; mapId: number; executorId: string } | null = null): void {
    this.reply({ taskId: t.task.taskId, ok: false, error: { name: 'Error', message, stack: `Error: ${message}` }, fetchFailed, metrics: metrics(1) });
  }

  heartbeat(): void {
    this.toDriver?.({ t: 'heartbeat', executorId: this.id, runningTasks: [], memoryBytes: 0 });
  }
}

/** What every honest executor reports for a task's output: a function of stage and partition only. */
export function honestDigest(t: ReceivedTask): string {
  return `${t.task.stageId.toString(16).padStart(8, '0')}${t.task.partition.toString(16).padStart(8, '0')}`.padEnd(64, 'a');
}

function metrics(durationMs: number) {
  return { durationMs, recordsRead: 0, recordsWritten: 0, shuffleReadBytes: 0, shuffleWriteBytes: 0, resultBytes: 0, operators: [] };
}

export function executor(id: string, options: { cores?: number; capabilities?: Capability[]; kind?: ExecutorDescription['kind']; workerId?: string } = {}): ExecutorDescription {
  return {
    id,
    host: `host-${id}`,
    cores: options.cores ?? 1,
    kind: options.kind ?? 'node',
    capabilities: options.capabilities ?? ['node', 'fs', 'wasm', 'trusted', 'disk'],
    ...(options.workerId ? { workerId: options.workerId } : {}),
  };
}

export interface FakeCluster {
  driver: Driver;
  clock: ManualClock;
  executors: Map<string, FakeExecutor>;
  events: FlintEvent[];
  add(description: ExecutorDescription): FakeExecutor;
  get(id: string): FakeExecutor;
  /** Lets the scheduler's promises and microtasks run. */
  settle(): Promise<void>;
}

export function fakeCluster(executors: ExecutorDescription[], config: Partial<DriverConfig> = {}): FakeCluster {
  const clock = new ManualClock();
  const driver = new Driver(
    {
      maxTaskFailures: 4,
      maxStageAttempts: 4,
      speculation: false,
      localityWaitMs: 300,
      schedulingMode: 'FIFO',
      prefetchPerCore: 0,
      remoteSendAheadMs: 0,
      heartbeatTimeoutMs: 0,
      useWasm: false,
      verify: 'untrusted',
      ...config,
    },
    clock,
  );
  const events: FlintEvent[] = [];
  driver.bus.on('*', (e) => events.push(e));
  const map = new Map<string, FakeExecutor>();
  const cluster: FakeCluster = {
    driver,
    clock,
    executors: map,
    events,
    add(description) {
      const fake = new FakeExecutor(description);
      map.set(description.id, fake);
      driver.executorAdded(description, fake.endpoint);
      return fake;
    },
    get(id) {
      const e = map.get(id);
      if (!e) throw new Error(`no executor ${id}`);
      return e;
    },
    async settle() {
      for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
    },
  };
  for (const e of executors) cluster.add(e);
  return cluster;
}

// ---- a minimal lineage: a source of N partitions, optionally behind a shuffle ----------------

let nextId = 10_000;

export class FakeSource implements LineageNode {
  readonly id = nextId++;
  readonly callSite = 'source at test';
  constructor(
    private readonly partitions: number,
    private readonly requires: Array<'node'> = [],
    /** true: MEMORY_ONLY; or the storage level to persist at. */
    private readonly cached: boolean | StorageLevelDesc = false,
    /** fl.module ids its map closure uses. */
    private readonly modules: string[] = [],
  ) {}
  numPartitions(): number {
    return this.partitions;
  }
  dependencies(): Dependency[] {
    return [];
  }
  planNode(): PlanNode {
    if (this.requires.length === 0 && this.modules.length === 0) return { kind: 'range', rddId: this.id, start: 0, step: 1, count: this.partitions, slices: this.partitions };
    // A map whose closure needs Node or modules: the plan carries the closure spec saying so.
    return {
      kind: 'pipe',
      rddId: this.id,
      parent: { kind: 'range', rddId: this.id, start: 0, step: 1, count: this.partitions, slices: this.partitions },
      ops: [{ op: 'map', f: { src: '(x) => x', env: null, broadcasts: [], method: 'map', ...(this.requires.length ? { requires: this.requires } : {}), ...(this.modules.length ? { modules: this.modules } : {}) } }],
    };
  }
  storageDesc() {
    if (typeof this.cached === 'object') return this.cached;
    return this.cached ? { useMemory: true, useDisk: false, deserialized: true, replication: 1 } : null;
  }
  checkpointFiles(): string[] | null {
    return null;
  }
  sliceBytes(): Uint8Array | null {
    return null;
  }
}

export class FakeShuffled implements LineageNode {
  readonly id = nextId++;
  readonly callSite = 'shuffled at test';
  readonly dep: ShuffleDependency;
  constructor(
    parent: LineageNode,
    private readonly partitions: number,
  ) {
    this.dep = { shuffleId: nextId++, rdd: parent, partitioner: () => ({ kind: 'hash', numPartitions: partitions }), combiner: null };
  }
  numPartitions(): number {
    return this.partitions;
  }
  dependencies(): Dependency[] {
    return [{ kind: 'shuffle', dep: this.dep }];
  }
  planNode(): PlanNode {
    return { kind: 'shuffleRead', rddId: this.id, shuffleId: this.dep.shuffleId, aggregator: null, mapSideCombined: false, sort: null };
  }
  storageDesc() {
    return null;
  }
  checkpointFiles(): string[] | null {
    return null;
  }
  sliceBytes(): Uint8Array | null {
    return null;
  }
}

/** Starts a job over every partition of `rdd`; the promise settles with the records or the error. */
export function runJob(cluster: FakeCluster, rdd: LineageNode): { done: Promise<unknown[][]>; state: { settled: boolean; error: Error | null } } {
  const results: unknown[][] = [];
  const state = { settled: false, error: null as Error | null };
  const partitions = Array.from({ length: rdd.numPartitions() }, (_, i) => i);
  const done = cluster.driver
    .runJob(
      rdd,
      partitions,
      {
        output: () => ({ kind: 'result' }),
        taskSucceeded: (p, _a, r) => {
          results[p] = r.result ? (Array.from(new Uint8Array(r.result)) as unknown[]) : [];
        },
      },
      'test job',
    )
    .then(
      () => {
        state.settled = true;
        return results;
      },
      (err: Error) => {
        state.settled = true;
        state.error = err;
        throw err;
      },
    );
  done.catch(() => undefined);
  return { done, state };
}
