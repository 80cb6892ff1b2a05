/**
 * The driver's side of a cluster: it hears executors arrive, report task results and die, ships
 * tasks and broadcasts to them, and owns the schedulers. Every transport and backend looks the same
 * from here.
 */
import { decodeValue, encodeValue } from '../codec/records.js';
import { ExecutorRegistry, type ExecutorInfo } from '../cluster/executor-registry.js';
import type { BackendListener, ExecutorDescription, ExecutorLoss } from '../cluster/backend.js';
import { FlintError } from '../errors.js';
import { EventBus } from '../events/bus.js';
import type { DriverToExecutor, ExecutorToDriver } from '../exec/protocol.js';
import type { LineageNode } from '../plan/lineage.js';
import { MapOutputTracker } from '../shuffle/map-output-tracker.js';
import type { Endpoint } from '../transport/endpoint.js';
import { every, systemClock, type Clock } from './clock.js';
import { DAGScheduler, type ResultHandler } from './dag-scheduler.js';
import { TaskScheduler, type TaskLaunch } from './task-scheduler.js';

export interface DriverConfig {
  maxTaskFailures: number;
  maxStageAttempts: number;
  speculation: boolean;
  localityWaitMs: number;
  schedulingMode: 'FIFO' | 'FAIR';
  prefetchPerCore: number;
  /** See TaskSchedulerConfig.remoteSendAheadMs. */
  remoteSendAheadMs: number;
  /** 0 disables: executors whose loss their transport reports (threads) need no heartbeat. */
  heartbeatTimeoutMs: number;
  useWasm: boolean;
}

export class Driver implements BackendListener {
  readonly bus = new EventBus();
  readonly registry = new ExecutorRegistry();
  readonly tracker = new MapOutputTracker();
  readonly tasks: TaskScheduler;
  readonly dag: DAGScheduler;
  private readonly broadcastBytes = new Map<number, Uint8Array>();
  private readonly broadcastValues = new Map<number, unknown>();
  private readonly executorWaiters: Array<() => void> = [];
  /** Draining executors and what to do once they run nothing. */
  private readonly drainWaiters = new Map<string, () => void>();
  private stopHeartbeats: (() => void) | null = null;
  private stopped = false;

  constructor(
    readonly config: DriverConfig,
    readonly clock: Clock = systemClock,
  ) {
    this.tasks = new TaskScheduler(
      this.registry,
      this.bus,
      {
        localityWaitMs: config.localityWaitMs,
        schedulingMode: config.schedulingMode,
        prefetchPerCore: config.prefetchPerCore,
        remoteSendAheadMs: config.remoteSendAheadMs,
        excludeAfterFailures: 4,
        excludeForMs: 10_000,
        speculationIntervalMs: 100,
      },
      {
        launch: (executor, launch) => this.ship(executor, launch),
        kill: (executor, taskId, reason) => this.send(executor, { t: 'killTask', taskId, reason }),
      },
      clock,
    );
    this.dag = new DAGScheduler(
      this.tasks,
      this.tracker,
      this.registry,
      this.bus,
      {
        maxStageAttempts: config.maxStageAttempts,
        broadcastExists: (id) => this.broadcastBytes.has(id),
        useWasm: config.useWasm,
        stageFinished: (stageKey) => this.dropStage(stageKey),
        taskSet: {
          maxTaskFailures: config.maxTaskFailures,
          speculation: config.speculation,
          speculationQuantile: 0.9,
          speculationMultiplier: 3,
          speculationMinMs: 100,
        },
      },
      clock,
    );
    if (config.heartbeatTimeoutMs > 0) {
      this.stopHeartbeats = every(clock, Math.max(100, config.heartbeatTimeoutMs / 4), () => this.checkHeartbeats());
    }
  }

  executorAdded(executor: ExecutorDescription, endpoint: Endpoint): void {
    if (this.stopped) {
      endpoint.close();
      return;
    }
    const id = executor.id;
    this.registry.add(executor, endpoint, this.clock.now());
    endpoint.onMessage((m) => this.onMessage(id, m as ExecutorToDriver));
    this.bus.emit({
      type: 'executorAdded',
      time: this.clock.now(),
      executorId: id,
      cores: executor.cores,
      host: executor.host,
      kind: executor.kind,
      capabilities: executor.capabilities,
    });
    for (const w of this.executorWaiters.splice(0)) w();
    this.tasks.dispatch();
  }

  executorLost(executorId: string, loss: ExecutorLoss): void {
    this.drainWaiters.delete(executorId);
    if (!this.registry.remove(executorId)) return;
    this.bus.emit({ type: 'executorRemoved', time: this.clock.now(), executorId, reason: loss.reason, causedByApp: loss.causedByApp });
    if (this.stopped) return;
    for (const e of this.registry.all()) this.send(e, { t: 'peerGone', executorId });
    // The DAG scheduler first sets aside stages that read what was lost, so that requeued tasks are
    // not launched against shuffle output that is gone.
    this.dag.executorLost(executorId);
    this.tasks.executorLost(executorId, loss);
  }

  /**
   * An executor is leaving on purpose (decommissioned, or lent back to the coordinator): it takes no
   * new task, and what it holds is declared lost now rather than discovered by failed fetches.
   */
  executorDraining(executorId: string, whenIdle: () => void): void {
    const e = this.registry.get(executorId);
    if (!e) {
      whenIdle();
      return;
    }
    if (!e.draining) {
      e.draining = true;
      this.bus.emit({ type: 'executorDraining', time: this.clock.now(), executorId });
      this.dag.executorLost(executorId);
    }
    this.drainWaiters.set(executorId, whenIdle);
    this.checkDrained(executorId);
  }

