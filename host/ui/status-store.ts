/**
 * One application's state as the UI shows it (Spark's AppStatusStore with its listener): jobs,
 * stage attempts, tasks, executors, cached RDDs, built by applying Spark-format events one at a
 * time. The same class follows a live driver (events from its bus), a coordinator's application
 * (events its driver pushes) and a finished one (`flint history` reading its log).
 *
 * Applying an event is O(1) and allocation-light, because live events are applied in the driver's
 * thread and replaying a 100,000-task log must take well under two seconds; anything costlier
 * (quantiles, sorted task lists, timelines) is computed when asked and cached per stage version.
 */
import type { SparkEvent, SparkRddInfo, SparkStageInfo, SparkStorageLevel, SparkTaskInfo, SparkTaskMetrics } from './spark-events.js';
import type { ExecutorKind, JobStatus, StageStatus, TaskStatus } from './types.js';

export interface TaskRec {
  taskId: number;
  partition: number;
  attempt: number;
  stageId: number;
  stageAttempt: number;
  launch: number;
  /** -1 while running. */
  finish: number;
  executorId: string;
  host: string;
  /** Its row in its executor's lane on the timeline: the first row free when it launched. */
  row: number;
  status: TaskStatus;
  speculative: boolean;
  error: string | null;
  hasMetrics: boolean;
  runTime: number;
  queued: number;
  fetchWait: number;
  shuffleWriteMs: number;
  resultSer: number;
  resultSize: number;
  inputRecords: number;
  outputRecords: number;
  readBytes: number;
  remoteBytes: number;
  readRecords: number;
  writeBytes: number;
  writeRecords: number;
  operators: string[] | null;
  memorySpilled: number;
  diskSpilled: number;
  peakMemory: number;
}

export interface ExecStageRec {
  taskTime: number;
  failed: number;
  succeeded: number;
  killed: number;
  shuffleRead: number;
  shuffleReadRecords: number;
  shuffleWrite: number;
  shuffleWriteRecords: number;
  inputRecords: number;
  outputRecords: number;
}

export interface StageRec {
  stageId: number;
  attemptId: number;
  name: string;
  kind: 'shuffleMap' | 'result';
  numTasks: number;
  status: StageStatus;
  submissionTime: number | null;
  completionTime: number | null;
  firstTaskLaunchedTime: number | null;
  failureReason: string | null;
  tasks: TaskRec[];
  byId: Map<number, TaskRec>;
  active: number;
  complete: number;
  failed: number;
  killed: number;
  completedIndices: Set<number>;
  runTime: number;
  /** Sum over tasks of the time outside their run (transport, the executor's queue). */
  schedulerDelay: number;
  resultSize: number;
  resultSer: number;
  inputRecords: number;
  outputRecords: number;
  fetchWait: number;
  remoteBytes: number;
  readBytes: number;
  readRecords: number;
  writeBytes: number;
  writeTimeNs: number;
  writeRecords: number;
  executors: Map<string, ExecStageRec>;
  /**
   * Timeline lanes in order of first use, and per lane the task running in each row (-1: free).
   * Rows are assigned as tasks launch, which is exact: every task that ended before a launch has
   * already reported its end, so no later event can change an assignment.
   */
  lanes: string[];
  laneRows: Map<string, number[]>;
  /** Bumped on every change: caches of summaries and timelines compare it. */
  version: number;
}

export interface StageInfoRec {
  stageId: number;
  name: string;
  kind: 'shuffleMap' | 'result';
  numTasks: number;
  parentIds: number[];
  rdds: SparkRddInfo[];
  details: string;
  jobIds: Set<number>;
  /** Attempts, oldest first. */
  attempts: number[];
}

export interface JobRec {
  jobId: number;
  name: string;
  submissionTime: number;
  completionTime: number | null;
  stageIds: number[];
  status: JobStatus;
  failureReason: string | null;
  /** Stages this job did not have to run (their output existed). */
  skipped: Set<number>;
  /** Stages submitted while the job ran. */
  submitted: Set<number>;
}

