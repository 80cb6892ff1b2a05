/**
 * The tasks of one stage attempt (Spark's TaskSetManager): which partitions are pending, running and
 * done, how many times each failed, where each prefers to run, and when a straggler deserves a
 * speculative copy.
 */
import type { StageRequirement } from '../plan/plan.js';

export interface TaskSetConfig {
  maxTaskFailures: number;
  speculation: boolean;
  speculationQuantile: number;
  speculationMultiplier: number;
  speculationMinMs: number;
  /**
   * The quantile and multiplier for attempts running on volunteers (browser tabs): Spark's classic
   * 0.75 and 1.5 rather than the 0.9 and 3 it moved to for its own clusters. Tabs differ in speed by
   * far more than machines of a cluster do, so a task that runs long there is far more likely slow
   * because of its tab than because of its data, and on a short stage the stricter rule copied a 10x
   * slower tab's task only once nearly every other one was done (issue 9: 8 tasks of 500 ms on 4 tabs,
   * one slow, took 1.67x the run without the slow tab).
   */
  volunteerSpeculationQuantile?: number;
  volunteerSpeculationMultiplier?: number;
}

export interface RunningAttempt {
  taskId: number;
  partition: number;
  attempt: number;
  executorId: string;
  /** When it was sent to its executor. */
  startedAt: number;
  /**
   * When its executor started running it, as far as the driver can tell (a task sent ahead waits
   * behind the ones its executor runs, and starts when one of them ends); null while it waits.
   * Speculation measures from here: timed from its sending, a task that waited a whole task's time
   * looked twice as slow as it was.
   */
  runningSince: number | null;
  speculative: boolean;
  /** Executors whose shuffle outputs it fetches. */
  reads: readonly string[];
}

/** Partitions waiting to launch, in order; launched ones leave holes that `head` skips. */
interface Queue {
  items: number[];
  head: number;
}

export class TaskSet {
  private readonly queue: Queue = { items: [], head: 0 };
  /**
   * Copies wanted for verification, launched before anything in `queue`: the partition is not done
   * until a copy agrees, and an executor earns its record (and with it fewer spot checks) only from
   * verified tasks. Queued behind the stage's other tasks, the copies of a stage of hundreds of
   * tasks would all wait for the last of them, and every task of the stage would be copied.
   */
  private readonly replicas: Queue = { items: [], head: 0 };
  private readonly pendingSet = new Set<number>();
  readonly running = new Map<number, RunningAttempt>();
  readonly succeeded = new Set<number>();
  readonly failures = new Map<number, number>();
  readonly attempts = new Map<number, number>();
  /** Executors on which a partition failed: it goes elsewhere when it can. */
  readonly failedOn = new Map<number, Set<string>>();
  /** Run times of successful attempts (one per partition), in milliseconds. */
  readonly durations: number[] = [];
  private durationTotal = 0;
  private readonly timed = new Set<number>();
  /**
   * Partitions a copy ran to the end of that waits for another copy to agree (verification). For
   * speculation they are done: a straggler is told apart by what finished running, and counting only
   * verified partitions held a 10x slower tab's task uncopied until the copies of the others ran.
   */
  private readonly computed = new Set<number>();
  readonly speculated = new Set<number>();
  /**
   * Workers (machines, tabs) a partition must not run on: those whose copies of it are being
   * compared. By worker, not executor: two executors of one tab would agree with each other.
   */
  readonly avoid = new Map<number, Set<string>>();
  /** Partitions this stage attempt must compute. */
  readonly partitions: Set<number>;
  zombie = false;
  lastLocalLaunch: number;

  constructor(
    readonly stageId: number,
    readonly stageAttempt: number,
    readonly jobId: number,
    partitions: number[],
    readonly preferred: (partition: number) => string[],
    readonly config: TaskSetConfig,
    /** Capabilities an executor needs for these tasks (see cluster/backend.ts). */
    readonly requirements: ReadonlyArray<StageRequirement> = [],
    now = 0,
  ) {
    this.lastLocalLaunch = now;
    this.partitions = new Set(partitions);
    for (const p of partitions) this.enqueue(p);
  }

  enqueue(partition: number, queue: Queue = this.queue): void {
    if (this.pendingSet.has(partition) || this.succeeded.has(partition)) return;
    this.pendingSet.add(partition);
    queue.items.push(partition);
  }

