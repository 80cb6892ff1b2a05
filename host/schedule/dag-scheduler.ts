/**
 * Cuts a job's lineage into stages at shuffle dependencies and runs them in order (Spark's
 * DAGScheduler): missing parent stages first, stages whose shuffle output already exists skipped,
 * and after a lost executor or a failed fetch only the lost map outputs are recomputed.
 */
import { FlintError } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import type { ExecutorRegistry } from '../cluster/executor-registry.js';
import type { LineageNode, ShuffleDependency } from '../plan/lineage.js';
import type { BlockLocation, StagePlan, TaskDescriptor, TaskOutput, TaskSuccess } from '../plan/plan.js';
import { broadcastsOf, buildPlan, cachedBlocksFor, modulesOf, requirementsOf, shuffleDependencies, shuffleReadsFor, slicesFor } from '../plan/stage-plan.js';
import type { MapOutputTracker } from '../shuffle/map-output-tracker.js';
import type { Clock, TimerHandle } from './clock.js';
import { stageRdds } from './stage-info.js';
import { TaskSet, type TaskSetConfig } from './task-set.js';
import type { TaskLaunch, TaskScheduler, TaskSetListener } from './task-scheduler.js';

/** What a job does with each finished partition. */
export interface ResultHandler {
  output(partition: number, attempt: number): TaskOutput;
  /** Called once per partition, for the first successful attempt. */
  taskSucceeded(partition: number, attempt: number, result: TaskSuccess): void;
}

export interface DagConfig {
  maxStageAttempts: number;
  /** False for a destroyed broadcast: a stage using one fails at once instead of in every task. */
  broadcastExists(id: number): boolean;
  useWasm: boolean;
  /** A stage attempt is over: executors may forget its plan. */
  stageFinished(stageKey: string): void;
  taskSet: TaskSetConfig;
}

abstract class Stage {
  attempt = -1;
  taskSet: TaskSet | null = null;
  failedAttempts = 0;
  plan: StagePlan | null = null;
  readonly jobIds = new Set<number>();
  constructor(
    readonly id: number,
    readonly rdd: LineageNode,
    readonly parents: ShuffleMapStage[],
  ) {}
  abstract get name(): string;
}

class ShuffleMapStage extends Stage {
  constructor(id: number, readonly dep: ShuffleDependency, parents: ShuffleMapStage[]) {
    super(id, dep.rdd, parents);
  }
  /** Named after the operation that needs the shuffle (a reduceByKey, a join), not its map side. */
  get name(): string {
    return this.dep.callSite ?? this.rdd.callSite;
  }
}

class ResultStage extends Stage {
  constructor(id: number, rdd: LineageNode, parents: ShuffleMapStage[], readonly job: Job) {
    super(id, rdd, parents);
  }
  get name(): string {
    return this.job.description;
  }
}

interface Job {
  id: number;
  description: string;
  partitions: number[];
  finished: Set<number>;
  handler: ResultHandler;
  resolve(): void;
  reject(err: Error): void;
  stage: ResultStage | null;
  done: boolean;
}

export class DAGScheduler {
  private nextJobId = 0;
  private nextStageId = 0;
  private readonly shuffleStages = new Map<number, ShuffleMapStage>();
  private readonly waiting = new Set<Stage>();
  private readonly running = new Set<Stage>();
  private readonly bySet = new WeakMap<TaskSet, Stage>();
  private readonly prepared = new WeakSet<LineageNode>();
  private resubmitTimer: TimerHandle | null = null;

  constructor(
    private readonly tasks: TaskScheduler,
    private readonly tracker: MapOutputTracker,
    private readonly registry: ExecutorRegistry,
    private readonly bus: EventBus,
    private readonly config: DagConfig,
    private readonly clock: Clock,
  ) {}