export interface ExecutorRec {
  id: string;
  host: string;
  cores: number;
  kind: ExecutorKind;
  capabilities: string[];
  memoryMb: number | null;
  addTime: number;
  removeTime: number | null;
  removeReason: string | null;
  active: number;
  completed: number;
  failed: number;
  killed: number;
  totalDuration: number;
  inputRecords: number;
  shuffleRead: number;
  shuffleWrite: number;
  excludedUntil: number;
  draining: boolean;
  /** What it did with its shuffle outputs when it left on purpose. */
  handedOn: ShuffleHandOff | null;
  verified: number;
  disputed: number;
  /** Cached blocks held: id → bytes. */
  blocks: Map<string, number>;
}

export interface RddRec {
  id: number;
  name: string;
  callSite: string;
  numPartitions: number;
  storageLevel: SparkStorageLevel;
  /** blockId → executorId → bytes. */
  blocks: Map<string, Map<string, number>>;
}

export interface AppRec {
  id: string;
  name: string;
  user: string;
  master: string;
  startTime: number;
  endTime: number | null;
  /** Time of the last event applied: "now" for an application whose log ends without an end. */
  lastUpdated: number;
}

/** What changed since the last `takeChanges`, for the live stream. */
export interface StoreChanges {
  stages: Set<number>;
  any: boolean;
}

/** A growable series of (time, value) samples. */
/** A leaving executor's shuffle outputs: how many went to which executor, how many were lost. */
export interface ShuffleHandOff {
  toExecutorId: string | null;
  outputs: number;
  bytes: number;
  lost: number;
  reason?: string;
}

export class Series {
  times = new Float64Array(256);
  values = new Float64Array(256);
  length = 0;
  push(time: number, value: number): void {
    if (this.length > 0 && this.times[this.length - 1] === time) {
      this.values[this.length - 1] = value;
      return;
    }
    if (this.length === this.times.length) {
      const t = new Float64Array(this.length * 2);
      t.set(this.times);
      this.times = t;
      const v = new Float64Array(this.length * 2);
      v.set(this.values);
      this.values = v;
    }
    this.times[this.length] = time;
    this.values[this.length] = value;
    this.length++;
  }
}

const stageKey = (stageId: number, attempt: number) => `${stageId}.${attempt}`;

function describeStorage(level: SparkStorageLevel): string {
  const parts = [level['Use Disk'] ? 'Disk' : '', level['Use Memory'] ? 'Memory' : '', level.Deserialized ? 'Deserialized' : ''].filter(Boolean).join(' ');
  return `${parts || 'None'} ${level.Replication}x Replicated`;
}

export { describeStorage, stageKey };

/** A stage attempt before anything ran: also what the REST API shows for a pending or skipped stage. */
export function emptyStage(stageId: number, attemptId: number, name: string, kind: 'shuffleMap' | 'result', numTasks: number): StageRec {
  return {
    stageId,
    attemptId,
    name,
    kind,
    numTasks,
    status: 'PENDING',
    submissionTime: null,
    completionTime: null,
    firstTaskLaunchedTime: null,
    failureReason: null,
    tasks: [],
    byId: new Map(),
    active: 0,
    complete: 0,
    failed: 0,
    killed: 0,
    completedIndices: new Set(),
    runTime: 0,
    schedulerDelay: 0,
    resultSize: 0,
    resultSer: 0,
    inputRecords: 0,
    outputRecords: 0,
    fetchWait: 0,
    remoteBytes: 0,
    readBytes: 0,
    readRecords: 0,
    writeBytes: 0,
    writeTimeNs: 0,
    writeRecords: 0,
    executors: new Map(),
    lanes: [],
    laneRows: new Map(),
    version: 0,
  };
}

