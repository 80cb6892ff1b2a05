/**
 * The REST API's shapes (Spark's monitoring API v1: paths, field names, camelCase; times in epoch
 * milliseconds as docs/API.md says) and the few Flint additions the dashboard needs. The browser
 * dashboard imports these types, so the page and the API cannot drift apart.
 */

export interface ApplicationAttempt {
  startTime: number;
  /** -1 while the application runs. */
  endTime: number;
  lastUpdated: number;
  duration: number;
  sparkUser: string;
  completed: boolean;
}

export interface ApplicationInfo {
  id: string;
  name: string;
  attempts: ApplicationAttempt[];
  /** Flint: the master the driver asked for ('local[4]', 'flint://…'). */
  master?: string;
}

export type JobStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'UNKNOWN';
export type StageStatus = 'ACTIVE' | 'COMPLETE' | 'FAILED' | 'PENDING' | 'SKIPPED';
export type TaskStatus = 'RUNNING' | 'SUCCESS' | 'FAILED' | 'KILLED';

export interface JobData {
  jobId: number;
  name: string;
  description: string;
  submissionTime: number;
  completionTime: number | null;
  stageIds: number[];
  status: JobStatus;
  numTasks: number;
  numActiveTasks: number;
  numCompletedTasks: number;
  numSkippedTasks: number;
  numFailedTasks: number;
  numKilledTasks: number;
  numCompletedIndices: number;
  numActiveStages: number;
  numCompletedStages: number;
  numSkippedStages: number;
  numFailedStages: number;
  /** Flint: why the job failed. */
  failureReason?: string;
}

export interface StageData {
  status: StageStatus;
  stageId: number;
  attemptId: number;
  name: string;
  details: string;
  numTasks: number;
  numActiveTasks: number;
  numCompleteTasks: number;
  numFailedTasks: number;
  numKilledTasks: number;
  numCompletedIndices: number;
  submissionTime: number | null;
  firstTaskLaunchedTime: number | null;
  completionTime: number | null;
  failureReason?: string;
  executorRunTime: number;
  /** Flint: summed time tasks spent outside their run (sent ahead and queued, transport). */
  schedulerDelay: number;
  resultSize: number;
  resultSerializationTime: number;
  inputBytes: number;
  inputRecords: number;
  outputBytes: number;
  outputRecords: number;
  shuffleFetchWaitTime: number;
  shuffleRemoteBytesRead: number;
  shuffleLocalBytesRead: number;
  shuffleReadBytes: number;
  shuffleReadRecords: number;
  shuffleWriteBytes: number;
  /** Nanoseconds, as in Spark. */
  shuffleWriteTime: number;
  shuffleWriteRecords: number;
  rddIds: number[];
  parentIds: number[];
  jobIds: number[];
  /** Flint: 'shuffleMap' or 'result'. */
  kind: 'shuffleMap' | 'result';
  /** With `details=true` (the default for one attempt, as in Spark): every task by id. */
  tasks?: Record<string, TaskData>;
  executorSummary?: Record<string, ExecutorStageSummary>;
}

export interface ExecutorStageSummary {
  taskTime: number;
  failedTasks: number;
  succeededTasks: number;
  killedTasks: number;
  shuffleRead: number;
  shuffleReadRecords: number;
  shuffleWrite: number;
  shuffleWriteRecords: number;
  inputBytes: number;
  inputRecords: number;
  outputRecords: number;
  isExcludedForStage: boolean;
}

export interface TaskMetricsData {
  executorDeserializeTime: number;
  executorRunTime: number;
  resultSize: number;
  resultSerializationTime: number;
  inputMetrics: { bytesRead: number; recordsRead: number };
  outputMetrics: { bytesWritten: number; recordsWritten: number };
  shuffleReadMetrics: { fetchWaitTime: number; remoteBytesRead: number; localBytesRead: number; recordsRead: number };
  shuffleWriteMetrics: { bytesWritten: number; writeTime: number; recordsWritten: number };
  memoryBytesSpilled: number;
  diskBytesSpilled: number;
  peakExecutionMemory: number;
  /** Flint: time the task waited in its executor's queue before it started. */
  queuedTime: number;
  /** Flint: WebAssembly or TypeScript operators the task ran ('wasm:hashAgg'). */
  operators: string[];
}

