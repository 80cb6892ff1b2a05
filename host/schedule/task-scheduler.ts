/**
 * Assigns tasks to executor slots (Spark's TaskSchedulerImpl): capability placement, delay
 * scheduling for locality, retries of failed tasks elsewhere, speculative copies of stragglers (the
 * losers are killed), tasks sent ahead to an executor taken back by an idle one when they wait there
 * too long (stealing), exclusion of executors that keep failing, FIFO or FAIR order between jobs, and
 * the loss of executors — which is not the task's fault unless the task itself killed its executor.
 */
import { FlintError, fromWireError, type WireError } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import type { TaskMetrics } from '../events/events.js';
import { satisfies, type ExecutorInfo, type ExecutorRegistry } from '../cluster/executor-registry.js';
import type { ExecutorLoss } from '../cluster/backend.js';
import type { StagePlan, TaskDescriptor, TaskResult, TaskSuccess } from '../plan/plan.js';
import type { Clock, TimerHandle } from './clock.js';
import { TaskSet, type RunningAttempt } from './task-set.js';
import type { Verifier } from './verifier.js';

export interface TaskSchedulerConfig {
  localityWaitMs: number;
  schedulingMode: 'FIFO' | 'FAIR';
  /** Tasks sent ahead to an executor beyond its cores, hiding the round trip of tiny tasks. */
  prefetchPerCore: number;
  /**
   * Executors reached over a network (kind 'node' or 'browser') answer only after a round trip
   * through the coordinator, which takes far longer than a tiny task runs: while a task set's tasks
   * are short, such an executor is sent as many more of them as fill about this many milliseconds
   * of its time (at most MAX_SEND_AHEAD_PER_CORE per core). Long tasks are not sent ahead further,
   * so neither load balance nor speculation suffers. 0 turns this off.
   */
  remoteSendAheadMs: number;
  excludeAfterFailures: number;
  excludeForMs: number;
  /** How often speculation is reconsidered while a speculating task set runs. */
  speculationIntervalMs: number;
}

/** The most tasks a remote executor holds per core beyond its prefetch (see remoteSendAheadMs). */
const MAX_SEND_AHEAD_PER_CORE = 64;

/** One attempt as it leaves the driver: the stage plan (shipped once per executor) and the task. */
export interface TaskLaunch {
  stage: StagePlan;
  task: TaskDescriptor;
}

/** How the scheduler reaches executors. */
export interface ExecutorGateway {
  launch(executor: ExecutorInfo, launch: TaskLaunch): void;
  kill(executor: ExecutorInfo, taskId: number, reason: string): void;
}

/** What the DAG scheduler hears back. */
export interface TaskSetListener {
  /** Builds one attempt; null when its inputs are gone (the stage is about to be set aside). */
  describe(set: TaskSet, partition: number, attempt: number, taskId: number): TaskLaunch | null;
  succeeded(set: TaskSet, partition: number, attempt: number, executorId: string, result: TaskSuccess): void;
  fetchFailed(set: TaskSet, partition: number, failure: { shuffleId: number; mapId: number; executorId: string }, error: Error): void;
  /** A partition failed `maxTaskFailures` times: the stage (and its jobs) must abort. */
  aborted(set: TaskSet, partition: number, cause: Error, attempts: number): void;
  /** No live executor can ever run these tasks (a missing capability). */
  unschedulable(set: TaskSet, error: FlintError): void;
}

/** How long copies for verification may find no executor before the user is told. */
export const UNVERIFIABLE_WARN_MS = 10_000;

/** How a partition was chosen for an executor: from the queue, as a straggler's copy, or taken over from another executor. */
type LaunchKind = 'take' | 'speculate' | 'steal';

/** Executors whose round trip crosses processes and the coordinator. */
function isRemote(executor: ExecutorInfo): boolean {
  return executor.kind === 'node' || executor.kind === 'browser';
}

/** Why a task result was refused: the driver closes the connection of whoever sent it. */
export type ResultRejection = 'unknown task' | 'task runs on another executor';

