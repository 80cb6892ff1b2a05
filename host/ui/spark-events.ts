/**
 * The event log's format: Spark's listener events as its JsonProtocol writes them ("Event":
 * "SparkListenerTaskEnd", "Task Info", "Task Metrics", ...), with the fields that apply to Flint.
 * What only Flint has goes in fields whose names start with "Flint" (in Spark's own spelling style)
 * or, for executors, in Spark's free-form "Attributes"; events Spark has no name for are
 * "FlintListener…". Unknown events and fields are ignored on reading, as Spark's history server does.
 *
 * Live pages and `flint history` both read this format (the status store consumes nothing else), so
 * a page shows the same numbers whether it follows a running application or replays its log.
 */
import type { FlintEvent, RddInfo, StageInfo, StorageLevelInfo } from '../events/events.js';

export interface SparkStorageLevel {
  'Use Disk': boolean;
  'Use Memory': boolean;
  Deserialized: boolean;
  Replication: number;
}

export interface SparkRddInfo {
  'RDD ID': number;
  Name: string;
  Callsite: string;
  'Parent IDs': number[];
  'Storage Level': SparkStorageLevel;
  'Number of Partitions': number;
}

export interface SparkStageInfo {
  'Stage ID': number;
  'Stage Attempt ID': number;
  'Stage Name': string;
  'Number of Tasks': number;
  'RDD Info': SparkRddInfo[];
  'Parent IDs': number[];
  Details: string;
  'Submission Time'?: number;
  'Completion Time'?: number;
  'Failure Reason'?: string;
  /** 'shuffleMap' or 'result'. */
  'Flint Stage Kind': 'shuffleMap' | 'result';
}

export interface SparkTaskInfo {
  'Task ID': number;
  Index: number;
  Attempt: number;
  'Partition ID': number;
  'Launch Time': number;
  'Executor ID': string;
  Host: string;
  Speculative: boolean;
  'Getting Result Time': number;
  'Finish Time': number;
  Failed: boolean;
  Killed: boolean;
}

export interface SparkTaskMetrics {
  'Executor Deserialize Time': number;
  'Executor Run Time': number;
  'Result Size': number;
  'Result Serialization Time': number;
  'Shuffle Read Metrics': {
    'Fetch Wait Time': number;
    'Remote Bytes Read': number;
    'Local Bytes Read': number;
    'Total Records Read': number;
  };
  'Shuffle Write Metrics': { 'Shuffle Bytes Written': number; 'Shuffle Write Time': number; 'Shuffle Records Written': number };
  'Input Metrics': { 'Bytes Read': number; 'Records Read': number };
  'Output Metrics': { 'Bytes Written': number; 'Records Written': number };
  'Memory Bytes Spilled'?: number;
  'Disk Bytes Spilled'?: number;
  'Peak Execution Memory'?: number;
  'Flint Queued Time': number;
  'Flint Operators': string[];
}

export type SparkTaskEndReason =
  | { Reason: 'Success' }
  | { Reason: 'ExceptionFailure'; 'Class Name': string; Description: string; 'Full Stack Trace': string }
  | { Reason: 'TaskKilled'; 'Kill Reason': string }
  | { Reason: 'ExecutorLostFailure'; 'Executor ID': string; 'Exit Caused By App': boolean; 'Loss Reason': string };