export class AppStatusStore {
  app: AppRec;
  readonly jobs = new Map<number, JobRec>();
  readonly stages = new Map<string, StageRec>();
  readonly stageInfos = new Map<number, StageInfoRec>();
  readonly executors = new Map<string, ExecutorRec>();
  readonly rdds = new Map<number, RddRec>();
  readonly running = new Series();
  readonly cores = new Series();
  private runningTasks = 0;
  private totalCores = 0;
  /** Events applied. */
  seq = 0;
  private changes: StoreChanges = { stages: new Set(), any: false };
  private onDirty: (() => void) | null = null;

  constructor(appId = 'unknown', private readonly clock: () => number = () => Date.now()) {
    this.app = { id: appId, name: appId, user: '', master: '', startTime: 0, endTime: null, lastUpdated: 0 };
  }

  /** Called once when the store goes from unchanged to changed (the live stream schedules a push). */
  setDirtyListener(listener: (() => void) | null): void {
    this.onDirty = listener;
    // Changes made before anyone listened would otherwise keep the store "dirty" and silent.
    if (listener && this.changes.any) listener();
  }

  takeChanges(): StoreChanges {
    const c = this.changes;
    this.changes = { stages: new Set(), any: false };
    return c;
  }

  /** The time that counts as now: the clock while running, the last event for a log that just ends. */
  now(): number {
    if (this.app.endTime !== null) return this.app.endTime;
    return this.live ? this.clock() : this.app.lastUpdated;
  }

  /** False for a store replayed from a log: nothing more will come. */
  live = true;

  private touch(stageId?: number): void {
    const wasClean = !this.changes.any;
    this.changes.any = true;
    if (stageId !== undefined) this.changes.stages.add(stageId);
    if (wasClean) this.onDirty?.();
  }