  /** Runs `partition` again on a worker not in `avoid` (another copy to compare), before other tasks. */
  enqueueReplica(partition: number, avoid: Set<string>): void {
    this.avoid.set(partition, avoid);
    this.enqueue(partition, this.replicas);
  }

  /** Done without running here: out of the queue for good. */
  markSucceeded(partition: number): void {
    this.succeeded.add(partition);
    this.pendingSet.delete(partition);
  }

  get hasPending(): boolean {
    return this.pendingSet.size > 0;
  }

  /**
   * The next partition to run on `executorId`: a copy wanted for verification first, then one that
   * prefers it, else one without a usable preference, else (after the locality wait) any. Returns
   * null when nothing may run there now.
   */
  take(executorId: string, alive: (id: string) => boolean, localityWaitMs: number, now: number, workerId = executorId): number | null {
    if (this.pendingSet.size === 0) return null;
    if (this.replicas.head < this.replicas.items.length) {
      const p = this.takeFrom(this.replicas, executorId, alive, localityWaitMs, now, workerId);
      if (p !== null) return p;
    }
    return this.takeFrom(this.queue, executorId, alive, localityWaitMs, now, workerId);
  }

  private takeFrom(queue: Queue, executorId: string, alive: (id: string) => boolean, localityWaitMs: number, now: number, workerId: string): number | null {
    let fallback = -1;
    let waiting = -1;
    // Compact the queue lazily: launched partitions leave holes that are skipped.
    for (let i = queue.head; i < queue.items.length; i++) {
      const p = queue.items[i]!;
      if (!this.pendingSet.has(p)) {
        if (i === queue.head) queue.head++;
        continue;
      }
      if (this.avoid.get(p)?.has(workerId)) continue;
      if (this.failedOn.get(p)?.has(executorId) && this.hasOtherExecutor(p, alive)) continue;
      const prefs = this.preferred(p).filter(alive);
      if (prefs.length === 0) {
        // Tasks without a preference run anywhere at once; stop scanning at the first one.
        fallback = i;
        break;
      } else if (prefs.includes(executorId)) {
        return this.launchAt(queue, i, p, true, now);
      } else if (waiting < 0) {
        waiting = i;
      }
      if (i - queue.head > 256) break;
    }
    if (fallback >= 0) return this.launchAt(queue, fallback, queue.items[fallback]!, false, now);
    if (waiting >= 0 && now - this.lastLocalLaunch >= localityWaitMs) return this.launchAt(queue, waiting, queue.items[waiting]!, false, now);
    return null;
  }

  /** Candidates for the failed-on check: another live executor could take the partition. */
  private otherExecutors: () => string[] = () => [];
  setExecutorLister(list: () => string[]): void {
    this.otherExecutors = list;
  }

  private hasOtherExecutor(p: number, alive: (id: string) => boolean): boolean {
    const failed = this.failedOn.get(p)!;
    return this.otherExecutors().some((e) => alive(e) && !failed.has(e));
  }

  private launchAt(queue: Queue, index: number, partition: number, local: boolean, now: number): number {
    this.pendingSet.delete(partition);
    if (index === queue.head) queue.head++;
    if (local) this.lastLocalLaunch = now;
    return partition;
  }

  nextAttempt(partition: number): number {
    const a = this.attempts.get(partition) ?? 0;
    this.attempts.set(partition, a + 1);
    return a;
  }

  /** A copy of `partition` ran to the end in `ms`; `verified`: it counts (else it waits for a copy to compare). */
  finishedRun(partition: number, ms: number, verified: boolean): void {
    if (verified) this.computed.delete(partition);
    else if (!this.succeeded.has(partition)) this.computed.add(partition);
    if (this.timed.has(partition)) return;
    this.timed.add(partition);
    this.durations.push(ms);
    this.durationTotal += ms;
  }

  /** Mean run time of the successful attempts so far; null before the first. */
  get meanDurationMs(): number | null {
    return this.durations.length === 0 ? null : this.durationTotal / this.durations.length;
  }

  /** Running attempts of `partition`. */
  attemptsOf(partition: number): RunningAttempt[] {
    const out: RunningAttempt[] = [];
    for (const r of this.running.values()) if (r.partition === partition) out.push(r);
    return out;
  }

  /** Identifies this stage attempt (verification keeps copies of its tasks under it). */
  get key(): string {
    return `${this.stageId}.${this.stageAttempt}`;
  }