export type SparkEvent =
  | { Event: 'SparkListenerApplicationStart'; 'App Name': string; 'App ID': string; Timestamp: number; User: string; 'Flint Master': string }
  | { Event: 'SparkListenerApplicationEnd'; Timestamp: number }
  | {
      Event: 'SparkListenerExecutorAdded';
      Timestamp: number;
      'Executor ID': string;
      'Executor Info': { Host: string; 'Total Cores': number; 'Log Urls': Record<string, string>; Attributes: Record<string, string> };
    }
  | { Event: 'SparkListenerExecutorRemoved'; Timestamp: number; 'Executor ID': string; 'Removed Reason': string }
  | { Event: 'SparkListenerExecutorExcluded'; time: number; executorId: string; taskFailures: number; 'Flint Until': number | null; 'Flint Reason': string }
  | { Event: 'SparkListenerJobStart'; 'Job ID': number; 'Submission Time': number; 'Stage Infos': SparkStageInfo[]; 'Stage IDs': number[]; Properties: Record<string, string> }
  | { Event: 'SparkListenerJobEnd'; 'Job ID': number; 'Completion Time': number; 'Job Result': { Result: 'JobSucceeded' } | { Result: 'JobFailed'; Exception: { Message: string } } }
  | { Event: 'SparkListenerStageSubmitted'; 'Stage Info': SparkStageInfo; Properties: Record<string, string> }
  | { Event: 'SparkListenerStageCompleted'; 'Stage Info': SparkStageInfo }
  | { Event: 'SparkListenerTaskStart'; 'Stage ID': number; 'Stage Attempt ID': number; 'Task Info': SparkTaskInfo }
  | {
      Event: 'SparkListenerTaskEnd';
      'Stage ID': number;
      'Stage Attempt ID': number;
      'Task Type': 'ResultTask' | 'ShuffleMapTask';
      'Task End Reason': SparkTaskEndReason;
      'Task Info': SparkTaskInfo;
      'Task Metrics'?: SparkTaskMetrics;
    }
  | {
      Event: 'SparkListenerBlockUpdated';
      'Block Updated Info': {
        'Block Manager ID': { 'Executor ID': string; Host: string; Port: number };
        'Block ID': string;
        'Storage Level': SparkStorageLevel;
        'Memory Size': number;
        'Disk Size': number;
      };
    }
  | { Event: 'FlintListenerStageSkipped'; Timestamp: number; 'Stage ID': number; 'Job ID': number }
  | { Event: 'FlintListenerExecutorDraining'; Timestamp: number; 'Executor ID': string }
  | {
      Event: 'FlintListenerShuffleOutputsHandedOn';
      Timestamp: number;
      'Executor ID': string;
      'To Executor ID': string | null;
      Outputs: number;
      Bytes: number;
      Lost: number;
      Reason?: string;
    }
  | { Event: 'FlintListenerTaskVerified'; Timestamp: number; 'Executor ID': string; 'Stage ID': number; 'Partition ID': number; Agreed: boolean };

export type SparkEventName = SparkEvent['Event'];

const NO_STORAGE: SparkStorageLevel = { 'Use Disk': false, 'Use Memory': false, Deserialized: false, Replication: 1 };

function storageLevel(level: StorageLevelInfo | null): SparkStorageLevel {
  if (!level) return NO_STORAGE;
  return { 'Use Disk': level.useDisk, 'Use Memory': level.useMemory, Deserialized: level.deserialized, Replication: level.replication };
}

function rddInfo(r: RddInfo): SparkRddInfo {
  return {
    'RDD ID': r.rddId,
    Name: r.name,
    Callsite: r.callSite,
    'Parent IDs': r.parentIds,
    'Storage Level': storageLevel(r.storageLevel),
    'Number of Partitions': r.numPartitions,
  };
}

/**
 * Turns the bus's events into Spark's. Stateful: a task's end carries its start's details (launch
 * time, host) and a stage's events carry its RDDs, as Spark's do, while the bus's events carry only
 * what changed.
 */
export class SparkEventConverter {
  private readonly stages = new Map<number, StageInfo>();
  private readonly stageTimes = new Map<string, number>();
  private readonly tasks = new Map<number, { launch: number; host: string; speculative: boolean }>();
  private readonly hosts = new Map<string, string>();