  apply(e: SparkEvent): void {
    this.seq++;
    switch (e.Event) {
      case 'SparkListenerApplicationStart':
        this.app.id = e['App ID'];
        this.app.name = e['App Name'];
        this.app.user = e.User;
        this.app.master = e['Flint Master'] ?? '';
        this.app.startTime = e.Timestamp;
        this.stamp(e.Timestamp);
        break;
      case 'SparkListenerApplicationEnd':
        this.app.endTime = e.Timestamp;
        this.stamp(e.Timestamp);
        break;
      case 'SparkListenerExecutorAdded': {
        const info = e['Executor Info'];
        const attrs = info.Attributes ?? {};
        const memory = attrs.memoryMb !== undefined ? Number(attrs.memoryMb) : null;
        this.executors.set(e['Executor ID'], {
          id: e['Executor ID'],
          host: info.Host,
          cores: info['Total Cores'],
          kind: (attrs.kind as ExecutorKind | undefined) ?? 'thread',
          capabilities: attrs.capabilities ? attrs.capabilities.split(',').filter(Boolean) : [],
          memoryMb: memory,
          addTime: e.Timestamp,
          removeTime: null,
          removeReason: null,
          active: 0,
          completed: 0,
          failed: 0,
          killed: 0,
          totalDuration: 0,
          inputRecords: 0,
          shuffleRead: 0,
          shuffleWrite: 0,
          excludedUntil: 0,
          draining: false,
          handedOn: null,
          verified: 0,
          disputed: 0,
          blocks: new Map(),
        });
        this.totalCores += info['Total Cores'];
        this.cores.push(e.Timestamp, this.totalCores);
        this.stamp(e.Timestamp);
        break;
      }
      case 'SparkListenerExecutorRemoved': {
        const ex = this.executors.get(e['Executor ID']);
        if (ex && ex.removeTime === null) {
          ex.removeTime = e.Timestamp;
          ex.removeReason = e['Removed Reason'];
          this.totalCores -= ex.cores;
          this.cores.push(e.Timestamp, this.totalCores);
          // Its cached blocks are gone with it.
          for (const blockId of ex.blocks.keys()) this.rddOfBlock(blockId)?.blocks.get(blockId)?.delete(ex.id);
          ex.blocks.clear();
        }
        this.stamp(e.Timestamp);
        break;
      }
      case 'SparkListenerExecutorExcluded': {
        const ex = this.executors.get(e.executorId);
        if (ex) ex.excludedUntil = e['Flint Until'] ?? Number.MAX_SAFE_INTEGER;
        this.stamp(e.time);
        break;
      }
      case 'FlintListenerExecutorDraining': {
        const ex = this.executors.get(e['Executor ID']);
        if (ex) ex.draining = true;
        this.stamp(e.Timestamp);
        break;
      }
      case 'FlintListenerShuffleOutputsHandedOn': {
        const ex = this.executors.get(e['Executor ID']);
        if (ex) ex.handedOn = { toExecutorId: e['To Executor ID'], outputs: e.Outputs, bytes: e.Bytes, lost: e.Lost, ...(e.Reason !== undefined ? { reason: e.Reason } : {}) };
        this.touch();
        this.stamp(e.Timestamp);
        break;
      }
      case 'FlintListenerTaskVerified': {
        const ex = this.executors.get(e['Executor ID']);
        if (ex) {
          if (e.Agreed) ex.verified++;
          else ex.disputed++;
        }
        this.stamp(e.Timestamp);
        break;
      }
      case 'SparkListenerJobStart':
        this.jobStart(e);
        break;
      case 'SparkListenerJobEnd':
        this.jobEnd(e);
        break;
      case 'SparkListenerStageSubmitted':
        this.stageSubmitted(e['Stage Info']);
        break;
      case 'SparkListenerStageCompleted':
        this.stageCompleted(e['Stage Info']);
        break;
      case 'FlintListenerStageSkipped': {
        this.jobs.get(e['Job ID'])?.skipped.add(e['Stage ID']);
        this.stamp(e.Timestamp, e['Stage ID']);
        break;
      }
      case 'SparkListenerTaskStart':
        this.taskStart(e['Stage ID'], e['Stage Attempt ID'], e['Task Info']);
        break;
      case 'SparkListenerTaskEnd':
        this.taskEnd(e['Stage ID'], e['Stage Attempt ID'], e['Task Info'], e['Task End Reason'], e['Task Metrics']);
        break;
      case 'SparkListenerBlockUpdated':
        this.blockUpdated(e['Block Updated Info']);
        break;
      default:
        // Events of other versions or of Spark itself: ignored, as Spark's replay does.
        return;
    }
  }

  private stamp(time: number, stageId?: number): void {
    if (time > this.app.lastUpdated) this.app.lastUpdated = time;
    this.touch(stageId);
  }

  private stageInfo(info: SparkStageInfo): StageInfoRec {
    const id = info['Stage ID'];
    let rec = this.stageInfos.get(id);
    if (!rec) {
      rec = {
        stageId: id,
        name: info['Stage Name'],
        kind: info['Flint Stage Kind'] ?? 'result',
        numTasks: info['Number of Tasks'],
        parentIds: info['Parent IDs'] ?? [],
        rdds: info['RDD Info'] ?? [],
        details: info.Details ?? '',
        jobIds: new Set(),
        attempts: [],
      };
      this.stageInfos.set(id, rec);
      for (const r of rec.rdds) this.registerRdd(r);
    } else if (rec.rdds.length === 0 && (info['RDD Info']?.length ?? 0) > 0) {
      rec.rdds = info['RDD Info'];
      for (const r of rec.rdds) this.registerRdd(r);
    }
    return rec;
  }

  private registerRdd(r: SparkRddInfo): void {
    const level = r['Storage Level'];
    if (!level || (!level['Use Memory'] && !level['Use Disk'])) return;
    const known = this.rdds.get(r['RDD ID']);
    if (known) {
      known.storageLevel = level;
      return;
    }
    this.rdds.set(r['RDD ID'], { id: r['RDD ID'], name: r.Name, callSite: r.Callsite, numPartitions: r['Number of Partitions'], storageLevel: level, blocks: new Map() });
  }