export interface TaskData {
  taskId: number;
  index: number;
  attempt: number;
  partitionId: number;
  launchTime: number;
  /** Launch to end as the driver saw it; null while running. */
  duration: number | null;
  executorId: string;
  host: string;
  status: TaskStatus;
  speculative: boolean;
  errorMessage?: string;
  taskMetrics?: TaskMetricsData;
  schedulerDelay: number;
  gettingResultTime: number;
}

/** Spark's TaskMetricDistributions: each array holds one value per requested quantile. */
export interface TaskMetricDistributions {
  quantiles: number[];
  /** Flint: how many successful tasks the distributions are over. */
  count: number;
  duration: number[];
  executorRunTime: number[];
  schedulerDelay: number[];
  resultSize: number[];
  resultSerializationTime: number[];
  gettingResultTime: number[];
  queuedTime: number[];
  inputMetrics: { bytesRead: number[]; recordsRead: number[] };
  outputMetrics: { bytesWritten: number[]; recordsWritten: number[] };
  shuffleReadMetrics: { readBytes: number[]; readRecords: number[]; fetchWaitTime: number[]; remoteBytesRead: number[] };
  shuffleWriteMetrics: { writeBytes: number[]; writeRecords: number[]; writeTime: number[] };
}

export type ExecutorKind = 'driver' | 'thread' | 'node' | 'browser';

export interface ExecutorSummary {
  id: string;
  hostPort: string;
  isActive: boolean;
  isExcluded: boolean;
  rddBlocks: number;
  memoryUsed: number;
  diskUsed: number;
  totalCores: number;
  maxTasks: number;
  activeTasks: number;
  failedTasks: number;
  completedTasks: number;
  totalTasks: number;
  totalDuration: number;
  totalInputBytes: number;
  totalShuffleRead: number;
  totalShuffleWrite: number;
  maxMemory: number;
  addTime: number;
  removeTime?: number;
  removeReason?: string;
  /** Flint: thread, node, browser (or driver for master 'local'). */
  kind: ExecutorKind;
  /** Flint: what the executor can do ('node', 'fs', 'wasm', 'trusted'). */
  capabilities: string[];
  /** Flint: results of this executor confirmed by replication, and results caught disagreeing. */
  resultsVerified: number;
  resultsDisputed: number;
  /** Flint: set while the executor finishes its tasks before leaving. */
  isDraining: boolean;
  /** Flint: when it left on purpose, its shuffle outputs handed on to another executor (and those lost). */
  shuffleOutputsHandedOn?: { toExecutorId: string | null; outputs: number; bytes: number; lost: number; reason?: string };
  /** Coordinator only: the application the executor is lent to, or null when idle. */
  appId?: string | null;
  /** Coordinator only: the worker (machine or tab) the executor runs in. */
  workerId?: string;
}

export interface RDDDataDistribution {
  address: string;
  executorId: string;
  memoryUsed: number;
  diskUsed: number;
}

export interface RDDPartitionInfo {
  blockName: string;
  storageLevel: string;
  memoryUsed: number;
  diskUsed: number;
  executors: string[];
}

export interface RDDStorageInfo {
  id: number;
  name: string;
  callSite: string;
  numPartitions: number;
  numCachedPartitions: number;
  storageLevel: string;
  memoryUsed: number;
  diskUsed: number;
  dataDistribution?: RDDDataDistribution[];
  partitions?: RDDPartitionInfo[];
}

// ---- Flint additions for the dashboard ---------------------------------------------------------

/** Phases of a task's bar on the timeline, in the order they happen. */
export const PHASES = ['schedulerDelay', 'fetchWait', 'compute', 'shuffleWrite', 'resultSend'] as const;
export type Phase = (typeof PHASES)[number];

/**
 * A stage's task timeline for a time window: executors as lanes, each with as many rows as it ran
 * tasks at once. Few tasks in the window come as tasks; many come as `bins` per row: for each of
 * `binCount` equal slices of the window, the fraction of it each phase took (0–255), so that a
 * 100,000-task stage costs the page what a 1,000-pixel-wide picture costs.
 */