export class TaskScheduler {
  private readonly sets: TaskSet[] = [];
  private readonly listeners = new Map<TaskSet, TaskSetListener>();
  private readonly byTaskId = new Map<number, { set: TaskSet; run: RunningAttempt }>();
  /** Attempts asked to stop whose executor has not confirmed yet: their slot stays taken. */
  private readonly killing = new Map<number, { set: TaskSet; run: RunningAttempt }>();
  private nextTaskId = 0;
  private timer: TimerHandle | null = null;
  private stealTimer: TimerHandle | null = null;
  private speculationTimer: TimerHandle | null = null;
  private dispatching = false;
  private stopped = false;
  /** Task sets whose copies for verification are looked at later (warnIfUnverifiable), and those warned about. */
  private readonly verifyChecks = new Set<TaskSet>();
  private readonly verifyWarned = new Set<TaskSet>();

  constructor(
    private readonly registry: ExecutorRegistry,
    private readonly bus: EventBus,
    private readonly config: TaskSchedulerConfig,
    private readonly gateway: ExecutorGateway,
    private readonly clock: Clock,
    private readonly verifier: Verifier,
    /** An executor disagreed with the majority: the driver recomputes what it holds. */
    private readonly convicted: (executorId: string) => void = () => undefined,
    /** Something the user should know that is not an error: a job that cannot progress as things are. */
    private readonly warn: (message: string) => void = (message) => console.warn(`flint: ${message}`),
  ) {}

  submit(set: TaskSet, listener: TaskSetListener): void {
    set.setExecutorLister(() => this.registry.all().map((e) => e.id));
    this.sets.push(set);
    this.listeners.set(set, listener);
    if (this.failIfUnschedulable(set)) return;
    if (set.config.speculation) this.armSpeculation();
    this.dispatch();
  }

  /**
   * Stops launching tasks of a set. Running attempts finish and are still reported, unless `kill`
   * asks them to stop (their job ended: nobody wants the result).
   */
  retire(set: TaskSet, kill = false): void {
    set.zombie = true;
    const i = this.sets.indexOf(set);
    if (i >= 0) this.sets.splice(i, 1);
    if (kill) for (const run of [...set.running.values()]) this.killAttempt(set, run, 'its job ended');
    if (set.running.size === 0) this.listeners.delete(set);
    for (const p of set.partitions) if (!set.succeeded.has(p)) this.verifier.forget(set.key, p);
  }

  private armSpeculation(): void {
    if (this.speculationTimer || this.stopped) return;
    this.speculationTimer = this.clock.setTimeout(() => {
      this.speculationTimer = null;
      if (!this.sets.some((s) => s.config.speculation)) return;
      this.dispatch();
      this.armSpeculation();
    }, this.config.speculationIntervalMs);
  }

  private ordered(): TaskSet[] {
    if (this.config.schedulingMode === 'FAIR') {
      return [...this.sets].sort((a, b) => a.running.size - b.running.size || a.jobId - b.jobId);
    }
    return this.sets; // FIFO: job order, then stage order, as submitted.
  }

  dispatch(): void {
    if (this.dispatching || this.stopped) return;
    this.dispatching = true;
    try {
      this.dispatchLoop();
    } finally {
      this.dispatching = false;
    }
  }