  private checkDrained(executorId: string): void {
    const waiter = this.drainWaiters.get(executorId);
    if (!waiter || (this.registry.get(executorId)?.running.size ?? 0) > 0) return;
    this.drainWaiters.delete(executorId);
    waiter();
  }

  backendUnavailable(error: Error): void {
    this.dag.failAllJobs(error);
  }

  private onMessage(executorId: string, m: ExecutorToDriver): void {
    switch (m.t) {
      case 'taskEnd': {
        const rejected = this.tasks.handleResult(executorId, m.result);
        if (rejected) this.refuse(executorId, `task result for task ${m.result.taskId} refused: ${rejected}`);
        else this.checkDrained(executorId);
        break;
      }
      case 'blockRemoved':
        this.registry.removeBlock(m.blockId, executorId);
        this.bus.emit({ type: 'blockUpdated', time: this.clock.now(), executorId, blockId: m.blockId, bytes: 0, removed: true });
        break;
      case 'heartbeat': {
        const e = this.registry.get(executorId);
        if (e) e.lastHeartbeat = this.clock.now();
        break;
      }
      case 'ready':
        break;
    }
  }

  /** A message no honest executor sends: drop that executor, keep everyone else running. */
  private refuse(executorId: string, reason: string): void {
    const e = this.registry.get(executorId);
    if (!e) return;
    console.warn(`flint: executor ${executorId} dropped: ${reason}`);
    this.executorLost(executorId, { reason, causedByApp: false });
    e.endpoint.close();
  }

  private checkHeartbeats(): void {
    const now = this.clock.now();
    for (const e of this.registry.all()) {
      if (now - e.lastHeartbeat > this.config.heartbeatTimeoutMs) {
        this.executorLost(e.id, { reason: `no heartbeat for ${now - e.lastHeartbeat} ms`, causedByApp: false });
        e.endpoint.close();
      }
    }
  }

  private send(executor: ExecutorInfo, message: DriverToExecutor): void {
    executor.endpoint.send(message);
  }

  private ship(executor: ExecutorInfo, { stage, task }: TaskLaunch): void {
    for (const id of stage.broadcasts) {
      if (executor.broadcasts.has(id)) continue;
      const bytes = this.broadcastBytes.get(id);
      if (!bytes) continue; // destroyed: the task fails with BROADCAST_DESTROYED on the executor
      executor.broadcasts.add(id);
      this.send(executor, { t: 'broadcast', id, bytes });
      this.bus.emit({ type: 'broadcastSent', time: this.clock.now(), broadcastId: id, executorId: executor.id, bytes: bytes.byteLength });
    }
    if (!executor.stages.has(stage.stageKey)) {
      executor.stages.add(stage.stageKey);
      this.send(executor, { t: 'stage', stage });
    }
    this.send(executor, { t: 'task', task });
  }

  private dropStage(stageKey: string): void {
    for (const e of this.registry.all()) if (e.stages.delete(stageKey)) this.send(e, { t: 'dropStage', stageKey });
  }

  async waitForExecutors(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.registry.size < count) {
      if (Date.now() > deadline) throw new FlintError('EXECUTOR_LOST', `only ${this.registry.size} of ${count} executors started within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.executorWaiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  runJob(rdd: LineageNode, partitions: number[], handler: ResultHandler, description: string): Promise<void> {
    if (this.stopped) return Promise.reject(new FlintError('CONTEXT_STOPPED', 'the Flint context was stopped'));
    return this.dag.runJob(rdd, partitions, handler, description);
  }

  /** Resolves once no task runs anywhere (after a failed job, so that nothing writes late). */
  async quiesce(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.registry.all().some((e) => e.running.size > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  addBroadcast(id: number, value: unknown): void {
    const bytes = encodeValue(value);
    this.broadcastBytes.set(id, bytes);
    // The driver keeps its own decoded copy so driver-side closures see what executors see.
    this.broadcastValues.set(id, decodeValue(bytes));
  }

  broadcastValue(id: number): unknown {
    if (!this.broadcastValues.has(id)) throw new FlintError('BROADCAST_DESTROYED', `broadcast ${id} was destroyed`);
    return this.broadcastValues.get(id);
  }

  dropBroadcast(id: number, destroy: boolean): void {
    for (const e of this.registry.all()) {
      if (e.broadcasts.delete(id)) this.send(e, { t: 'dropBroadcast', id });
    }
    if (destroy) {
      this.broadcastBytes.delete(id);
      this.broadcastValues.delete(id);
    }
  }

  dropBlocks(prefix: string): void {
    this.registry.removeBlocksWithPrefix(prefix);
    for (const e of this.registry.all()) this.send(e, { t: 'dropBlocks', prefix });
  }

  /** A shuffle nobody can read any more (its RDD was garbage collected): forget it everywhere. */
  removeShuffle(shuffleId: number): void {
    if (this.stopped) return;
    this.dag.removeShuffle(shuffleId);
    this.dropBlocks(`shuffle_${shuffleId}_`);
  }

  stop(): void {
    if (this.stopped) return;
    this.dag.stop();
    this.stopped = true;
    this.tasks.stop();
    this.stopHeartbeats?.();
    for (const e of this.registry.all()) this.send(e, { t: 'shutdown' });
  }
}