  async runJob(rdd: LineageNode, partitions: number[], handler: ResultHandler, description: string): Promise<void> {
    await this.prepare(rdd);
    return new Promise<void>((resolve, reject) => {
      const job: Job = {
        id: this.nextJobId++,
        description,
        partitions,
        finished: new Set(),
        handler,
        resolve,
        reject,
        stage: null,
        done: false,
      };
      let parents: ShuffleMapStage[];
      try {
        parents = this.parentStages(rdd);
      } catch (err) {
        reject(err as Error);
        return;
      }
      const stage = new ResultStage(this.nextStageId++, rdd, parents, job);
      job.stage = stage;
      this.markJob(stage, job.id);
      const stages: Stage[] = [];
      const collect = (s: Stage) => {
        if (stages.includes(s)) return;
        stages.push(s);
        s.parents.forEach(collect);
      };
      collect(stage);
      const stageIds = stages.map((s) => s.id);
      this.bus.emit({
        type: 'jobStart',
        time: this.clock.now(),
        jobId: job.id,
        description,
        stageIds,
        stages: stages.map((s) => ({
          stageId: s.id,
          name: s.name,
          kind: s instanceof ShuffleMapStage ? 'shuffleMap' : 'result',
          numTasks: s instanceof ResultStage ? partitions.length : s.rdd.numPartitions(),
          parentStageIds: s.parents.map((p) => p.id),
          rdds: stageRdds(s.rdd),
        })),
      });
      if (partitions.length === 0) {
        this.finishJob(job);
        return;
      }
      for (const id of stageIds) {
        const s = [...this.shuffleStages.values()].find((x) => x.id === id);
        if (s && this.tracker.isAvailable(s.dep.shuffleId)) this.bus.emit({ type: 'stageSkipped', time: this.clock.now(), stageId: id, jobId: job.id });
      }
      this.submitStage(stage);
    });
  }

  /** Runs each RDD's preparation (range sampling, partition counts) once, parents first. */
  private async prepare(rdd: LineageNode): Promise<void> {
    if (this.prepared.has(rdd)) return;
    if (!rdd.checkpointFiles()) {
      for (const d of rdd.dependencies()) await this.prepare(d.kind === 'narrow' ? d.rdd : d.dep.rdd);
    }
    if (rdd.prepare) await rdd.prepare();
    this.prepared.add(rdd);
  }

  private markJob(stage: Stage, jobId: number): void {
    stage.jobIds.add(jobId);
    for (const p of stage.parents) this.markJob(p, jobId);
  }

  private parentStages(rdd: LineageNode): ShuffleMapStage[] {
    return shuffleDependencies(rdd).map((dep) => this.shuffleStage(dep));
  }

  private shuffleStage(dep: ShuffleDependency): ShuffleMapStage {
    let stage = this.shuffleStages.get(dep.shuffleId);
    if (!stage) {
      // Parents first, as Spark numbers them: stage ids then follow the order stages run in.
      const parents = this.parentStages(dep.rdd);
      stage = new ShuffleMapStage(this.nextStageId++, dep, parents);
      this.shuffleStages.set(dep.shuffleId, stage);
      this.tracker.registerShuffle(dep.shuffleId, dep.rdd.numPartitions());
    }
    return stage;
  }

  private isAvailable(stage: ShuffleMapStage): boolean {
    return this.tracker.isAvailable(stage.dep.shuffleId);
  }

  private submitStage(stage: Stage): void {
    if (this.running.has(stage)) return;
    const missing = stage.parents.filter((p) => !this.isAvailable(p));
    if (missing.length === 0) {
      this.waiting.delete(stage);
      this.submitMissingTasks(stage);
    } else {
      this.waiting.add(stage);
      for (const p of missing) this.submitStage(p);
    }
  }

