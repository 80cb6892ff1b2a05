/**
 * The driver's side of a cluster: it hears executors arrive, report task results and die, ships
 * tasks and broadcasts to them, and owns the schedulers. Every transport and backend looks the same
 * from here.
 */
import { decodeValue, encodeValue } from '../codec/records.js';
import { ExecutorRegistry, type ExecutorInfo } from '../cluster/executor-registry.js';
import type { BackendListener, ExecutorDescription, ExecutorLoss } from '../cluster/backend.js';
import { FlintError, toWireError } from '../errors.js';
import { EventBus } from '../events/bus.js';
import type { DriverToExecutor, ExecutorToDriver } from '../exec/protocol.js';
import type { LineageNode } from '../plan/lineage.js';
import type { TaskSuccess } from '../plan/plan.js';
import { MapOutputTracker } from '../shuffle/map-output-tracker.js';
import type { Endpoint } from '../transport/endpoint.js';
import { every, systemClock, type Clock } from './clock.js';
import { DAGScheduler, type ResultHandler } from './dag-scheduler.js';
import { OutputHandoff } from './output-handoff.js';
import { TaskScheduler, type TaskLaunch } from './task-scheduler.js';
import { Verifier, type VerifyMode } from './verifier.js';

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
  /** Which executors' results count only when another executor agrees (verifier.ts). */
  verify: VerifyMode;
}

/** Results are pulled in parts of this size, this many at a time (see Driver.pullResult). */
const RESULT_PART_BYTES = 1024 * 1024;
const RESULT_PARTS_IN_FLIGHT = 4;
/** One task's result is at most one typed array. */
const MAX_PULLED_RESULT_BYTES = 2 ** 31 - 1;

interface ResultPull {
  executorId: string;
  result: TaskSuccess;
  buffer: Uint8Array;
  received: number;
  next: number;
}

export class Driver implements BackendListener {
  readonly bus = new EventBus();
  readonly registry = new ExecutorRegistry();
  readonly tracker = new MapOutputTracker();
  readonly tasks: TaskScheduler;
  readonly dag: DAGScheduler;
  private readonly broadcastBytes = new Map<number, Uint8Array>();
  private readonly broadcastValues = new Map<number, unknown>();
  /** fl.module code by id: for Node executors, and for browsers unless the module needs Node. */
  private readonly modules = new Map<string, { node: string; browser: string | null }>();
  private readonly executorWaiters: Array<() => void> = [];
  /** Results being pulled from executors, by task id. */
  private readonly pulls = new Map<number, ResultPull>();
  /** Draining executors and what to do once they run nothing. */
  private readonly drainWaiters = new Map<string, () => void>();
  private readonly handoff: OutputHandoff;
  private readonly verifier: Verifier;
  private stopHeartbeats: (() => void) | null = null;
  private stopped = false;

