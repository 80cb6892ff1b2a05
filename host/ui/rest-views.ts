/**
 * The store's state in the REST API's shapes (Spark's monitoring API v1). Pure functions of a
 * store; what is costly for large stages (quantiles, sorted task lists) is cached per stage version.
 */
import { quantilesInPlace } from './quantiles.js';
import { describeStorage, emptyStage, stageKey, type AppStatusStore, type ExecutorRec, type JobRec, type StageRec, type TaskRec } from './status-store.js';
import type {
  ApplicationInfo,
  ExecutorStageSummary,
  ExecutorSummary,
  JobData,
  RDDStorageInfo,
  StageData,
  StageStatus,
  TaskData,
  TaskMetricDistributions,
  TaskMetricsData,
} from './types.js';

export function applicationInfo(store: AppStatusStore): ApplicationInfo {
  const a = store.app;
  const end = a.endTime;
  return {
    id: a.id,
    name: a.name,
    master: a.master,
    attempts: [
      {
        startTime: a.startTime,
        endTime: end ?? -1,
        lastUpdated: a.lastUpdated,
        duration: (end ?? store.now()) - a.startTime,
        sparkUser: a.user,
        // A log without an end is an application that died or still runs elsewhere: incomplete.
        completed: end !== null,
      },
    ],
  };
}

/** A stage's status for one job: skipped for this job even if another job ran it. */
function stageStatusOf(store: AppStatusStore, stageId: number): StageStatus {
  const info = store.stageInfos.get(stageId);
  const latest = info && info.attempts.length > 0 ? store.stages.get(stageKey(stageId, info.attempts[info.attempts.length - 1]!)) : undefined;
  if (latest && latest.status !== 'PENDING') return latest.status;
  const jobs = [...(info?.jobIds ?? [])].map((id) => store.jobs.get(id)).filter((j): j is JobRec => !!j);
  if (jobs.some((j) => j.status === 'RUNNING' && !j.skipped.has(stageId))) return 'PENDING';
  return jobs.length > 0 ? 'SKIPPED' : 'PENDING';
}

export { stageStatusOf };

export function jobData(store: AppStatusStore, job: JobRec): JobData {
  let numTasks = 0;
  let active = 0;
  let completed = 0;
  let failed = 0;
  let killed = 0;
  let skippedTasks = 0;
  let completedIndices = 0;
  let activeStages = 0;
  let completedStages = 0;
  let failedStages = 0;
  for (const id of job.stageIds) {
    const info = store.stageInfos.get(id);
    const skipped = job.skipped.has(id);
    const taskCount = info?.numTasks ?? 0;
    numTasks += taskCount;
    if (skipped) {
      skippedTasks += taskCount;
      continue;
    }
    const indices = new Set<number>();
    let anyActive = false;
    let lastStatus: StageStatus | null = null;
    for (const attempt of info?.attempts ?? []) {
      const s = store.stages.get(stageKey(id, attempt));
      if (!s) continue;
      active += s.active;
      completed += s.complete;
      failed += s.failed;
      killed += s.killed;
      for (const i of s.completedIndices) indices.add(i);
      if (s.status === 'ACTIVE') anyActive = true;
      lastStatus = s.status;
    }
    completedIndices += Math.min(indices.size, taskCount);
    if (anyActive) activeStages++;
    else if (lastStatus === 'COMPLETE') completedStages++;
    else if (lastStatus === 'FAILED') failedStages++;
  }
  const out: JobData = {
    jobId: job.jobId,
    name: job.name,
    description: job.name,
    submissionTime: job.submissionTime,
    completionTime: job.completionTime,
    stageIds: job.stageIds,
    status: job.status,
    numTasks,
    numActiveTasks: active,
    numCompletedTasks: completed,
    numSkippedTasks: skippedTasks,
    numFailedTasks: failed,
    numKilledTasks: killed,
    numCompletedIndices: completedIndices,
    numActiveStages: activeStages,
    numCompletedStages: completedStages,
    numSkippedStages: job.skipped.size,
    numFailedStages: failedStages,
  };
  if (job.failureReason) out.failureReason = job.failureReason;
  return out;
}

export function jobsData(store: AppStatusStore, statuses: string[] = []): JobData[] {
  const jobs = [...store.jobs.values()].filter((j) => statuses.length === 0 || statuses.includes(j.status));
  // Newest first, as Spark lists them.
  return jobs.sort((a, b) => b.jobId - a.jobId).map((j) => jobData(store, j));
}

function jobIdsOf(store: AppStatusStore, stageId: number): number[] {
  return [...(store.stageInfos.get(stageId)?.jobIds ?? [])].sort((a, b) => a - b);
}