  /** The speculation threshold's median, sorted again only once durations were added. */
  private medianFor = -1;
  private medianMs = 0;
  /**
   * Attempts past the speculation threshold, found once per moment and set of durations: a dispatch
   * asks for every executor in turn, and at hundreds of executors and thousands of durations
   * sorting them on each ask held the driver's thread for seconds at every stage's end.
   */
  private overdue: { now: number; durations: number; finished: number; runs: RunningAttempt[] } | null = null;

  /**
   * A partition whose running copy is a straggler and which has no copy yet, if any. `onVolunteer`
   * says whether an executor is a volunteer's (TaskSetConfig.volunteerSpeculationQuantile).
   */
  speculatable(now: number, executorId: string, workerId = executorId, onVolunteer: (executorId: string) => boolean = () => false): number | null {
    if (!this.config.speculation || this.zombie || this.durations.length === 0) return null;
    // Spark's minFinishedForSpeculation: floor, at least one. Rounded up, a stage of fewer than
    // ten tasks needed every task done before it could copy one: never, and a 10x slower tab held
    // such a stage for ten times its length.
    const total = this.partitions.size;
    const finished = this.succeeded.size + this.computed.size;
    const enough = (quantile: number) => finished >= Math.max(1, Math.floor(quantile * total));
    const volunteers = this.volunteerRule();
    if (!enough(Math.min(this.config.speculationQuantile, volunteers.quantile))) return null;
    if (this.overdue?.now !== now || this.overdue.durations !== this.durations.length || this.overdue.finished !== finished) {
      this.overdue = { now, durations: this.durations.length, finished, runs: this.findOverdue(now, enough, onVolunteer) };
    }
    for (const r of this.overdue.runs) {
      // Ended, or copied, since they were found.
      if (this.running.get(r.taskId) !== r || r.speculative || this.speculated.has(r.partition) || this.succeeded.has(r.partition)) continue;
      if (r.executorId === executorId || this.avoid.get(r.partition)?.has(workerId)) continue;
      this.speculated.add(r.partition);
      return r.partition;
    }
    return null;
  }

  private volunteerRule(): { quantile: number; multiplier: number } {
    return {
      quantile: this.config.volunteerSpeculationQuantile ?? this.config.speculationQuantile,
      multiplier: this.config.volunteerSpeculationMultiplier ?? this.config.speculationMultiplier,
    };
  }

  /** The median run time of the successful attempts so far (null before the first). */
  get medianDurationMs(): number | null {
    if (this.durations.length === 0) return null;
    if (this.medianFor !== this.durations.length) {
      const sorted = [...this.durations].sort((a, b) => a - b);
      this.medianMs = sorted[Math.floor(sorted.length / 2)]!;
      this.medianFor = this.durations.length;
    }
    return this.medianMs;
  }

  /**
   * How long an attempt sent ahead to an executor may wait there behind the tasks it runs before an
   * idle executor takes it over (TaskScheduler's stealing): as long as a median task runs, at least
   * speculationMinMs. A healthy executor starts what it was sent ahead within about that time; one
   * that is slower by far does not. Null while no task of the set has finished.
   */
  get stealAfterMs(): number | null {
    const median = this.medianDurationMs;
    return median === null ? null : Math.max(this.config.speculationMinMs, median);
  }

  private findOverdue(now: number, enough: (quantile: number) => boolean, onVolunteer: (executorId: string) => boolean): RunningAttempt[] {
    // The threshold is never below speculationMinMs: while no attempt is that old, the median is not needed.
    let oldest = Infinity;
    for (const r of this.running.values()) if (r.runningSince !== null && r.runningSince < oldest) oldest = r.runningSince;
    if (now - oldest <= this.config.speculationMinMs) return [];
    const threshold = (multiplier: number) => Math.max(this.config.speculationMinMs, multiplier * this.medianDurationMs!);
    const volunteers = this.volunteerRule();
    const rules = {
      cluster: enough(this.config.speculationQuantile) ? threshold(this.config.speculationMultiplier) : Infinity,
      volunteer: enough(volunteers.quantile) ? threshold(volunteers.multiplier) : Infinity,
    };
    const runs: RunningAttempt[] = [];
    for (const r of this.running.values()) {
      // One still waiting on its executor is for stealing (TaskScheduler) to move, not to copy.
      if (r.runningSince !== null && now - r.runningSince > (onVolunteer(r.executorId) ? rules.volunteer : rules.cluster)) runs.push(r);
    }
    return runs;
  }

  get isDone(): boolean {
    for (const p of this.partitions) if (!this.succeeded.has(p)) return false;
    return true;
  }
}
