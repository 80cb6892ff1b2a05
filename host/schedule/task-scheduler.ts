/**
 * Assigns tasks to executor slots (Spark's TaskSchedulerImpl): delay scheduling for locality,
 * retries of failed tasks elsewhere, speculative copies of stragglers, exclusion of executors that
 * keep failing, FIFO or FAIR order between jobs, and the loss of executors.
 */
import { FlintError, fromWireError, type WireError } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import type { TaskMetrics } from '../events/events.js';
import type { ExecutorInfo, ExecutorRegistry } from '../cluster/executor-registry.js';
import type { TaskDescriptor, TaskResult, TaskSuccess } from '../plan/plan.js';
import { TaskSet, type RunningAttempt } from './task-set.js';

export interface TaskSchedulerConfig {
  localityWaitMs: number;
  schedulingMode: 'FIFO' | 'FAIR';
  /** Tasks sent ahead to an executor beyond its cores, hiding the round trip of tiny tasks. */
  prefetchPerCore: number;
  excludeAfterFailures: number;
  excludeForMs: number;
}

/** What the DAG scheduler hears back. */
export interface TaskSetListener {
  /** Builds the descriptor of one attempt (the DAG scheduler knows the plan and the inputs). */
  describe(set: TaskSet, partition: number, attempt: number, taskId: number): TaskDescriptor;
  succeeded(set: TaskSet, partition: number, attempt: number, executorId: string, result: TaskSuccess): void;
  fetchFailed(set: TaskSet, partition: number, failure: { shuffleId: number; mapId: number; executorId: string }, error: Error): void;
  /** A partition failed `maxTaskFailures` times: the stage (and its jobs) must abort. */
  aborted(set: TaskSet, partition: number, cause: Error, attempts: number): void;
}

export class TaskScheduler {
  private readonly sets: TaskSet[] = [];
  private readonly listeners = new Map<TaskSet, TaskSetListener>();
  private readonly byTaskId = new Map<number, { set: TaskSet; run: RunningAttempt }>();
  private nextTaskId = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private speculationTimer: ReturnType<typeof setInterval> | null = null;
  private dispatching = false;

  constructor(
    private readonly registry: ExecutorRegistry,
    private readonly bus: EventBus,
    private readonly config: TaskSchedulerConfig,
    private readonly ship: (executor: ExecutorInfo, task: TaskDescriptor) => void,
  ) {}

  submit(set: TaskSet, listener: TaskSetListener): void {
    set.setExecutorLister(() => this.registry.all().map((e) => e.id));
    this.sets.push(set);
    this.listeners.set(set, listener);
    if (set.config.speculation && !this.speculationTimer) {
      this.speculationTimer = setInterval(() => this.dispatch(), 100);
      (this.speculationTimer as { unref?: () => void }).unref?.();
    }
    this.dispatch();
  }

  /** Stops launching tasks of a set; running attempts finish and are still reported. */
  retire(set: TaskSet): void {
    set.zombie = true;
    const i = this.sets.indexOf(set);
    if (i >= 0) this.sets.splice(i, 1);
    if (set.running.size === 0) this.listeners.delete(set);
    if (this.sets.length === 0 && this.speculationTimer) {
      clearInterval(this.speculationTimer);
      this.speculationTimer = null;
    }
  }

  private ordered(): TaskSet[] {
    if (this.config.schedulingMode === 'FAIR') {
      return [...this.sets].sort((a, b) => a.running.size - b.running.size || a.jobId - b.jobId);
    }
    return this.sets; // FIFO: job order, then stage order, as submitted.
  }