  private submitMissingTasks(stage: Stage): void {
    const partitions =
      stage instanceof ShuffleMapStage
        ? this.tracker.missingMaps(stage.dep.shuffleId)
        : stage instanceof ResultStage
          ? stage.job.partitions.filter((p) => !stage.job.finished.has(p))
          : [];
    if (partitions.length === 0) {
      this.submitWaitingChildren();
      return;
    }
    stage.attempt++;
    try {
      const plan = buildPlan(stage.rdd);
      const shuffle =
        stage instanceof ShuffleMapStage
          ? { shuffleId: stage.dep.shuffleId, partitioner: stage.dep.partitioner(), combiner: stage.dep.combiner }
          : null;
      const broadcasts = [...broadcastsOf([plan, shuffle])];
      const destroyed = broadcasts.filter((id) => !this.config.broadcastExists(id));
      if (destroyed.length > 0) {
        throw new FlintError('BROADCAST_DESTROYED', `stage ${stage.id} (${stage.name}) uses destroyed broadcast ${destroyed.join(', ')}`);
      }
      stage.plan = {
        stageKey: `${stage.id}.${stage.attempt}`,
        stageId: stage.id,
        stageAttempt: stage.attempt,
        plan,
        shuffle,
        broadcasts,
        modules: modulesOf([plan, shuffle]),
        useWasm: this.config.useWasm,
        requirements: requirementsOf([plan, shuffle]),
      };
    } catch (err) {
      this.abortStage(stage, err as Error);
      return;
    }
    const prefs = new Map<number, string[]>();
    for (const p of partitions) prefs.set(p, this.preferredExecutors(stage, p));
    const set = new TaskSet(
      stage.id,
      stage.attempt,
      Math.min(...stage.jobIds),
      partitions,
      (p) => prefs.get(p) ?? [],
      this.config.taskSet,
      stage.plan.requirements,
      this.clock.now(),
    );
    stage.taskSet = set;
    this.bySet.set(set, stage);
    this.running.add(stage);
    this.bus.emit({
      type: 'stageSubmitted',
      time: this.clock.now(),
      stageId: stage.id,
      attempt: stage.attempt,
      name: stage.name,
      kind: stage instanceof ShuffleMapStage ? 'shuffleMap' : 'result',
      numTasks: partitions.length,
      partitions,
      rddId: stage.rdd.id,
      parentStageIds: stage.parents.map((p) => p.id),
    });
    this.tasks.submit(set, this.listener);
  }

  private preferredExecutors(stage: Stage, partition: number): string[] {
    const holders = new Set<string>();
    for (const blockId of cachedBlocksFor(stage.rdd, partition)) for (const e of this.registry.holdersOf(blockId)) holders.add(e);
    if (holders.size > 0) return [...holders];
    for (const [shuffleId, reduceIds] of shuffleReadsFor(stage.rdd, partition)) {
      if (!this.tracker.isAvailable(shuffleId)) continue;
      const prefs = new Set<string>();
      for (const r of reduceIds) for (const e of this.tracker.preferredExecutors(shuffleId, r)) prefs.add(e);
      return [...prefs];
    }
    return [];
  }

  private readonly listener: TaskSetListener = {
    describe: (set, partition, attempt, taskId) => this.describe(set, partition, attempt, taskId),
    succeeded: (set, partition, attempt, executorId, result) => this.taskSucceeded(set, partition, attempt, executorId, result),
    fetchFailed: (set, partition, failure) => this.fetchFailed(set, failure),
    unschedulable: (set, error) => {
      const stage = this.bySet.get(set);
      if (stage) this.abortStage(stage, error);
    },
    aborted: (set, partition, cause, attempts) => {
      const stage = this.bySet.get(set);
      if (!stage) return;
      const err = new FlintError(
        'JOB_ABORTED',
        `Job aborted: task for partition ${partition} of stage ${stage.id} (${stage.name}) failed ${attempts} times; most recent failure: ${cause.message}`,
        { cause },
      );
      this.abortStage(stage, err);
    },
  };

  /** The launch of one attempt; null when a shuffle input it reads was lost since the stage began. */
  private describe(set: TaskSet, partition: number, attempt: number, taskId: number): TaskLaunch | null {
    const stage = this.bySet.get(set)!;
    const blocks: BlockLocation[] = [];
    for (const [shuffleId, reduceIds] of shuffleReadsFor(stage.rdd, partition)) {
      // Lost since the stage was submitted: the stage is set aside by executorLost or fetchFailed
      // and resubmitted once the parent has recomputed; launching now could only fail.
      if (!this.tracker.isAvailable(shuffleId)) return null;
      for (const reduceId of reduceIds) blocks.push(...this.tracker.locations(shuffleId, reduceId));
    }
    const plan = stage.plan!;
    const output: TaskOutput = stage instanceof ShuffleMapStage ? { kind: 'shuffle' } : (stage as ResultStage).job.handler.output(partition, attempt);
    const task: TaskDescriptor = {
      taskId,
      stageKey: plan.stageKey,
      stageId: stage.id,
      stageAttempt: set.stageAttempt,
      partition,
      attempt,
      output,
      slices: slicesFor(stage.rdd, partition),
      blocks,
    };
    return { stage: plan, task };
  }