  convert(e: FlintEvent): SparkEvent | null {
    switch (e.type) {
      case 'applicationStart':
        return { Event: 'SparkListenerApplicationStart', 'App Name': e.appName, 'App ID': e.appId, Timestamp: e.time, User: e.user, 'Flint Master': e.master };
      case 'applicationEnd':
        return { Event: 'SparkListenerApplicationEnd', Timestamp: e.time };
      case 'executorAdded': {
        this.hosts.set(e.executorId, e.host);
        const attributes: Record<string, string> = { kind: e.kind, capabilities: e.capabilities.join(',') };
        if (e.memoryMb !== undefined) attributes.memoryMb = String(e.memoryMb);
        return {
          Event: 'SparkListenerExecutorAdded',
          Timestamp: e.time,
          'Executor ID': e.executorId,
          'Executor Info': { Host: e.host, 'Total Cores': e.cores, 'Log Urls': {}, Attributes: attributes },
        };
      }
      case 'executorRemoved':
        return { Event: 'SparkListenerExecutorRemoved', Timestamp: e.time, 'Executor ID': e.executorId, 'Removed Reason': e.reason };
      case 'executorExcluded':
        return { Event: 'SparkListenerExecutorExcluded', time: e.time, executorId: e.executorId, taskFailures: e.failures, 'Flint Until': e.until, 'Flint Reason': e.reason };
      case 'executorDraining':
        return { Event: 'FlintListenerExecutorDraining', Timestamp: e.time, 'Executor ID': e.executorId };
      case 'shuffleOutputsHandedOn':
        return {
          Event: 'FlintListenerShuffleOutputsHandedOn',
          Timestamp: e.time,
          'Executor ID': e.executorId,
          'To Executor ID': e.toExecutorId,
          Outputs: e.outputs,
          Bytes: e.bytes,
          Lost: e.lost,
          ...(e.reason !== undefined ? { Reason: e.reason } : {}),
        };
      case 'jobStart':
        for (const s of e.stages) this.stages.set(s.stageId, s);
        return {
          Event: 'SparkListenerJobStart',
          'Job ID': e.jobId,
          'Submission Time': e.time,
          'Stage Infos': e.stages.map((s) => this.stageInfo(s, 0, s.numTasks)),
          'Stage IDs': e.stageIds,
          Properties: { 'callSite.short': e.description },
        };
      case 'jobEnd':
        return {
          Event: 'SparkListenerJobEnd',
          'Job ID': e.jobId,
          'Completion Time': e.time,
          'Job Result': e.succeeded ? { Result: 'JobSucceeded' } : { Result: 'JobFailed', Exception: { Message: e.error ?? 'failed' } },
        };
      case 'stageSubmitted': {
        const known = this.stages.get(e.stageId);
        const info: StageInfo = known
          ? { ...known, name: e.name, kind: e.kind }
          : { stageId: e.stageId, name: e.name, kind: e.kind, numTasks: e.numTasks, parentStageIds: e.parentStageIds, rdds: [] };
        this.stages.set(e.stageId, info);
        this.stageTimes.set(`${e.stageId}.${e.attempt}`, e.time);
        const stage = this.stageInfo(info, e.attempt, e.numTasks);
        stage['Submission Time'] = e.time;
        return { Event: 'SparkListenerStageSubmitted', 'Stage Info': stage, Properties: {} };
      }
      case 'stageCompleted': {
        const info = this.stages.get(e.stageId) ?? { stageId: e.stageId, name: '', kind: 'result' as const, numTasks: 0, parentStageIds: [], rdds: [] };
        const key = `${e.stageId}.${e.attempt}`;
        const stage = this.stageInfo(info, e.attempt, info.numTasks);
        const submitted = this.stageTimes.get(key);
        if (submitted !== undefined) stage['Submission Time'] = submitted;
        this.stageTimes.delete(key);
        stage['Completion Time'] = e.time;
        if (!e.succeeded) stage['Failure Reason'] = e.error ?? 'failed';
        return { Event: 'SparkListenerStageCompleted', 'Stage Info': stage };
      }
      case 'stageSkipped':
        return { Event: 'FlintListenerStageSkipped', Timestamp: e.time, 'Stage ID': e.stageId, 'Job ID': e.jobId };
      case 'taskStart': {
        const host = this.hosts.get(e.executorId) ?? '';
        this.tasks.set(e.taskId, { launch: e.time, host, speculative: e.speculative });
        return { Event: 'SparkListenerTaskStart', 'Stage ID': e.stageId, 'Stage Attempt ID': e.stageAttempt, 'Task Info': this.taskInfo(e, e.time, host, e.speculative, 0, false, false) };
      }
      case 'taskEnd': {
        const start = this.tasks.get(e.taskId);
        this.tasks.delete(e.taskId);
        const host = start?.host ?? this.hosts.get(e.executorId) ?? '';
        const launch = start?.launch ?? e.time;
        const kind = this.stages.get(e.stageId)?.kind ?? 'result';
        const m = e.metrics;
        let reason: SparkTaskEndReason;
        switch (e.status) {
          case 'success':
            reason = { Reason: 'Success' };
            break;
          case 'failed':
            reason = { Reason: 'ExceptionFailure', 'Class Name': 'FlintError', Description: e.error ?? '', 'Full Stack Trace': e.error ?? '' };
            break;
          case 'killed':
            reason = { Reason: 'TaskKilled', 'Kill Reason': e.error ?? 'killed' };
            break;
          case 'lost':
            reason = { Reason: 'ExecutorLostFailure', 'Executor ID': e.executorId, 'Exit Caused By App': false, 'Loss Reason': e.error ?? 'executor lost' };
            break;
        }
        const out: Extract<SparkEvent, { Event: 'SparkListenerTaskEnd' }> = {
          Event: 'SparkListenerTaskEnd',
          'Stage ID': e.stageId,
          'Stage Attempt ID': e.stageAttempt,
          'Task Type': kind === 'shuffleMap' ? 'ShuffleMapTask' : 'ResultTask',
          'Task End Reason': reason,
          'Task Info': this.taskInfo(e, launch, host, start?.speculative ?? false, e.time, e.status === 'failed' || e.status === 'lost', e.status === 'killed'),
        };
        if (m) {
          // Records read come from a shuffle or from the stage's input, whichever the task read.
          const fromShuffle = m.shuffleReadBytes > 0;
          const remote = Math.min(m.shuffleRemoteBytesRead ?? m.shuffleReadBytes, m.shuffleReadBytes);
          out['Task Metrics'] = {
            'Executor Deserialize Time': 0,
            'Executor Run Time': m.durationMs,
            'Result Size': m.resultBytes,
            'Result Serialization Time': m.resultSerializeMs ?? 0,
            'Shuffle Read Metrics': {
              'Fetch Wait Time': m.fetchWaitMs ?? 0,
              'Remote Bytes Read': remote,
              'Local Bytes Read': m.shuffleReadBytes - remote,
              'Total Records Read': fromShuffle ? m.recordsRead : 0,
            },
            'Shuffle Write Metrics': {
              'Shuffle Bytes Written': m.shuffleWriteBytes,
              // Spark keeps this one in nanoseconds.
              'Shuffle Write Time': Math.round((m.shuffleWriteMs ?? 0) * 1e6),
              'Shuffle Records Written': kind === 'shuffleMap' ? m.recordsWritten : 0,
            },
            'Input Metrics': { 'Bytes Read': 0, 'Records Read': fromShuffle ? 0 : m.recordsRead },
            'Output Metrics': { 'Bytes Written': 0, 'Records Written': kind === 'shuffleMap' ? 0 : m.recordsWritten },
            'Memory Bytes Spilled': m.memoryBytesSpilled ?? 0,
            'Disk Bytes Spilled': m.diskBytesSpilled ?? 0,
            'Peak Execution Memory': m.peakExecutionMemory ?? 0,
            'Flint Queued Time': m.queuedMs ?? 0,
            'Flint Operators': m.operators,
          };
        }
        return out;
      }
      case 'blockUpdated': {
        const info = this.rddOfBlock(e.blockId);
        return {
          Event: 'SparkListenerBlockUpdated',
          'Block Updated Info': {
            'Block Manager ID': { 'Executor ID': e.executorId, Host: this.hosts.get(e.executorId) ?? '', Port: 0 },
            'Block ID': e.blockId,
            'Storage Level': e.removed ? NO_STORAGE : storageLevel(info?.storageLevel ?? { useDisk: false, useMemory: true, deserialized: true, replication: 1 }),
            'Memory Size': e.removed ? 0 : e.bytes,
            'Disk Size': 0,
          },
        };
      }
      case 'taskVerified':
        return { Event: 'FlintListenerTaskVerified', Timestamp: e.time, 'Executor ID': e.executorId, 'Stage ID': e.stageId, 'Partition ID': e.partition, Agreed: e.agreed };
      case 'broadcastSent':
        return null;
    }
  }