/** `details`: every task and the per-executor summary, as Spark's; `executors`: the summary alone. */
export function stageData(store: AppStatusStore, s: StageRec, details = false, executors = details): StageData {
  const info = store.stageInfos.get(s.stageId);
  const out: StageData = {
    status: s.status,
    stageId: s.stageId,
    attemptId: s.attemptId,
    name: s.name,
    details: info?.details ?? '',
    numTasks: s.numTasks,
    numActiveTasks: s.active,
    numCompleteTasks: s.complete,
    numFailedTasks: s.failed,
    numKilledTasks: s.killed,
    numCompletedIndices: s.completedIndices.size,
    submissionTime: s.submissionTime,
    firstTaskLaunchedTime: s.firstTaskLaunchedTime,
    completionTime: s.completionTime,
    executorRunTime: round(s.runTime),
    schedulerDelay: round(s.schedulerDelay),
    resultSize: s.resultSize,
    resultSerializationTime: round(s.resultSer),
    inputBytes: 0,
    inputRecords: s.inputRecords,
    outputBytes: 0,
    outputRecords: s.outputRecords,
    shuffleFetchWaitTime: round(s.fetchWait),
    shuffleRemoteBytesRead: s.remoteBytes,
    shuffleLocalBytesRead: s.readBytes - s.remoteBytes,
    shuffleReadBytes: s.readBytes,
    shuffleReadRecords: s.readRecords,
    shuffleWriteBytes: s.writeBytes,
    shuffleWriteTime: s.writeTimeNs,
    shuffleWriteRecords: s.writeRecords,
    rddIds: info?.rdds.map((r) => r['RDD ID']) ?? [],
    parentIds: info?.parentIds ?? [],
    jobIds: jobIdsOf(store, s.stageId),
    kind: s.kind,
  };
  if (s.failureReason !== null) out.failureReason = s.failureReason;
  if (details) {
    const tasks: Record<string, TaskData> = {};
    for (const t of s.tasks) tasks[String(t.taskId)] = taskData(store, t);
    out.tasks = tasks;
  }
  if (executors) {
    const summary: Record<string, ExecutorStageSummary> = {};
    for (const [id, e] of s.executors) {
      const ex = store.executors.get(id);
      summary[id] = {
        taskTime: round(e.taskTime),
        failedTasks: e.failed,
        succeededTasks: e.succeeded,
        killedTasks: e.killed,
        shuffleRead: e.shuffleRead,
        shuffleReadRecords: e.shuffleReadRecords,
        shuffleWrite: e.shuffleWrite,
        shuffleWriteRecords: e.shuffleWriteRecords,
        inputBytes: 0,
        inputRecords: e.inputRecords,
        outputRecords: e.outputRecords,
        isExcludedForStage: !!ex && ex.excludedUntil > store.now(),
      };
    }
    out.executorSummary = summary;
  }
  return out;
}

/** Every stage attempt, and a PENDING or SKIPPED entry for stages that never ran (as Spark lists them). */
export function stagesData(store: AppStatusStore, statuses: string[] = []): StageData[] {
  const out: StageData[] = [];
  for (const s of store.stages.values()) out.push(stageData(store, s));
  for (const info of store.stageInfos.values()) {
    if (info.attempts.length > 0) continue;
    const status = stageStatusOf(store, info.stageId);
    out.push({
      ...stageData(store, emptyStage(info.stageId, 0, info.name, info.kind, info.numTasks)),
      status,
    });
  }
  const filtered = statuses.length === 0 ? out : out.filter((s) => statuses.includes(s.status));
  // Newest first, as Spark lists them.
  return filtered.sort((a, b) => b.stageId - a.stageId || b.attemptId - a.attemptId);
}