  private taskSucceeded(set: TaskSet, partition: number, attempt: number, executorId: string, result: TaskSuccess): void {
    const stage = this.bySet.get(set);
    if (!stage) return;
    const executorAlive = !!this.registry.get(executorId);
    if (executorAlive) {
      for (const b of result.blocksAdded) {
        this.registry.addBlock(b.blockId, executorId);
        this.bus.emit({ type: 'blockUpdated', time: this.clock.now(), executorId, blockId: b.blockId, bytes: b.bytes, removed: false });
      }
    }
    // A copy from an earlier attempt of the stage finished: the current attempt need not run it
    // (Spark's markPartitionCompletedInAllTaskSets).
    const current = stage.taskSet;
    if (current && current !== set && this.running.has(stage) && (stage instanceof ResultStage || executorAlive)) {
      this.tasks.markCompleted(current, partition);
    }
    if (stage instanceof ShuffleMapStage) {
      if (executorAlive) this.tracker.registerMapOutput(stage.dep.shuffleId, partition, executorId, result.mapSizes ?? [], result.digest);
      if (current && this.running.has(stage) && current.isDone) {
        this.finishStage(stage, true);
        if (!this.isAvailable(stage)) this.submitStage(stage); // outputs lost while it ran
        else this.submitWaitingChildren();
      }
    } else if (stage instanceof ResultStage) {
      const job = stage.job;
      if (job.done || job.finished.has(partition)) return;
      job.finished.add(partition);
      try {
        job.handler.taskSucceeded(partition, attempt, result);
      } catch (err) {
        this.failJob(job, err as Error);
        return;
      }
      if (job.finished.size === job.partitions.length) {
        this.finishStage(stage, true);
        this.finishJob(job);
      }
    }
  }

  /**
   * A reducer could not fetch from an executor: every output that executor holds is presumed lost
   * with it (Spark's unRegisterOutputOnHost), so one failure resubmits the map stage once for all
   * of them instead of one fetch failure per block.
   */
  private fetchFailed(set: TaskSet, failure: { shuffleId: number; mapId: number; executorId: string }): void {
    const stage = this.bySet.get(set);
    if (!stage) return;
    const affected = new Set(this.tracker.removeOutputsOnExecutor(failure.executorId));
    this.tracker.unregisterMapOutput(failure.shuffleId, failure.mapId, failure.executorId);
    affected.add(failure.shuffleId);
    if (this.running.has(stage) && set === stage.taskSet) {
      stage.failedAttempts++;
      this.finishStage(stage, false, `fetch failure from executor ${failure.executorId}`);
      if (stage.failedAttempts >= this.config.maxStageAttempts) {
        this.abortStage(
          stage,
          new FlintError('JOB_ABORTED', `Job aborted: stage ${stage.id} (${stage.name}) failed ${stage.failedAttempts} times because shuffle input kept getting lost`),
        );
        return;
      }
      this.waiting.add(stage);
    }
    this.outputsLost(affected, `executor ${failure.executorId} could not be fetched from`);
    this.scheduleResubmit();
  }

  /** Fetch failures come in bursts; resubmit once they have arrived (Spark waits 200 ms). */
  private scheduleResubmit(): void {
    if (this.resubmitTimer) return;
    this.resubmitTimer = this.clock.setTimeout(() => {
      this.resubmitTimer = null;
      for (const s of [...this.waiting]) this.submitStage(s);
    }, 50);
  }

  executorLost(executorId: string): void {
    const affected = new Set(this.tracker.removeOutputsOnExecutor(executorId));
    if (affected.size === 0) return;
    this.outputsLost(affected, `executor ${executorId} lost shuffle output this stage reads`);
    for (const s of [...this.waiting]) this.submitStage(s);
    this.tasks.dispatch();
  }