  private rddOfBlock(blockId: string): RddInfo | null {
    const m = /^rdd_(\d+)_\d+$/.exec(blockId);
    if (!m) return null;
    const id = Number(m[1]);
    for (const s of this.stages.values()) for (const r of s.rdds) if (r.rddId === id) return r;
    return null;
  }

  private stageInfo(s: StageInfo, attempt: number, numTasks: number): SparkStageInfo {
    return {
      'Stage ID': s.stageId,
      'Stage Attempt ID': attempt,
      'Stage Name': s.name,
      'Number of Tasks': numTasks,
      'RDD Info': s.rdds.map(rddInfo),
      'Parent IDs': s.parentStageIds,
      Details: s.rdds.map((r) => `${r.name}[${r.rddId}] at ${r.callSite}`).join('\n'),
      'Flint Stage Kind': s.kind,
    };
  }

  private taskInfo(
    e: { taskId: number; partition: number; attempt: number; executorId: string },
    launch: number,
    host: string,
    speculative: boolean,
    finish: number,
    failed: boolean,
    killed: boolean,
  ): SparkTaskInfo {
    return {
      'Task ID': e.taskId,
      Index: e.partition,
      Attempt: e.attempt,
      'Partition ID': e.partition,
      'Launch Time': launch,
      'Executor ID': e.executorId,
      Host: host,
      Speculative: speculative,
      'Getting Result Time': 0,
      'Finish Time': finish,
      Failed: failed,
      Killed: killed,
    };
  }
}