  private jobStart(e: Extract<SparkEvent, { Event: 'SparkListenerJobStart' }>): void {
    const jobId = e['Job ID'];
    for (const info of e['Stage Infos']) this.stageInfo(info).jobIds.add(jobId);
    this.jobs.set(jobId, {
      jobId,
      name: e.Properties?.['callSite.short'] ?? e['Stage Infos'].find((s) => s['Stage ID'] === Math.max(...e['Stage IDs']))?.['Stage Name'] ?? `job ${jobId}`,
      submissionTime: e['Submission Time'],
      completionTime: null,
      stageIds: e['Stage IDs'],
      status: 'RUNNING',
      failureReason: null,
      skipped: new Set(),
      submitted: new Set(),
    });
    this.stamp(e['Submission Time']);
  }

  private jobEnd(e: Extract<SparkEvent, { Event: 'SparkListenerJobEnd' }>): void {
    const job = this.jobs.get(e['Job ID']);
    if (job) {
      job.completionTime = e['Completion Time'];
      const result = e['Job Result'];
      job.status = result.Result === 'JobSucceeded' ? 'SUCCEEDED' : 'FAILED';
      if (result.Result === 'JobFailed') job.failureReason = result.Exception?.Message ?? 'failed';
      // As in Spark: stages of the job that never ran while it did were skipped.
      for (const id of job.stageIds) if (!job.submitted.has(id)) job.skipped.add(id);
    }
    this.stamp(e['Completion Time']);
  }

  private attemptOf(info: SparkStageInfo): StageRec {
    const id = info['Stage ID'];
    const attempt = info['Stage Attempt ID'];
    const key = stageKey(id, attempt);
    let rec = this.stages.get(key);
    if (!rec) {
      const si = this.stageInfo(info);
      rec = emptyStage(id, attempt, info['Stage Name'] || si.name, info['Flint Stage Kind'] ?? si.kind, info['Number of Tasks']);
      this.stages.set(key, rec);
      if (!si.attempts.includes(attempt)) si.attempts.push(attempt);
    }
    return rec;
  }

  private stageSubmitted(info: SparkStageInfo): void {
    const rec = this.attemptOf(info);
    rec.status = 'ACTIVE';
    rec.numTasks = info['Number of Tasks'];
    rec.submissionTime = info['Submission Time'] ?? null;
    rec.version++;
    for (const jobId of this.stageInfos.get(rec.stageId)?.jobIds ?? []) {
      const job = this.jobs.get(jobId);
      if (job && job.status === 'RUNNING') job.submitted.add(rec.stageId);
    }
    this.stamp(rec.submissionTime ?? this.app.lastUpdated, rec.stageId);
  }

  private stageCompleted(info: SparkStageInfo): void {
    const rec = this.attemptOf(info);
    rec.completionTime = info['Completion Time'] ?? null;
    rec.status = info['Failure Reason'] === undefined ? 'COMPLETE' : 'FAILED';
    if (info['Failure Reason'] !== undefined) rec.failureReason = info['Failure Reason'];
    if (rec.submissionTime === null && info['Submission Time'] !== undefined) rec.submissionTime = info['Submission Time'];
    rec.version++;
    this.stamp(rec.completionTime ?? this.app.lastUpdated, rec.stageId);
  }

  private stageFor(stageId: number, attempt: number): StageRec {
    const rec = this.stages.get(stageKey(stageId, attempt));
    if (rec) return rec;
    const si = this.stageInfos.get(stageId);
    return this.attemptOf({
      'Stage ID': stageId,
      'Stage Attempt ID': attempt,
      'Stage Name': si?.name ?? '',
      'Number of Tasks': si?.numTasks ?? 0,
      'RDD Info': [],
      'Parent IDs': si?.parentIds ?? [],
      Details: '',
      'Flint Stage Kind': si?.kind ?? 'result',
    });
  }