  /** Running map stages redo the lost partitions they had finished; readers of lost output wait. */
  private outputsLost(affected: Set<number>, why: string): void {
    for (const stage of [...this.running]) {
      if (stage instanceof ShuffleMapStage && affected.has(stage.dep.shuffleId) && stage.taskSet) {
        for (const p of this.tracker.missingMaps(stage.dep.shuffleId)) {
          if (stage.taskSet.succeeded.delete(p)) {
            stage.taskSet.partitions.add(p);
            stage.taskSet.enqueue(p);
          }
        }
      }
      if (stage.parents.some((p) => affected.has(p.dep.shuffleId) && !this.isAvailable(p))) {
        this.finishStage(stage, false, why);
        this.waiting.add(stage);
      }
    }
  }

  private submitWaitingChildren(): void {
    for (const stage of [...this.waiting]) {
      if (stage.parents.every((p) => this.isAvailable(p))) {
        this.waiting.delete(stage);
        this.submitMissingTasks(stage);
      }
    }
  }

  private finishStage(stage: Stage, succeeded: boolean, error?: string, killRunning = false): void {
    if (!this.running.delete(stage)) return;
    if (stage.taskSet) this.tasks.retire(stage.taskSet, killRunning);
    if (stage.plan) this.config.stageFinished(stage.plan.stageKey);
    this.bus.emit({ type: 'stageCompleted', time: this.clock.now(), stageId: stage.id, attempt: stage.attempt, succeeded, error });
  }

  private abortStage(stage: Stage, err: Error): void {
    this.finishStage(stage, false, err.message, true);
    this.waiting.delete(stage);
    const jobs = new Set<Job>();
    const visit = (s: Stage) => {
      if (s instanceof ResultStage && !s.job.done) jobs.add(s.job);
    };
    for (const s of [stage, ...this.running, ...this.waiting]) visit(s);
    for (const job of jobs) {
      if (stage.jobIds.has(job.id)) this.failJob(job, err);
    }
  }

  private failJob(job: Job, err: Error): void {
    if (job.done) return;
    job.done = true;
    // A missing capability is the whole story; anything else is wrapped with what the job was.
    const error =
      err instanceof FlintError && (err.code === 'JOB_ABORTED' || err.code === 'CAPABILITY_MISSING')
        ? err
        : new FlintError('JOB_ABORTED', `Job aborted: ${err.message}`, { cause: err });
    this.cleanupJob(job);
    this.bus.emit({ type: 'jobEnd', time: this.clock.now(), jobId: job.id, succeeded: false, error: error.message });
    job.reject(error);
  }

  private finishJob(job: Job): void {
    if (job.done) return;
    job.done = true;
    this.cleanupJob(job);
    this.bus.emit({ type: 'jobEnd', time: this.clock.now(), jobId: job.id, succeeded: true });
    job.resolve();
  }

  /**
   * Stages that only this job needed stop running, and their tasks are killed; shared shuffle
   * stages keep going. Stages no job needs are forgotten (their shuffle output stays in the
   * tracker), so the scheduler holds no reference that would keep a user's RDD alive.
   */
  private cleanupJob(job: Job): void {
    for (const stage of [...this.running, ...this.waiting]) {
      stage.jobIds.delete(job.id);
      if (stage.jobIds.size > 0) continue;
      this.finishStage(stage, false, 'job ended', true);
      this.waiting.delete(stage);
    }
    for (const [shuffleId, stage] of this.shuffleStages) {
      stage.jobIds.delete(job.id);
      if (stage.jobIds.size === 0 && !this.running.has(stage) && !this.waiting.has(stage)) this.shuffleStages.delete(shuffleId);
    }
  }

  /** Forgets a shuffle (its RDD is gone); executors drop the blocks separately. */
  removeShuffle(shuffleId: number): void {
    this.shuffleStages.delete(shuffleId);
    this.tracker.unregisterShuffle(shuffleId);
  }

  /** Fails every job that has not finished (the context stops, or executors cannot come back). */
  failAllJobs(error: Error): void {
    for (const stage of [...this.running, ...this.waiting]) {
      if (stage instanceof ResultStage) this.failJob(stage.job, error);
    }
  }

  stop(): void {
    if (this.resubmitTimer) this.clock.clearTimeout(this.resubmitTimer);
    this.failAllJobs(new FlintError('CONTEXT_STOPPED', 'the Flint context was stopped while the job ran'));
  }
}