  private dispatchLoop(): void {
    const now = this.clock.now();
    const alive = (id: string) => {
      const e = this.registry.get(id);
      return !!e && this.registry.isUsable(e, now);
    };
    let waitingForLocality = false;
    const executors = this.registry.all().filter((e) => this.registry.isUsable(e, now));
    const onVolunteer = (id: string) => this.registry.get(id)?.kind === 'browser';
    // Sets whose inputs vanished during this pass: they are about to be resubmitted.
    const blocked = new Set<TaskSet>();
    // Attempts waiting on their executor behind the tasks it runs, by set, found once per dispatch.
    const queuedBehind = new Map<TaskSet, RunningAttempt[]>();
    let nextSteal = Infinity;
    // Round-robin, one task per executor per turn: first up to each executor's cores, then the
    // prefetch slots, then what remote executors are sent ahead of short tasks. Filling one
    // executor first would leave the others idle on small stages.
    for (const pass of [1, 2, 3] as const) {
      let progress = true;
      while (progress) {
        progress = false;
        for (const executor of executors) {
          const prefetched = executor.cores * (pass === 1 ? 1 : 1 + this.config.prefetchPerCore);
          const sendAhead = pass === 3 ? this.sendAheadLimit(executor) : 0;
          if (executor.running.size >= prefetched + sendAhead) continue;
          for (const set of this.ordered()) {
            if (set.zombie || blocked.has(set) || !satisfies(executor, set.requirements)) continue;
            if (pass === 3 && executor.running.size >= prefetched + this.sendAheadFor(executor, set)) continue;
            let partition = set.take(executor.id, alive, this.config.localityWaitMs, now, executor.workerId);
            let how: LaunchKind = 'take';
            let stolen: RunningAttempt | null = null;
            if (partition === null && set.hasPending) waitingForLocality = true;
            if (partition === null) {
              partition = set.speculatable(now, executor.id, executor.workerId, onVolunteer);
              how = 'speculate';
            }
            if (partition === null && pass === 1) {
              // A free core and nothing else to run: take over a task sent ahead elsewhere.
              const found = this.stealable(set, executor, now, queuedBehind);
              if (typeof found === 'number') nextSteal = Math.min(nextSteal, found);
              else if (found) {
                stolen = found;
                partition = found.partition;
                how = 'steal';
              }
            }
            if (partition === null) continue;
            const launched = this.launch(set, partition, executor, how, now);
            if (launched === 'blocked') {
              blocked.add(set);
              continue;
            }
            if (launched === 'launched' && stolen) {
              this.killAttempt(set, stolen, `taken over by executor ${executor.id}: it waited ${Math.round(now - stolen.startedAt)} ms on executor ${stolen.executorId} behind the tasks running there`);
            }
            progress = true;
            break;
          }
        }
      }
    }
    if (nextSteal < Infinity && !this.stealTimer) {
      this.stealTimer = this.clock.setTimeout(() => {
        this.stealTimer = null;
        this.dispatch();
      }, Math.max(1, nextSteal - now));
    }
    if (waitingForLocality && !this.timer) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = null;
        this.dispatch();
      }, Math.max(10, this.config.localityWaitMs / 4));
    }
  }

  /**
   * An attempt of `set` that an idle `thief` may take over, the time at which one may, or null.
   * Tasks sent ahead (prefetchPerCore, remoteSendAheadMs) wait on their executor behind the ones it
   * runs; on an executor far slower than the others (a busy laptop, a throttled tab) they wait far
   * longer than a task takes, while other executors run out of work at the stage's end. Only once
   * the set has nothing left to launch, and only attempts that waited longer than a median task
   * runs (TaskSet.stealAfterMs), so that a healthy executor keeps what it is about to start. The
   * waiting attempt is killed once the thief's copy is launched: it never started, so nothing is
   * lost; if it did start after all, the first copy to finish counts, as with speculation. A task
   * waiting on the executor that holds its input is left there. Like
   * speculation it moves tasks from where they were sent, so `speculation: false` turns it off too:
   * then every task runs where it was first sent, once.
   */
  private stealable(set: TaskSet, thief: ExecutorInfo, now: number, cache: Map<TaskSet, RunningAttempt[]>): RunningAttempt | number | null {
    if (!set.config.speculation || set.hasPending || set.zombie) return null;
    const after = set.stealAfterMs;
    if (after === null) return null;
    let queued = cache.get(set);
    if (!queued) cache.set(set, (queued = this.queuedAttempts(set)));
    let earliest: number | null = null;
    for (const r of queued) {
      // Ended, killed or taken over since the list was made.
      if (this.byTaskId.get(r.taskId)?.run !== r || set.succeeded.has(r.partition) || set.speculated.has(r.partition)) continue;
      if (r.executorId === thief.id || set.avoid.get(r.partition)?.has(thief.workerId) || set.failedOn.get(r.partition)?.has(thief.id)) continue;
      // A task waiting where its input is (a cached block, most of its shuffle input) stays there:
      // elsewhere it would recompute or fetch it all, and a real straggler is speculation's to copy.
      const prefs = set.preferred(r.partition);
      if (prefs.includes(r.executorId) && !prefs.includes(thief.id)) continue;
      if (now - r.startedAt >= after) return r;
      earliest = Math.min(earliest ?? Infinity, r.startedAt + after);
    }
    return earliest;
  }

  /**
   * Attempts of `set` that wait on their executor: beyond the first `cores` attempts it was sent
   * (an executor runs what it is sent in order), oldest first.
   */
  private queuedAttempts(set: TaskSet): RunningAttempt[] {
    const out: RunningAttempt[] = [];
    const seen = new Set<string>();
    for (const r of set.running.values()) {
      if (seen.has(r.executorId)) continue;
      seen.add(r.executorId);
      const executor = this.registry.get(r.executorId);
      if (!executor || executor.running.size <= executor.cores) continue;
      let i = 0;
      for (const taskId of executor.running) {
        if (i++ < executor.cores) continue;
        const entry = this.byTaskId.get(taskId);
        if (entry?.set === set) out.push(entry.run);
      }
    }
    return out.sort((a, b) => a.startedAt - b.startedAt);
  }

  /** A task ended on `executor`: the first one waiting behind those it runs starts (it runs them in the order sent). */
  private taskLeft(executor: ExecutorInfo, taskId: number): void {
    executor.running.delete(taskId);
    let i = 0;
    for (const id of executor.running) {
      if (i++ >= executor.cores) break;
      const entry = this.byTaskId.get(id) ?? this.killing.get(id);
      if (entry && entry.run.runningSince === null) entry.run.runningSince = this.clock.now();
    }
  }

  /** The most tasks `executor` is sent ahead of short tasks, whatever the set. */
  private sendAheadLimit(executor: ExecutorInfo): number {
    return isRemote(executor) && this.config.remoteSendAheadMs > 0 ? executor.cores * MAX_SEND_AHEAD_PER_CORE : 0;
  }

  /**
   * Tasks of `set` sent ahead to `executor` beyond its prefetch: enough of them to keep it busy for
   * remoteSendAheadMs at the set's mean task time so far (none before a task of the set finished).
   */
  private sendAheadFor(executor: ExecutorInfo, set: TaskSet): number {
    const limit = this.sendAheadLimit(executor);
    const mean = set.meanDurationMs;
    if (limit === 0 || mean === null) return 0;
    // Durations are whole milliseconds, so tiny tasks report 0; they still cost something to run.
    return Math.min(limit, Math.floor((executor.cores * this.config.remoteSendAheadMs) / Math.max(mean, 0.02)));
  }

  private launch(set: TaskSet, partition: number, executor: ExecutorInfo, how: LaunchKind, now: number): 'launched' | 'blocked' | 'aborted' {
    const speculative = how === 'speculate';
    const taskId = this.nextTaskId++;
    const listener = this.listeners.get(set)!;
    let launch: TaskLaunch | null;
    try {
      launch = listener.describe(set, partition, set.attempts.get(partition) ?? 0, taskId);
    } catch (err) {
      // Planning a task failed on the driver (e.g. a partition function that cannot be built).
      listener.aborted(set, partition, err as Error, (set.attempts.get(partition) ?? 0) + 1);
      return 'aborted';
    }
    if (!launch) {
      if (how === 'speculate') set.speculated.delete(partition);
      else if (how === 'take') set.enqueue(partition);
      // A task to take over stays where it waits.
      return 'blocked';
    }
    const attempt = set.nextAttempt(partition);
    const reads = [...new Set(launch.task.blocks.map((b) => b.executorId))];
    const runningSince = executor.running.size < executor.cores ? now : null;
    const run: RunningAttempt = { taskId, partition, attempt, executorId: executor.id, startedAt: now, runningSince, speculative, reads };
    if (this.verifier.needsDigest(executor.capabilities.has('trusted'), set.key, partition)) launch.task.digest = true;
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
    this.gateway.launch(executor, launch);
    return 'launched';
  }

  /**
   * A task result from `executorId`. Refused (and reported, so the connection can be dropped) when
   * the task is not one this scheduler runs there: a forged or replayed result.
   */
  handleResult(executorId: string, result: TaskResult): ResultRejection | null {
    const entry = this.byTaskId.get(result.taskId) ?? this.killing.get(result.taskId);
    if (!entry) return 'unknown task';
    const { set, run } = entry;
    if (run.executorId !== executorId) return 'task runs on another executor';
    const wasKilled = this.killing.delete(result.taskId);
    this.byTaskId.delete(result.taskId);
    set.running.delete(result.taskId);
    const executor = this.registry.get(executorId);
    if (executor) this.taskLeft(executor, result.taskId);
    const listener = this.listeners.get(set);
    if (result.ok) {
      if (executor) {
        executor.consecutiveFailures = 0;
        executor.completedTasks++;
      }
      this.emitEnd(set, run, 'success', undefined, result.metrics);
      if (!set.succeeded.has(run.partition)) this.verified(set, run, executorId, executor, result);
    } else if (result.killed || wasKilled) {
      // Whatever a killed attempt reports after the kill, nobody waits for it.
      this.emitEnd(set, run, 'killed', result.error.message, result.metrics);
      this.requeue(set, run.partition);
    } else {
      const error = fromWireError(result.error);
      if (executor) executor.failedTasks++;
      this.emitEnd(set, run, 'failed', result.error.message, result.metrics);
      if (result.fetchFailed) {
        listener?.fetchFailed(set, run.partition, result.fetchFailed, error);
      } else {
        this.recordFailure(set, run, error, executor);
      }
    }
    if (set.zombie && set.running.size === 0) this.listeners.delete(set);
    this.dispatch();
    return null;
  }

  /**
   * A copy for verification can only run on a machine or tab other than those that computed the
   * first ones. When for 10 s none that is connected could run it (a cluster whose only untrusted
   * worker is one tab), the job would wait silently for another to join: say so, once per stage.
   */
  private warnIfUnverifiable(set: TaskSet): void {
    if (this.verifyChecks.has(set) || this.verifyWarned.has(set)) return;
    this.verifyChecks.add(set);
    this.clock.setTimeout(() => {
      this.verifyChecks.delete(set);
      if (set.zombie || this.stopped) return;
      const now = this.clock.now();
      const usable = this.registry.all().filter((e) => this.registry.isUsable(e, now) && satisfies(e, set.requirements));
      let waiting = false;
      for (const [partition, avoid] of set.avoid) {
        if (set.succeeded.has(partition)) continue;
        waiting = true;
        if (usable.some((e) => !avoid.has(e.workerId))) continue;
        this.verifyWarned.add(set);
        this.warn(
          `stage ${set.stageId} waits: partition ${partition} counts only once a copy computed on another machine or tab agrees ` +
            `(verify: 'untrusted'), and every executor connected now is on one that computed it already. ` +
            `Add a worker or a volunteer tab, or start with verify: 'none' to accept results unchecked.`,
        );
        return;
      }
      if (waiting) this.warnIfUnverifiable(set);
    }, UNVERIFIABLE_WARN_MS);
  }

  /** Whether a running task fetches shuffle outputs from `executorId`. */
  readingFrom(executorId: string): boolean {
    for (const { run } of this.byTaskId.values()) if (run.reads.includes(executorId)) return true;
    return false;
  }

  /** `partition` is done elsewhere (an earlier attempt of the stage): no need to run or finish it here. */
  markCompleted(set: TaskSet, partition: number): void {
    if (set.succeeded.has(partition)) return;
    set.markSucceeded(partition);
    for (const run of set.attemptsOf(partition)) this.killAttempt(set, run, 'an attempt of an earlier stage attempt finished it');
  }

  /** A copy succeeded: it counts now, or once another executor agrees with it (verifier.ts). */
  private verified(set: TaskSet, run: RunningAttempt, executorId: string, executor: ExecutorInfo | undefined, result: TaskSuccess): void {
    const listener = this.listeners.get(set);
    const trusted = executor?.capabilities.has('trusted') ?? false;
    const verdict = this.verifier.onSuccess(set.key, run.partition, executorId, trusted, run.attempt, result, (id) => !!this.registry.get(id));
    if (verdict.kind === 'replicate') {
      set.finishedRun(run.partition, result.metrics.durationMs, false);
      if (!set.zombie) {
        set.enqueueReplica(run.partition, new Set([...verdict.avoid].map((id) => this.registry.get(id)?.workerId ?? id)));
        this.warnIfUnverifiable(set);
      }
      return;
    }
    if (verdict.kind === 'fail') {
      listener?.aborted(set, run.partition, verdict.error, set.attempts.get(run.partition) ?? 1);
      return;
    }
    set.succeeded.add(run.partition);
    set.avoid.delete(run.partition);
    set.finishedRun(run.partition, verdict.result.metrics.durationMs, true);
    // The other copies (a speculative race, replicas no longer needed) lost: free their slots.
    for (const other of set.attemptsOf(run.partition)) this.killAttempt(set, other, 'another attempt of the task succeeded');
    const now = this.clock.now();
    for (const id of verdict.agreed) this.bus.emit({ type: 'taskVerified', time: now, executorId: id, stageId: set.stageId, partition: run.partition, agreed: true });
    for (const id of verdict.convicted) this.bus.emit({ type: 'taskVerified', time: now, executorId: id, stageId: set.stageId, partition: run.partition, agreed: false });
    for (const liar of verdict.convicted) this.convict(liar);
    listener?.succeeded(set, run.partition, verdict.attempt, verdict.executorId, verdict.result);
  }

  /** An executor whose output disagreed with the majority takes no more tasks of this application. */
  private convict(executorId: string): void {
    const executor = this.registry.get(executorId);
    if (!executor || executor.excludedUntil === Infinity) return;
    executor.excludedUntil = Infinity;
    this.bus.emit({ type: 'executorExcluded', time: this.clock.now(), executorId, until: null, failures: 0, reason: 'its output disagreed with the majority of other executors' });
    this.convicted(executorId);
  }

  private killAttempt(set: TaskSet, run: RunningAttempt, reason: string): void {
    if (!this.byTaskId.delete(run.taskId)) return;
    this.killing.set(run.taskId, { set, run });
    const executor = this.registry.get(run.executorId);
    if (executor) this.gateway.kill(executor, run.taskId, reason);
  }

  /** Back in the queue without counting a failure, unless done or running elsewhere. */
  private requeue(set: TaskSet, partition: number): void {
    if (set.zombie || set.succeeded.has(partition) || set.attemptsOf(partition).length > 0) return;
    set.enqueue(partition);
  }

  private recordFailure(set: TaskSet, run: RunningAttempt, error: Error, executor: ExecutorInfo | undefined): void {
    if (set.succeeded.has(run.partition)) return; // another copy already won
    const failures = (set.failures.get(run.partition) ?? 0) + 1;
    set.failures.set(run.partition, failures);
    let on = set.failedOn.get(run.partition);
    if (!on) set.failedOn.set(run.partition, (on = new Set()));
    on.add(run.executorId);
    if (executor) this.maybeExclude(executor);
    if (failures >= set.config.maxTaskFailures) {
      this.listeners.get(set)?.aborted(set, run.partition, error, failures);
      return;
    }
    this.requeue(set, run.partition);
  }

  /**
   * An executor that keeps failing tasks is left out for a while, but never the last usable one:
   * a job whose every attempt fails the same way must fail as fast as on one executor, not wait
   * out the exclusion.
   */
  private maybeExclude(executor: ExecutorInfo): void {
    executor.consecutiveFailures++;
    if (executor.excludedUntil === Infinity) return;
    if (executor.consecutiveFailures < this.config.excludeAfterFailures) return;
    const now = this.clock.now();
    const othersUsable = this.registry.all().some((e) => e !== executor && this.registry.isUsable(e, now));
    if (!othersUsable) return;
    executor.excludedUntil = now + this.config.excludeForMs;
    this.bus.emit({ type: 'executorExcluded', time: now, executorId: executor.id, until: executor.excludedUntil, failures: executor.consecutiveFailures, reason: `${executor.consecutiveFailures} task failures in a row` });
    executor.consecutiveFailures = 0;
    this.clock.setTimeout(() => this.dispatch(), this.config.excludeForMs + 1);
  }

  /**
   * An executor is gone. Its running attempts end; they count as failures only when the task
   * caused the loss (Spark's ExecutorLostFailure with exitCausedByApp): a volunteer closing a tab
   * ten times in a row must not abort a job, but a task that calls process.exit must.
   */
  executorLost(executorId: string, loss: ExecutorLoss): void {
    for (const [taskId, { set, run }] of [...this.killing]) {
      if (run.executorId !== executorId) continue;
      this.killing.delete(taskId);
      set.running.delete(taskId);
      this.emitEnd(set, run, 'killed', `executor ${executorId} was lost: ${loss.reason}`, undefined);
      if (set.zombie && set.running.size === 0) this.listeners.delete(set);
    }
    for (const [taskId, { set, run }] of [...this.byTaskId]) {
      if (run.executorId !== executorId) continue;
      this.byTaskId.delete(taskId);
      set.running.delete(taskId);
      const wire: WireError = { name: 'FlintError', code: 'EXECUTOR_LOST', message: `executor ${executorId} was lost while running the task: ${loss.reason}` };
      this.emitEnd(set, run, loss.causedByApp ? 'failed' : 'lost', wire.message, undefined);
      if (loss.causedByApp) this.recordFailure(set, run, new FlintError('EXECUTOR_LOST', wire.message), undefined);
      else this.requeue(set, run.partition);
      if (set.zombie && set.running.size === 0) this.listeners.delete(set);
    }
    for (const set of [...this.sets]) this.failIfUnschedulable(set);
    this.dispatch();
  }

  /** Sets that no registered executor could ever run fail at once, naming what is missing. */
  private failIfUnschedulable(set: TaskSet): boolean {
    if (set.requirements.length === 0 || this.registry.size === 0) return false;
    if (this.registry.all().some((e) => satisfies(e, set.requirements))) return false;
    const kinds = [...new Set(this.registry.all().map((e) => e.kind))].join(', ');
    const missing = set.requirements.join(', ');
    const why = set.requirements.includes('node')
      ? "a function uses Node's globals such as process or Buffer"
      : 'a partition is persisted at a disk-only storage level';
    const fix = set.requirements.includes('node') ? "avoid Node globals in the job's functions" : 'persist at a memory level';
    this.listeners.get(set)?.unschedulable(
      set,
      new FlintError(
        'CAPABILITY_MISSING',
        `stage ${set.stageId} needs executors with the capability "${missing}" (${why}), ` +
          `but the live executors (${kinds}) have none; add a Node executor (local[N] or flint worker) or ${fix}`,
      ),
    );
    return true;
  }

  private emitEnd(
    set: TaskSet,
    run: RunningAttempt,
    status: 'success' | 'failed' | 'killed' | 'lost',
    error: string | undefined,
    metrics: TaskMetrics | undefined,
  ): void {
    this.bus.emit({
      type: 'taskEnd',
      time: this.clock.now(),
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

  /** Whether `taskId` is an attempt this scheduler runs on `executorId` now. */
  isRunningOn(taskId: number, executorId: string): boolean {
    return this.byTaskId.get(taskId)?.run.executorId === executorId;
  }

  /** Whether `taskId` ran on `executorId` and was asked to stop. */
  isBeingKilled(taskId: number, executorId: string): boolean {
    return this.killing.get(taskId)?.run.executorId === executorId;
  }

  /** Attempts running (or being killed) on an executor. */
  runningOn(executorId: string): number {
    return this.registry.get(executorId)?.running.size ?? 0;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    if (this.speculationTimer) this.clock.clearTimeout(this.speculationTimer);
    if (this.stealTimer) this.clock.clearTimeout(this.stealTimer);
    this.timer = null;
    this.stealTimer = null;
    this.speculationTimer = null;
  }
}