  private taskStart(stageId: number, attempt: number, info: SparkTaskInfo): void {
    const stage = this.stageFor(stageId, attempt);
    if (stage.status === 'PENDING') stage.status = 'ACTIVE';
    const t: TaskRec = {
      taskId: info['Task ID'],
      partition: info.Index,
      attempt: info.Attempt,
      stageId,
      stageAttempt: attempt,
      launch: info['Launch Time'],
      finish: -1,
      executorId: info['Executor ID'],
      host: info.Host,
      row: 0,
      status: 'RUNNING',
      speculative: info.Speculative,
      error: null,
      hasMetrics: false,
      runTime: 0,
      queued: 0,
      fetchWait: 0,
      shuffleWriteMs: 0,
      resultSer: 0,
      resultSize: 0,
      inputRecords: 0,
      outputRecords: 0,
      readBytes: 0,
      remoteBytes: 0,
      readRecords: 0,
      writeBytes: 0,
      writeRecords: 0,
      operators: null,
      memorySpilled: 0,
      diskSpilled: 0,
      peakMemory: 0,
    };
    let rows = stage.laneRows.get(t.executorId);
    if (!rows) {
      stage.laneRows.set(t.executorId, (rows = []));
      stage.lanes.push(t.executorId);
    }
    let row = rows.indexOf(-1);
    if (row < 0) row = rows.push(-1) - 1;
    rows[row] = t.taskId;
    t.row = row;
    stage.tasks.push(t);
    stage.byId.set(t.taskId, t);
    stage.active++;
    if (stage.firstTaskLaunchedTime === null) stage.firstTaskLaunchedTime = t.launch;
    stage.version++;
    const ex = this.executors.get(t.executorId);
    if (ex) ex.active++;
    this.runningTasks++;
    this.running.push(t.launch, this.runningTasks);
    this.stamp(t.launch, stageId);
  }