/** The attempts of one stage (a never-run stage as one PENDING or SKIPPED attempt 0). */
export function stageAttempts(store: AppStatusStore, stageId: number, details: boolean): StageData[] | null {
  const info = store.stageInfos.get(stageId);
  if (!info) return null;
  if (info.attempts.length === 0) {
    return [{ ...stageData(store, emptyStage(stageId, 0, info.name, info.kind, info.numTasks), details), status: stageStatusOf(store, stageId) }];
  }
  return info.attempts.map((a) => stageData(store, store.stages.get(stageKey(stageId, a))!, details));
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/** The driver-observed time the task spent outside its run: transport both ways and the executor's queue. */
export function schedulerDelay(t: TaskRec): number {
  if (t.finish < 0 || !t.hasMetrics) return 0;
  return Math.max(0, t.finish - t.launch - t.runTime);
}

export function taskData(store: AppStatusStore, t: TaskRec): TaskData {
  const out: TaskData = {
    taskId: t.taskId,
    index: t.partition,
    attempt: t.attempt,
    partitionId: t.partition,
    launchTime: t.launch,
    duration: t.finish < 0 ? null : t.finish - t.launch,
    executorId: t.executorId,
    host: t.host,
    status: t.status,
    speculative: t.speculative,
    schedulerDelay: round(schedulerDelay(t)),
    gettingResultTime: 0,
  };
  if (t.error !== null) out.errorMessage = t.error;
  if (t.hasMetrics) out.taskMetrics = taskMetrics(t);
  return out;
}

function taskMetrics(t: TaskRec): TaskMetricsData {
  return {
    executorDeserializeTime: 0,
    executorRunTime: t.runTime,
    resultSize: t.resultSize,
    resultSerializationTime: t.resultSer,
    inputMetrics: { bytesRead: 0, recordsRead: t.inputRecords },
    outputMetrics: { bytesWritten: 0, recordsWritten: t.outputRecords },
    shuffleReadMetrics: { fetchWaitTime: t.fetchWait, remoteBytesRead: t.remoteBytes, localBytesRead: t.readBytes - t.remoteBytes, recordsRead: t.readRecords },
    shuffleWriteMetrics: { bytesWritten: t.writeBytes, writeTime: Math.round(t.shuffleWriteMs * 1e6), recordsWritten: t.writeRecords },
    memoryBytesSpilled: t.memorySpilled,
    diskBytesSpilled: t.diskSpilled,
    peakExecutionMemory: t.peakMemory,
    queuedTime: t.queued,
    operators: t.operators ?? [],
  };
}

// ---- task lists (sorted, paged) -----------------------------------------------------------------

/** Spark's taskList sort keys, plus Flint's. A leading '-' sorts descending (as Spark's "-runtime"). */
const SORT_KEYS: Record<string, (t: TaskRec, now: number) => number> = {
  ID: (t) => t.taskId,
  taskId: (t) => t.taskId,
  index: (t) => t.partition,
  runtime: (t) => t.runTime,
  duration: (t, now) => (t.finish < 0 ? now : t.finish) - t.launch,
  launchTime: (t) => t.launch,
  shuffleRead: (t) => t.readBytes,
  shuffleWrite: (t) => t.writeBytes,
  records: (t) => t.inputRecords + t.readRecords,
  fetchWait: (t) => t.fetchWait,
  schedulerDelay: (t) => schedulerDelay(t),
};

const sortCache = new WeakMap<StageRec, Map<string, { version: number; order: TaskRec[] }>>();

export function taskList(
  store: AppStatusStore,
  s: StageRec,
  options: { offset?: number; length?: number; sortBy?: string; status?: string },
): TaskData[] {
  const raw = options.sortBy ?? 'ID';
  const descending = raw.startsWith('-');
  const keyName = descending ? raw.slice(1) : raw;
  const key = SORT_KEYS[keyName] ?? SORT_KEYS.ID!;
  const status = options.status?.toUpperCase();
  const cacheKey = `${raw}|${status ?? ''}`;
  let perStage = sortCache.get(s);
  if (!perStage) sortCache.set(s, (perStage = new Map()));
  let cached = perStage.get(cacheKey);
  if (!cached || cached.version !== s.version) {
    const now = store.now();
    const tasks = status ? s.tasks.filter((t) => t.status === status) : s.tasks.slice();
    const keys = new Map<TaskRec, number>();
    for (const t of tasks) keys.set(t, key(t, now));
    tasks.sort((a, b) => (descending ? keys.get(b)! - keys.get(a)! : keys.get(a)! - keys.get(b)!) || a.taskId - b.taskId);
    cached = { version: s.version, order: tasks };
    perStage.set(cacheKey, cached);
  }
  const offset = Math.max(0, options.offset ?? 0);
  const length = Math.max(0, options.length ?? 20);
  return cached.order.slice(offset, offset + length).map((t) => taskData(store, t));
}

// ---- quantiles ---------------------------------------------------------------------------------

const summaryCache = new WeakMap<StageRec, { version: number; key: string; value: TaskMetricDistributions }>();

/** Spark's taskSummary: quantiles over the successful tasks of a stage attempt. */
export function taskSummary(s: StageRec, quantiles: number[]): TaskMetricDistributions {
  const key = quantiles.join(',');
  const cached = summaryCache.get(s);
  if (cached && cached.version === s.version && cached.key === key) return cached.value;
  const done = s.tasks.filter((t) => t.status === 'SUCCESS' && t.hasMetrics);
  const n = done.length;
  const buf = new Float64Array(n);
  const q = (f: (t: TaskRec) => number) => {
    for (let i = 0; i < n; i++) buf[i] = f(done[i]!);
    return quantilesInPlace(buf, n, quantiles).map(round);
  };
  const value: TaskMetricDistributions = {
    quantiles,
    count: n,
    duration: q((t) => t.finish - t.launch),
    executorRunTime: q((t) => t.runTime),
    schedulerDelay: q(schedulerDelay),
    resultSize: q((t) => t.resultSize),
    resultSerializationTime: q((t) => t.resultSer),
    gettingResultTime: quantiles.map(() => 0),
    queuedTime: q((t) => t.queued),
    inputMetrics: { bytesRead: quantiles.map(() => 0), recordsRead: q((t) => t.inputRecords) },
    outputMetrics: { bytesWritten: quantiles.map(() => 0), recordsWritten: q((t) => t.outputRecords) },
    shuffleReadMetrics: {
      readBytes: q((t) => t.readBytes),
      readRecords: q((t) => t.readRecords),
      fetchWaitTime: q((t) => t.fetchWait),
      remoteBytesRead: q((t) => t.remoteBytes),
    },
    shuffleWriteMetrics: {
      writeBytes: q((t) => t.writeBytes),
      writeRecords: q((t) => t.writeRecords),
      writeTime: q((t) => Math.round(t.shuffleWriteMs * 1e6)),
    },
  };
  summaryCache.set(s, { version: s.version, key, value });
  return value;
}

// ---- executors and storage ---------------------------------------------------------------------

export function executorSummary(store: AppStatusStore, e: ExecutorRec): ExecutorSummary {
  let memoryUsed = 0;
  for (const b of e.blocks.values()) memoryUsed += b;
  const out: ExecutorSummary = {
    id: e.id,
    hostPort: e.host,
    isActive: e.removeTime === null,
    isExcluded: e.removeTime === null && e.excludedUntil > store.now(),
    rddBlocks: e.blocks.size,
    memoryUsed,
    diskUsed: 0,
    totalCores: e.cores,
    maxTasks: e.cores,
    activeTasks: e.active,
    failedTasks: e.failed,
    completedTasks: e.completed,
    totalTasks: e.active + e.failed + e.completed + e.killed,
    totalDuration: round(e.totalDuration),
    totalInputBytes: 0,
    totalShuffleRead: e.shuffleRead,
    totalShuffleWrite: e.shuffleWrite,
    maxMemory: e.memoryMb === null ? 0 : e.memoryMb * 1024 * 1024,
    addTime: e.addTime,
    kind: e.kind,
    capabilities: e.capabilities,
    resultsVerified: e.verified,
    resultsDisputed: e.disputed,
    isDraining: e.draining && e.removeTime === null,
  };
  if (e.removeTime !== null) out.removeTime = e.removeTime;
  if (e.removeReason !== null) out.removeReason = e.removeReason;
  if (e.handedOn) out.shuffleOutputsHandedOn = e.handedOn;
  return out;
}

/** `all`: Spark's /allexecutors (the removed ones too); otherwise /executors (active ones). */
export function executorsData(store: AppStatusStore, all: boolean): ExecutorSummary[] {
  return [...store.executors.values()].filter((e) => all || e.removeTime === null).map((e) => executorSummary(store, e));
}

export function rddStorage(store: AppStatusStore, rddId: number, details: boolean): RDDStorageInfo | null {
  const r = store.rdds.get(rddId);
  if (!r) return null;
  let memoryUsed = 0;
  const byExecutor = new Map<string, number>();
  for (const holders of r.blocks.values()) {
    for (const [ex, bytes] of holders) {
      memoryUsed += bytes;
      byExecutor.set(ex, (byExecutor.get(ex) ?? 0) + bytes);
    }
  }
  const out: RDDStorageInfo = {
    id: r.id,
    name: r.name,
    callSite: r.callSite,
    numPartitions: r.numPartitions,
    numCachedPartitions: r.blocks.size,
    storageLevel: describeStorage(r.storageLevel),
    memoryUsed,
    diskUsed: 0,
  };
  if (details) {
    out.dataDistribution = [...byExecutor].map(([executorId, bytes]) => ({
      address: store.executors.get(executorId)?.host ?? '',
      executorId,
      memoryUsed: bytes,
      diskUsed: 0,
    }));
    out.partitions = [...r.blocks]
      .map(([blockName, holders]) => ({
        blockName,
        storageLevel: describeStorage(r.storageLevel),
        memoryUsed: [...holders.values()].reduce((a, b) => a + b, 0),
        diskUsed: 0,
        executors: [...holders.keys()],
      }))
      .sort((a, b) => a.blockName.localeCompare(b.blockName, 'en', { numeric: true }));
  }
  return out;
}

/** Spark's /storage/rdd: the persisted RDDs that have at least one cached partition. */
export function storageData(store: AppStatusStore): RDDStorageInfo[] {
  const out: RDDStorageInfo[] = [];
  for (const id of store.rdds.keys()) {
    const info = rddStorage(store, id, false);
    if (info && info.numCachedPartitions > 0) out.push(info);
  }
  return out.sort((a, b) => a.id - b.id);
}