  constructor(
    readonly config: DriverConfig,
    readonly clock: Clock = systemClock,
  ) {
    this.verifier = new Verifier(config.verify);
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
      this.verifier,
      // What a liar holds may be wrong: it is recomputed, as if the executor were lost.
      (executorId) => this.dag.executorLost(executorId),
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
          volunteerSpeculationQuantile: 0.75,
          volunteerSpeculationMultiplier: 1.5,
        },
      },
      clock,
    );
    this.handoff = new OutputHandoff({
      registry: this.registry,
      tracker: this.tracker,
      clock,
      bus: this.bus,
      send: (executor, message) => this.send(executor, message),
      declareLost: (executorId) => this.dag.executorLost(executorId),
    });
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
    if (executor.verifiedBefore) this.verifier.credit(id, executor.verifiedBefore);
    endpoint.onMessage((m) => this.onMessage(id, m as ExecutorToDriver));
    this.bus.emit({
      type: 'executorAdded',
      time: this.clock.now(),
      executorId: id,
      cores: executor.cores,
      host: executor.host,
      kind: executor.kind,
      capabilities: executor.capabilities,
      ...(executor.memoryMb !== undefined ? { memoryMb: executor.memoryMb } : {}),
    });
    for (const w of this.executorWaiters.splice(0)) w();
    this.tasks.dispatch();
  }

  executorLost(executorId: string, loss: ExecutorLoss): void {
    this.drainWaiters.delete(executorId);
    for (const [taskId, pull] of [...this.pulls]) if (pull.executorId === executorId) this.pulls.delete(taskId);
    if (!this.registry.remove(executorId)) return;
    this.handoff.executorLost(executorId);
    this.bus.emit({ type: 'executorRemoved', time: this.clock.now(), executorId, reason: loss.reason, causedByApp: loss.causedByApp });
    if (this.stopped) return;
    for (const e of this.registry.all()) this.send(e, { t: 'peerGone', executorId });
    // The DAG scheduler first sets aside stages that read what was lost, so that requeued tasks are
    // not launched against shuffle output that is gone.
    this.dag.executorLost(executorId);
    this.tasks.executorLost(executorId, loss);
    this.checkAllDrained();
  }

  /**
   * An executor is leaving on purpose (decommissioned, or lent back to the coordinator): it takes no
   * new task; once it runs nothing, its shuffle outputs are handed on to an executor that stays
   * (output-handoff.ts). With nobody to take them they are declared lost now, rather than discovered
   * by failed fetches, and recomputed while it finishes what it runs.
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
      if (!this.handoff.wouldHandOn(executorId)) this.dag.executorLost(executorId);
    }
    this.drainWaiters.set(executorId, whenIdle);
    this.checkDrained(executorId);
  }

  private checkDrained(executorId: string): void {
    const waiter = this.drainWaiters.get(executorId);
    if (!waiter || (this.registry.get(executorId)?.running.size ?? 0) > 0) return;
    if (!this.handoff.isOver(executorId)) {
      if (!this.handoff.inProgress(executorId)) this.handoff.start(executorId, () => this.checkDrained(executorId));
      return;
    }
    // Tasks launched before its outputs moved still fetch them from it.
    if (this.handoff.moved(executorId) > 0 && this.tasks.readingFrom(executorId)) return;
    this.drainWaiters.delete(executorId);
    waiter();
  }

  private checkAllDrained(): void {
    for (const id of [...this.drainWaiters.keys()]) this.checkDrained(id);
  }

  backendUnavailable(error: Error): void {
    this.dag.failAllJobs(error);
  }

  private onMessage(executorId: string, m: ExecutorToDriver): void {
    switch (m.t) {
      case 'taskEnd': {
        if (m.result.ok && m.result.resultBlock) {
          this.pullResult(executorId, m.result);
          break;
        }
        const rejected = this.tasks.handleResult(executorId, m.result);
        if (rejected) this.refuse(executorId, `task result for task ${m.result.taskId} refused: ${rejected}`);
        else this.checkAllDrained();
        break;
      }
      case 'adopted': {
        const refused = this.handoff.onAdopted(executorId, m);
        if (refused) this.refuse(executorId, refused);
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
      case 'resultPart':
        this.onResultPart(executorId, m);
        break;
      case 'ready':
        break;
    }
  }

  /**
   * A result kept on its executor (TaskSuccess.resultBlock) is pulled in parts, a few in flight, so
   * that no single message carries it and relays hold at most a few parts at a time. The task counts
   * as running until the whole result is here.
   */
  private pullResult(executorId: string, result: TaskSuccess): void {
    const executor = this.registry.get(executorId);
    const total = result.resultBlock!.bytes;
    if (executor && this.tasks.isBeingKilled(result.taskId, executorId)) {
      // Nobody waits for this result any more: let it go and free the slot.
      this.send(executor, { t: 'dropResult', taskId: result.taskId });
      this.tasks.handleResult(executorId, { taskId: result.taskId, ok: false, killed: true, error: { name: 'TaskKilled', message: 'the result was no longer needed' }, fetchFailed: null, metrics: result.metrics });
      return;
    }
    if (!executor || !this.tasks.isRunningOn(result.taskId, executorId) || total > MAX_PULLED_RESULT_BYTES) {
      this.refuse(executorId, `result block of ${total} bytes for task ${result.taskId}, which it does not run or is too large`);
      return;
    }
    const pull: ResultPull = { executorId, result, buffer: new Uint8Array(total), received: 0, next: 0 };
    this.pulls.set(result.taskId, pull);
    for (let i = 0; i < RESULT_PARTS_IN_FLIGHT; i++) this.requestPart(executor, pull);
  }

  private requestPart(executor: ExecutorInfo, pull: ResultPull): void {
    const total = pull.buffer.byteLength;
    if (pull.next >= total) return;
    const length = Math.min(RESULT_PART_BYTES, total - pull.next);
    this.send(executor, { t: 'fetchResult', taskId: pull.result.taskId, offset: pull.next, length });
    pull.next += length;
  }

  private onResultPart(executorId: string, m: Extract<ExecutorToDriver, { t: 'resultPart' }>): void {
    const pull = this.pulls.get(m.taskId);
    const executor = this.registry.get(executorId);
    if (!pull || pull.executorId !== executorId || !executor) return;
    if (!m.bytes || m.offset + m.bytes.byteLength > pull.buffer.byteLength) {
      this.pulls.delete(m.taskId);
      this.refuse(executorId, `result part of task ${m.taskId} at ${m.offset} is missing or out of range`);
      return;
    }
    pull.buffer.set(m.bytes, m.offset);
    pull.received += m.bytes.byteLength;
    if (pull.received < pull.buffer.byteLength) {
      this.requestPart(executor, pull);
      return;
    }
    this.pulls.delete(m.taskId);
    this.send(executor, { t: 'dropResult', taskId: m.taskId });
    const rejected = this.tasks.handleResult(executorId, { ...pull.result, result: pull.buffer, resultBlock: undefined });
    if (rejected) this.refuse(executorId, `task result for task ${m.taskId} refused: ${rejected}`);
    else this.checkDrained(executorId);
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

  private ship(executor: ExecutorInfo, launch: TaskLaunch): void {
    try {
      this.sendLaunch(executor, launch);
    } catch (err) {
      // A task that cannot be sent (a value the wire cannot carry) fails like one that threw, so the
      // job ends with the reason instead of waiting for an answer that will never come.
      const metrics = { durationMs: 0, recordsRead: 0, recordsWritten: 0, shuffleReadBytes: 0, shuffleWriteBytes: 0, resultBytes: 0, operators: [] };
      queueMicrotask(() => this.tasks.handleResult(executor.id, { taskId: launch.task.taskId, ok: false, error: toWireError(err), fetchFailed: null, metrics }));
    }
  }

  private sendLaunch(executor: ExecutorInfo, { stage, task }: TaskLaunch): void {
    for (const id of stage.broadcasts) {
      if (executor.broadcasts.has(id)) continue;
      const bytes = this.broadcastBytes.get(id);
      if (!bytes) continue; // destroyed: the task fails with BROADCAST_DESTROYED on the executor
      executor.broadcasts.add(id);
      this.send(executor, { t: 'broadcast', id, bytes });
      this.bus.emit({ type: 'broadcastSent', time: this.clock.now(), broadcastId: id, executorId: executor.id, bytes: bytes.byteLength });
    }
    for (const id of stage.modules) {
      if (executor.modules.has(id)) continue;
      const bundles = this.modules.get(id);
      const code = executor.kind === 'browser' ? bundles?.browser : bundles?.node;
      if (!code) continue; // the task fails on the executor, naming the module
      executor.modules.add(id);
      this.send(executor, { t: 'module', id, code });
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

  addModule(id: string, bundles: { node: string; browser: string | null }): void {
    this.modules.set(id, bundles);
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