  private taskEnd(
    stageId: number,
    attempt: number,
    info: SparkTaskInfo,
    reason: { Reason: string; Description?: string; 'Kill Reason'?: string; 'Loss Reason'?: string },
    m: SparkTaskMetrics | undefined,
  ): void {
    const stage = this.stageFor(stageId, attempt);
    let t = stage.byId.get(info['Task ID']);
    const wasRunning = t !== undefined && t.status === 'RUNNING';
    if (!t) {
      // A log that starts mid-application, or a start lost with a crashed writer: keep the end.
      this.taskStart(stageId, attempt, info);
      t = stage.byId.get(info['Task ID'])!;
    }
    if (wasRunning || t.status === 'RUNNING') {
      const rows = stage.laneRows.get(t.executorId);
      if (rows && rows[t.row] === t.taskId) rows[t.row] = -1;
      stage.active--;
      this.runningTasks--;
      const ex = this.executors.get(t.executorId);
      if (ex) ex.active--;
    }
    t.finish = info['Finish Time'] || t.launch;
    t.status = reason.Reason === 'Success' ? 'SUCCESS' : reason.Reason === 'TaskKilled' ? 'KILLED' : 'FAILED';
    if (t.status !== 'SUCCESS') t.error = reason.Description ?? reason['Kill Reason'] ?? reason['Loss Reason'] ?? reason.Reason;
    if (m) {
      t.hasMetrics = true;
      t.runTime = m['Executor Run Time'];
      t.queued = m['Flint Queued Time'] ?? 0;
      t.resultSer = m['Result Serialization Time'];
      t.resultSize = m['Result Size'];
      const r = m['Shuffle Read Metrics'];
      const w = m['Shuffle Write Metrics'];
      t.fetchWait = r['Fetch Wait Time'];
      t.remoteBytes = r['Remote Bytes Read'];
      t.readBytes = r['Remote Bytes Read'] + r['Local Bytes Read'];
      t.readRecords = r['Total Records Read'];
      t.writeBytes = w['Shuffle Bytes Written'];
      t.shuffleWriteMs = w['Shuffle Write Time'] / 1e6;
      t.writeRecords = w['Shuffle Records Written'];
      t.inputRecords = m['Input Metrics']['Records Read'];
      t.outputRecords = m['Output Metrics']['Records Written'];
      t.operators = m['Flint Operators'] ?? null;
      t.memorySpilled = m['Memory Bytes Spilled'] ?? 0;
      t.diskSpilled = m['Disk Bytes Spilled'] ?? 0;
      t.peakMemory = m['Peak Execution Memory'] ?? 0;
    }
    const ex = this.executors.get(t.executorId);
    const duration = t.finish - t.launch;
    let es = stage.executors.get(t.executorId);
    if (!es) {
      es = { taskTime: 0, failed: 0, succeeded: 0, killed: 0, shuffleRead: 0, shuffleReadRecords: 0, shuffleWrite: 0, shuffleWriteRecords: 0, inputRecords: 0, outputRecords: 0 };
      stage.executors.set(t.executorId, es);
    }
    es.taskTime += duration;
    if (t.status === 'SUCCESS') {
      stage.complete++;
      stage.completedIndices.add(t.partition);
      es.succeeded++;
      if (ex) ex.completed++;
    } else if (t.status === 'KILLED') {
      stage.killed++;
      es.killed++;
      if (ex) ex.killed++;
    } else {
      stage.failed++;
      es.failed++;
      if (ex) ex.failed++;
    }
    if (m) {
      stage.runTime += t.runTime;
      stage.schedulerDelay += Math.max(0, duration - t.runTime);
      stage.resultSize += t.resultSize;
      stage.resultSer += t.resultSer;
      stage.inputRecords += t.inputRecords;
      stage.outputRecords += t.outputRecords;
      stage.fetchWait += t.fetchWait;
      stage.remoteBytes += t.remoteBytes;
      stage.readBytes += t.readBytes;
      stage.readRecords += t.readRecords;
      stage.writeBytes += t.writeBytes;
      stage.writeTimeNs += m['Shuffle Write Metrics']['Shuffle Write Time'];
      stage.writeRecords += t.writeRecords;
      es.shuffleRead += t.readBytes;
      es.shuffleReadRecords += t.readRecords;
      es.shuffleWrite += t.writeBytes;
      es.shuffleWriteRecords += t.writeRecords;
      es.inputRecords += t.inputRecords;
      es.outputRecords += t.outputRecords;
      if (ex) {
        ex.inputRecords += t.inputRecords;
        ex.shuffleRead += t.readBytes;
        ex.shuffleWrite += t.writeBytes;
      }
    }
    if (ex) ex.totalDuration += duration;
    stage.version++;
    this.running.push(t.finish, this.runningTasks);
    this.stamp(t.finish, stageId);
  }

  private rddOfBlock(blockId: string): RddRec | undefined {
    const m = /^rdd_(\d+)_\d+$/.exec(blockId);
    return m ? this.rdds.get(Number(m[1])) : undefined;
  }

  private blockUpdated(info: Extract<SparkEvent, { Event: 'SparkListenerBlockUpdated' }>['Block Updated Info']): void {
    const executorId = info['Block Manager ID']['Executor ID'];
    const blockId = info['Block ID'];
    const level = info['Storage Level'];
    const removed = !level['Use Memory'] && !level['Use Disk'];
    const ex = this.executors.get(executorId);
    const rdd = this.rddOfBlock(blockId);
    if (removed) {
      ex?.blocks.delete(blockId);
      rdd?.blocks.get(blockId)?.delete(executorId);
      if (rdd?.blocks.get(blockId)?.size === 0) rdd.blocks.delete(blockId);
    } else {
      const bytes = info['Memory Size'] + info['Disk Size'];
      ex?.blocks.set(blockId, bytes);
      if (rdd) {
        let holders = rdd.blocks.get(blockId);
        if (!holders) rdd.blocks.set(blockId, (holders = new Map()));
        holders.set(executorId, bytes);
      }
    }
    this.touch();
  }
}