export interface TaskTimeline {
  from: number;
  to: number;
  /** Task windows of the whole stage (for the overview and zooming out). */
  stageStart: number;
  stageEnd: number;
  lanes: Array<{ executorId: string; host: string; kind: ExecutorKind | 'unknown'; rows: number }>;
  mode: 'tasks' | 'bins';
  /** mode 'tasks': [lane, row, taskId, partition, start, end, status, ...5 phase durations]. */
  tasks?: TimelineTask[];
  /** mode 'bins': per lane, per row: binCount × PHASES.length bytes, base64. */
  bins?: string[][];
  binCount?: number;
  /** Tasks in the window, whatever the mode. */
  taskCount: number;
}

export interface TimelineTask {
  lane: number;
  row: number;
  taskId: number;
  partition: number;
  attempt: number;
  start: number;
  /** null while running. */
  end: number | null;
  status: TaskStatus;
  speculative: boolean;
  /** ms per phase, in PHASES order. */
  phases: number[];
}

/** A job's stages and their RDDs, for the DAG view. */
export interface JobGraph {
  jobId: number;
  stages: Array<{
    stageId: number;
    name: string;
    status: StageStatus;
    /** The latest attempt, for links. */
    attemptId: number;
    kind: 'shuffleMap' | 'result';
    numTasks: number;
    parentIds: number[];
    rdds: Array<{ id: number; name: string; callSite: string; parentIds: number[]; numPartitions: number; cached: boolean; numCachedPartitions: number }>;
  }>;
}

/** The application's event timeline: jobs as bars, executors' arrivals and departures. */
export interface AppTimeline {
  start: number;
  end: number | null;
  jobs: Array<{ jobId: number; name: string; start: number; end: number | null; status: JobStatus }>;
  executors: Array<{ executorId: string; kind: ExecutorKind; added: number; removed: number | null; reason?: string }>;
  /** Running tasks over time, sampled: [time, running] pairs (for the utilisation chart). */
  running: Array<[number, number]>;
  totalCores: Array<[number, number]>;
}

/** The coordinator's workers (machines and tabs), for the cluster page. */
export interface WorkerSummary {
  id: string;
  host: string;
  kind: 'node' | 'browser';
  cores: number;
  coresUsed: number;
  memoryMb: number;
  connectedAt: number;
  decommissioning: boolean;
  capabilities: string[];
  /**
   * Tasks its executors had verified in a row, across applications (adaptive replication's record:
   * past 10 its map outputs are only spot-checked); 0 after a disagreement. Trusted workers are not
   * verified and stay at 0.
   */
  verifiedTasks: number;
}

/** How late the event loop ran, in milliseconds (a timer's lateness past its due time). */
export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
  mean: number;
  /** Samples taken (one per 10 ms the loop was free to take one). */
  samples: number;
}

/** The health of the process serving a coordinator: its memory, CPU and event loop. */
export interface ProcessHealth {
  rssBytes: number;
  /** The largest resident set the process has had. */
  maxRssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  /** Since the coordinator started. */
  eventLoopDelayMs: LoopDelay;
  /** Consecutive windows (5 s each, the last 2 minutes), oldest first; `start`/`end` in epoch ms. */
  eventLoopDelayWindows: Array<LoopDelay & { start: number; end: number }>;
}

/** `/api/v1/coordinator`: what the coordinator holds, and what holding it costs its process. */
export interface CoordinatorStatus {
  startTime: number;
  uptimeMs: number;
  workers: number;
  browserWorkers: number;
  /** Executor slots the workers lend, and how many are lent to applications. */
  slots: number;
  slotsLent: number;
  runningApplications: number;
  /** Null where the process cannot say (a coordinator outside Node). */
  process: ProcessHealth | null;
}

/** What a dashboard server is, for the page's header and navigation. */
export interface UiInfo {
  mode: 'local' | 'history' | 'cluster';
  title: string;
  /** The coordinator's URL (cluster mode). */
  master?: string;
}

/** A notification of the live stream: what changed since the last one. */
export interface LiveChange {
  /** Events applied so far, over every application this server shows. */
  seq: number;
  /** Applications whose state changed, with the stages touched ('*' when anything may have). */
  apps: Record<string, { stages: number[]; any: boolean }>;
  /** The list of applications changed (one started or ended). */
  applications: boolean;
  /** Cluster page (coordinator): workers or executor slots changed. */
  cluster?: boolean;
}