  dispatch(): void {
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      this.dispatchLoop();
    } finally {
      this.dispatching = false;
    }
  }

  private dispatchLoop(): void {
    const now = Date.now();
    const alive = (id: string) => {
      const e = this.registry.get(id);
      return !!e && !this.registry.isExcluded(e, now);
    };
    let waitingForLocality = false;
    const executors = this.registry.all().filter((e) => !this.registry.isExcluded(e, now));
    // Round-robin, one task per executor per turn: first up to each executor's cores, then the
    // prefetch slots. Filling one executor first would leave the others idle on small stages.
    for (const perCore of [1, 1 + this.config.prefetchPerCore]) {
      let progress = true;
      while (progress) {
        progress = false;
        for (const executor of executors) {
          if (executor.running.size >= executor.cores * perCore) continue;
          for (const set of this.ordered()) {
            if (set.zombie) continue;
            let partition = set.take(executor.id, alive, this.config.localityWaitMs, now);
            let speculative = false;
            if (partition === null && set.hasPending) waitingForLocality = true;
            if (partition === null) {
              partition = set.speculatable(now, executor.id);
              speculative = partition !== null;
            }
            if (partition === null) continue;
            this.launch(set, partition, executor, speculative, now);
            progress = true;
            break;
          }
        }
      }
    }
    if (waitingForLocality && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.dispatch();
      }, Math.max(10, this.config.localityWaitMs / 4));
    }
  }

  private launch(set: TaskSet, partition: number, executor: ExecutorInfo, speculative: boolean, now: number): void {
    const taskId = this.nextTaskId++;
    const attempt = set.nextAttempt(partition);
    const run: RunningAttempt = { taskId, partition, attempt, executorId: executor.id, startedAt: now, speculative };
    let task: TaskDescriptor;
    try {
      task = this.listeners.get(set)!.describe(set, partition, attempt, taskId);
    } catch (err) {
      // Planning a task failed on the driver (e.g. a partition function that cannot be built).
      this.listeners.get(set)!.aborted(set, partition, err as Error, attempt + 1);
      return;
    }
    set.running.set(taskId, run);
    executor.running.add(taskId);
    this.byTaskId.set(taskId, { set, run });
    this.bus.emit({
      type: 'taskStart',
      time: now,
      taskId,
      stageId: set.stageId,
      stageAttempt: set.stageAttempt,
      partition,
      attempt,
      executorId: executor.id,
      speculative,
    });
    this.ship(executor, task);
  }

  handleResult(executorId: string, result: TaskResult): void {
    const entry = this.byTaskId.get(result.taskId);
    if (!entry) return;
    this.byTaskId.delete(result.taskId);
    const { set, run } = entry;
    set.running.delete(result.taskId);
    const executor = this.registry.get(executorId);
    executor?.running.delete(result.taskId);
    const listener = this.listeners.get(set);
    if (result.ok) {
      if (executor) executor.consecutiveFailures = 0;
      this.emitEnd(set, run, 'success', undefined, result.metrics);
      if (!set.succeeded.has(run.partition)) {
        set.succeeded.add(run.partition);
        set.durations.push(result.metrics.durationMs);
        listener?.succeeded(set, run.partition, run.attempt, executorId, result);
      }
    } else {
      const error = fromWireError(result.error);
      this.emitEnd(set, run, 'failed', result.error.message, result.metrics);
      if (result.fetchFailed) {
        listener?.fetchFailed(set, run.partition, result.fetchFailed, error);
      } else {
        this.recordFailure(set, run, error, executor);
      }
    }
    if (set.zombie && set.running.size === 0) this.listeners.delete(set);
    this.dispatch();
  }

  private recordFailure(set: TaskSet, run: RunningAttempt, error: Error, executor: ExecutorInfo | undefined): void {
    if (set.succeeded.has(run.partition)) return; // another copy already won
    const failures = (set.failures.get(run.partition) ?? 0) + 1;
    set.failures.set(run.partition, failures);
    let on = set.failedOn.get(run.partition);
    if (!on) set.failedOn.set(run.partition, (on = new Set()));
    on.add(run.executorId);
    if (executor) {
      executor.consecutiveFailures++;
      // Only exclude when others remain; a one-executor cluster must keep trying.
      if (executor.consecutiveFailures >= this.config.excludeAfterFailures && this.registry.size > 1) {
        executor.excludedUntil = Date.now() + this.config.excludeForMs;
        executor.consecutiveFailures = 0;
      }
    }
    if (failures >= set.config.maxTaskFailures) {
      this.listeners.get(set)?.aborted(set, run.partition, error, failures);
      return;
    }
    if (!set.zombie && !this.isRunningElsewhere(set, run.partition)) set.enqueue(run.partition);
  }

  private isRunningElsewhere(set: TaskSet, partition: number): boolean {
    for (const r of set.running.values()) if (r.partition === partition) return true;
    return false;
  }

  /** An executor is gone: its running attempts failed with EXECUTOR_LOST. */
  executorLost(executorId: string, reason: string): void {
    for (const [taskId, { set, run }] of [...this.byTaskId]) {
      if (run.executorId !== executorId) continue;
      this.byTaskId.delete(taskId);
      set.running.delete(taskId);
      const wire: WireError = { name: 'FlintError', code: 'EXECUTOR_LOST', message: `executor ${executorId} was lost while running the task: ${reason}` };
      this.emitEnd(set, run, 'failed', wire.message, undefined);
      this.recordFailure(set, run, new FlintError('EXECUTOR_LOST', wire.message), undefined);
      if (set.zombie && set.running.size === 0) this.listeners.delete(set);
    }
    this.dispatch();
  }

  private emitEnd(set: TaskSet, run: RunningAttempt, status: 'success' | 'failed', error: string | undefined, metrics: TaskMetrics | undefined): void {
    this.bus.emit({
      type: 'taskEnd',
      time: Date.now(),
      taskId: run.taskId,
      stageId: set.stageId,
      stageAttempt: set.stageAttempt,
      partition: run.partition,
      attempt: run.attempt,
      executorId: run.executorId,
      status,
      error,
      metrics,
    });
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.speculationTimer) clearInterval(this.speculationTimer);
    this.timer = null;
    this.speculationTimer = null;
  }
}

