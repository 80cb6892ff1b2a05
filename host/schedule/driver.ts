/**
 * The driver's side of a cluster: it hears executors arrive, report task results and die, ships
 * tasks and broadcasts to them, and owns the schedulers. Every transport and backend looks the same
 * from here.
 */
import { decodeValue, encodeValue } from '../codec/records.js';
import { ExecutorRegistry, type ExecutorInfo } from '../cluster/executor-registry.js';
import type { BackendListener } from '../cluster/backend.js';
import { FlintError } from '../errors.js';
import { EventBus } from '../events/bus.js';
import type { DriverToExecutor, ExecutorToDriver } from '../exec/protocol.js';
import type { LineageNode } from '../plan/lineage.js';
import type { TaskDescriptor } from '../plan/plan.js';
import { MapOutputTracker } from '../shuffle/map-output-tracker.js';
import type { Endpoint } from '../transport/endpoint.js';
import { DAGScheduler, type ResultHandler } from './dag-scheduler.js';
import { TaskScheduler } from './task-scheduler.js';

export interface DriverConfig {
  maxTaskFailures: number;
  maxStageAttempts: number;
  speculation: boolean;
  localityWaitMs: number;
  schedulingMode: 'FIFO' | 'FAIR';
  prefetchPerCore: number;
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
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private stopped = false;

  constructor(readonly config: DriverConfig) {
    this.tasks = new TaskScheduler(
      this.registry,
      this.bus,
      {
        localityWaitMs: config.localityWaitMs,
        schedulingMode: config.schedulingMode,
        prefetchPerCore: config.prefetchPerCore,
        excludeAfterFailures: 4,
        excludeForMs: 10_000,
      },
      (executor, task) => this.ship(executor, task),
    );
    this.dag = new DAGScheduler(this.tasks, this.tracker, this.registry, this.bus, {
      maxStageAttempts: config.maxStageAttempts,
      broadcastExists: (id) => this.broadcastBytes.has(id),
      useWasm: config.useWasm,
      taskSet: {
        maxTaskFailures: config.maxTaskFailures,
        speculation: config.speculation,
        speculationQuantile: 0.9,
        speculationMultiplier: 3,
        speculationMinMs: 100,
      },
    });
    if (config.heartbeatTimeoutMs > 0) {
      this.heartbeatTimer = setInterval(() => this.checkHeartbeats(), Math.max(100, config.heartbeatTimeoutMs / 4));
      (this.heartbeatTimer as { unref?: () => void }).unref?.();
    }
  }

  executorAdded(executorId: string, endpoint: Endpoint, cores: number, host: string): void {
    if (this.stopped) {
      endpoint.close();
      return;
    }
    this.registry.add(executorId, endpoint, cores, host);
    endpoint.onMessage((m) => this.onMessage(executorId, m as ExecutorToDriver));
    this.bus.emit({ type: 'executorAdded', time: Date.now(), executorId, cores, host });
    for (const w of this.executorWaiters.splice(0)) w();
    this.tasks.dispatch();
  }

  executorLost(executorId: string, reason: string): void {
    if (!this.registry.remove(executorId)) return;
    this.bus.emit({ type: 'executorRemoved', time: Date.now(), executorId, reason });
    if (this.stopped) return;
    for (const e of this.registry.all()) this.send(e, { t: 'peerGone', executorId });
    this.tasks.executorLost(executorId, reason);
    this.dag.executorLost(executorId);
  }

  private onMessage(executorId: string, m: ExecutorToDriver): void {
    switch (m.t) {
      case 'taskEnd':
        this.tasks.handleResult(executorId, m.result);
        break;
      case 'blockRemoved':
        this.registry.removeBlock(m.blockId, executorId);
        this.bus.emit({ type: 'blockUpdated', time: Date.now(), executorId, blockId: m.blockId, bytes: 0, removed: true });
        break;
      case 'heartbeat': {
        const e = this.registry.get(executorId);
        if (e) e.lastHeartbeat = Date.now();
        break;
      }
      case 'ready':
        break;
    }
  }

  private checkHeartbeats(): void {
    const now = Date.now();
    for (const e of this.registry.all()) {
      if (now - e.lastHeartbeat > this.config.heartbeatTimeoutMs) {
        this.executorLost(e.id, `no heartbeat for ${now - e.lastHeartbeat} ms`);
        e.endpoint.close();
      }
    }
  }

  private send(executor: ExecutorInfo, message: DriverToExecutor): void {
    executor.endpoint.send(message);
  }

  private ship(executor: ExecutorInfo, task: TaskDescriptor): void {
    for (const id of task.broadcasts) {
      if (executor.broadcasts.has(id)) continue;
      const bytes = this.broadcastBytes.get(id);
      if (!bytes) continue; // destroyed: the task fails with BROADCAST_DESTROYED on the executor
      executor.broadcasts.add(id);
      this.send(executor, { t: 'broadcast', id, bytes });
      this.bus.emit({ type: 'broadcastSent', time: Date.now(), broadcastId: id, executorId: executor.id, bytes: bytes.byteLength });
    }
    this.send(executor, { t: 'task', task });
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

  stop(): void {
    if (this.stopped) return;
    this.dag.stop();
    this.stopped = true;
    this.tasks.stop();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    for (const e of this.registry.all()) this.send(e, { t: 'shutdown' });
  }
}
