/**
 * Schemas of every message that crosses a network (docs/PROTOCOL.md), checked with TypeBox's
 * compiled validators before anything acts on a message: what a coordinator, a worker, a driver or a
 * browser tab receives from the network is data from a stranger until it passes. In-process
 * channels (worker threads, loopback) are trusted and not checked.
 *
 * Objects accept unknown extra properties (newer peers may add some); what the receiver reads is
 * typed and bounded. Record values inside plans (range bounds, built-in arguments) are opaque.
 */
import { Type, type Static, type TLiteral, type TSchema, type TUnion } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { DriverToExecutor, ExecutorToDriver, PeerMessage } from '../exec/protocol.js';
import type { FlintEvent } from '../events/events.js';
import { FlintError } from '../errors.js';

const Int = (options: { minimum?: number; maximum?: number } = {}) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, ...options });
/** Ids and names: bounded so a peer cannot make us hold megabytes per message field. */
const Id = Type.String({ minLength: 1, maxLength: 256 });
const Text = (maxLength = 4096) => Type.String({ maxLength });

/** A union of string literals, keeping the literal types for static checks. */
function Literals<T extends string>(...values: T[]): TUnion<Array<TLiteral<T>>> {
  return Type.Union(values.map((v) => Type.Literal(v)));
}

// ---- closures and plans -------------------------------------------------------------------------

const ClosureSpec = Type.Object({
  src: Type.String(),
  env: Type.Union([Type.Uint8Array(), Type.Null()]),
  builtin: Type.Optional(Type.Object({ name: Text(128), args: Type.Array(Type.Unknown()) })),
  broadcasts: Type.Array(Int()),
  modules: Type.Optional(Type.Array(Id)),
  method: Type.Optional(Text(128)),
  requires: Type.Optional(Type.Array(Type.Literal('node'))),
});

const OpDesc = Type.Union([
  Type.Object({ op: Literals('map', 'filter', 'flatMap', 'mapValues', 'flatMapValues', 'keyBy'), f: ClosureSpec }),
  Type.Object({ op: Literals('keys', 'values', 'glom', 'pairWithNull', 'swap', 'count', 'stats', 'countByValue') }),
  Type.Object({ op: Type.Literal('mapPartitions'), f: ClosureSpec, withIndex: Type.Boolean() }),
  Type.Object({ op: Type.Literal('sample'), withReplacement: Type.Boolean(), fraction: Type.Number(), seed: Type.Number() }),
  Type.Object({ op: Type.Literal('sampleByKey'), withReplacement: Type.Boolean(), fractions: Type.Array(Type.Tuple([Type.Unknown(), Type.Number()])), seed: Type.Number() }),
  Type.Object({ op: Type.Literal('randomSplit'), lower: Type.Number(), upper: Type.Number(), seed: Type.Number() }),
  Type.Object({ op: Type.Literal('zipWithIndex'), startIndices: Type.Array(Type.Number()) }),
  Type.Object({ op: Type.Literal('zipWithUniqueId'), numPartitions: Int() }),
  Type.Object({ op: Type.Literal('takeOrdered'), n: Int(), key: Type.Union([ClosureSpec, Type.Null()]), descending: Type.Boolean() }),
  Type.Object({ op: Type.Literal('take'), n: Int() }),
  Type.Object({ op: Type.Literal('histogram'), buckets: Type.Union([Type.Array(Type.Number()), Type.Array(Type.String())]), evenBuckets: Type.Boolean(), inc: Type.Number() }),
  Type.Object({ op: Type.Literal('sortPartition'), ascending: Type.Boolean(), key: Type.Union([ClosureSpec, Type.Null()]) }),
  Type.Object({ op: Type.Literal('sampleKeys'), n: Type.Integer({ minimum: 0 }) }),
]);

const PartitionerDesc = Type.Union([
  Type.Object({ kind: Type.Literal('hash'), numPartitions: Int({ minimum: 1 }) }),
  Type.Object({ kind: Type.Literal('range'), numPartitions: Int({ minimum: 1 }), bounds: Type.Array(Type.Unknown()), ascending: Type.Boolean() }),
  Type.Object({ kind: Type.Literal('custom'), numPartitions: Int({ minimum: 1 }), f: ClosureSpec }),
  Type.Object({ kind: Type.Literal('roundRobin'), numPartitions: Int({ minimum: 1 }) }),
]);

const AggregatorDesc = Type.Union([
  Type.Object({ kind: Type.Literal('builtin'), name: Type.Union([Type.Literal('sum'), Type.Literal('min'), Type.Literal('max'), Type.Literal('count')]) }),
  Type.Object({ kind: Type.Literal('closures'), createCombiner: ClosureSpec, mergeValue: ClosureSpec, mergeCombiners: ClosureSpec }),
  Type.Object({ kind: Type.Literal('group') }),
]);

const FileSplit = Type.Object({
  path: Type.String({ maxLength: 65536 }),
  start: Int(),
  end: Int(),
  fileSize: Type.Integer({ minimum: -1, maximum: Number.MAX_SAFE_INTEGER }),
  mtimeMs: Type.Optional(Type.Number()),
  version: Type.Optional(Text(1024)),
});
const StorageLevelDesc = Type.Object({ useMemory: Type.Boolean(), useDisk: Type.Boolean(), deserialized: Type.Boolean(), replication: Int() });

const PlanNode = Type.Recursive((Node) =>
  Type.Union([
    Type.Object({ kind: Type.Literal('parallel'), rddId: Int() }),
    Type.Object({ kind: Type.Literal('range'), rddId: Int(), start: Type.Number(), step: Type.Number(), count: Int(), slices: Int({ minimum: 1 }) }),
    Type.Object({ kind: Type.Literal('textFile'), rddId: Int(), splits: Type.Array(FileSplit) }),
    Type.Object({
      kind: Type.Literal('textScan'),
      rddId: Int(),
      splits: Type.Array(FileSplit),
      words: Type.Boolean(),
      pair: Type.Optional(Type.Object({ value: Type.Unknown() })),
      count: Type.Optional(Type.Union([Type.Literal('lines'), Type.Literal('words')])),
    }),
    Type.Object({ kind: Type.Literal('wholeTextFiles'), rddId: Int(), groups: Type.Array(Type.Array(FileSplit)) }),
    Type.Object({ kind: Type.Literal('pipe'), rddId: Int(), parent: Node, ops: Type.Array(OpDesc) }),
    Type.Object({ kind: Type.Literal('union'), rddId: Int(), parents: Type.Array(Node), offsets: Type.Array(Int()) }),
    Type.Object({ kind: Type.Literal('coalesce'), rddId: Int(), parent: Node, groups: Type.Array(Type.Array(Int())) }),
    Type.Object({ kind: Type.Literal('zip'), rddId: Int(), left: Node, right: Node }),
    Type.Object({ kind: Type.Literal('cartesian'), rddId: Int(), left: Node, right: Node, rightPartitions: Int() }),
    Type.Object({
      kind: Type.Literal('shuffleRead'),
      rddId: Int(),
      shuffleId: Int(),
      aggregator: Type.Union([AggregatorDesc, Type.Null()]),
      mapSideCombined: Type.Boolean(),
      sort: Type.Union([Type.Object({ ascending: Type.Boolean() }), Type.Null()]),
    }),
    Type.Object({
      kind: Type.Literal('cogroup'),
      rddId: Int(),
      sources: Type.Array(
        Type.Union([
          Type.Object({ kind: Type.Literal('shuffle'), shuffleId: Int(), mapSideCombined: Type.Literal(false) }),
          Type.Object({ kind: Type.Literal('narrow'), node: Node }),
        ]),
      ),
      combine: Type.Optional(AggregatorDesc),
    }),
    Type.Object({ kind: Type.Literal('cached'), rddId: Int(), storage: StorageLevelDesc, child: Node }),
    Type.Object({ kind: Type.Literal('checkpoint'), rddId: Int(), files: Type.Array(Type.String({ maxLength: 65536 })) }),
    Type.Object({ kind: Type.Literal('empty'), rddId: Int() }),
  ]),
);

const StagePlan = Type.Object({
  stageKey: Id,
  stageId: Int(),
  stageAttempt: Int(),
  plan: PlanNode,
  shuffle: Type.Union([Type.Object({ shuffleId: Int(), partitioner: PartitionerDesc, combiner: Type.Union([AggregatorDesc, Type.Null()]) }), Type.Null()]),
  broadcasts: Type.Array(Int()),
  modules: Type.Array(Id),
  useWasm: Type.Boolean(),
  requirements: Type.Array(Type.Union([Type.Literal('node'), Type.Literal('disk')])),
});

const BlockLocation = Type.Object({ shuffleId: Int(), mapId: Int(), reduceId: Int(), executorId: Id, bytes: Int() });

const TaskDescriptor = Type.Object({
  taskId: Int(),
  stageKey: Id,
  stageId: Int(),
  stageAttempt: Int(),
  partition: Int(),
  attempt: Int(),
  output: Type.Union([
    Type.Object({ kind: Type.Literal('result') }),
    Type.Object({ kind: Type.Literal('shuffle') }),
    Type.Object({ kind: Type.Literal('text'), path: Type.String({ maxLength: 65536 }) }),
    Type.Object({ kind: Type.Literal('checkpoint'), path: Type.String({ maxLength: 65536 }) }),
  ]),
  slices: Type.Record(Type.String(), Type.Uint8Array()),
  blocks: Type.Array(BlockLocation),
  digest: Type.Optional(Type.Boolean()),
});

export const DriverToExecutorSchema = Type.Union([
  Type.Object({ t: Type.Literal('stage'), stage: StagePlan }),
  Type.Object({ t: Type.Literal('task'), task: TaskDescriptor }),
  Type.Object({ t: Type.Literal('killTask'), taskId: Int(), reason: Text() }),
  Type.Object({ t: Type.Literal('dropStage'), stageKey: Id }),
  Type.Object({ t: Type.Literal('fetchResult'), taskId: Int(), offset: Int(), length: Int({ minimum: 1, maximum: 64 * 1024 * 1024 }) }),
  Type.Object({ t: Type.Literal('dropResult'), taskId: Int() }),
  Type.Object({ t: Type.Literal('broadcast'), id: Int(), bytes: Type.Uint8Array() }),
  Type.Object({ t: Type.Literal('dropBroadcast'), id: Int() }),
  Type.Object({ t: Type.Literal('module'), id: Id, code: Type.String({ maxLength: 256 * 1024 * 1024 }) }),
  Type.Object({ t: Type.Literal('dropBlocks'), prefix: Text(512) }),
  Type.Object({ t: Type.Literal('peerGone'), executorId: Id }),
  Type.Object({
    t: Type.Literal('adoptOutputs'),
    adoptId: Int(),
    from: Id,
    outputs: Type.Array(Type.Object({ shuffleId: Int(), mapId: Int(), sizes: Type.Array(Int(), { maxItems: 1_000_000 }) }), { maxItems: 1_000_000 }),
    digest: Type.Boolean(),
  }),
  Type.Object({ t: Type.Literal('shutdown') }),
]);

const WireError = Type.Recursive((Self) =>
  Type.Object({ name: Text(256), message: Type.String({ maxLength: 1 << 20 }), stack: Type.Optional(Type.String({ maxLength: 1 << 20 })), code: Type.Optional(Text(64)), cause: Type.Optional(Self) }),
);

const TaskMetrics = Type.Object({
  durationMs: Type.Number({ minimum: 0 }),
  recordsRead: Type.Number({ minimum: 0 }),
  recordsWritten: Type.Number({ minimum: 0 }),
  shuffleReadBytes: Type.Number({ minimum: 0 }),
  shuffleWriteBytes: Type.Number({ minimum: 0 }),
  resultBytes: Type.Number({ minimum: 0 }),
  queuedMs: Type.Optional(Type.Number({ minimum: 0 })),
  shuffleRemoteBytesRead: Type.Optional(Type.Number({ minimum: 0 })),
  fetchWaitMs: Type.Optional(Type.Number({ minimum: 0 })),
  shuffleWriteMs: Type.Optional(Type.Number({ minimum: 0 })),
  resultSerializeMs: Type.Optional(Type.Number({ minimum: 0 })),
  peakExecutionMemory: Type.Optional(Type.Number({ minimum: 0 })),
  memoryBytesSpilled: Type.Optional(Type.Number({ minimum: 0 })),
  diskBytesSpilled: Type.Optional(Type.Number({ minimum: 0 })),
  operators: Type.Array(Text(64), { maxItems: 64 }),
});

const TaskResult = Type.Union([
  Type.Object({
    taskId: Int(),
    ok: Type.Literal(true),
    result: Type.Union([Type.Uint8Array(), Type.Null()]),
    resultBlock: Type.Optional(Type.Object({ bytes: Int() })),
    digest: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    mapSizes: Type.Union([Type.Array(Int()), Type.Null()]),
    blocksAdded: Type.Array(Type.Object({ blockId: Text(512), bytes: Int() })),
    metrics: TaskMetrics,
  }),
  Type.Object({
    taskId: Int(),
    ok: Type.Literal(false),
    error: WireError,
    fetchFailed: Type.Union([Type.Object({ shuffleId: Int(), mapId: Int(), executorId: Id }), Type.Null()]),
    killed: Type.Optional(Type.Boolean()),
    metrics: TaskMetrics,
  }),
]);

export const ExecutorToDriverSchema = Type.Union([
  Type.Object({ t: Type.Literal('ready'), executorId: Id }),
  Type.Object({ t: Type.Literal('taskEnd'), result: TaskResult }),
  Type.Object({ t: Type.Literal('resultPart'), taskId: Int(), offset: Int(), total: Int(), bytes: Type.Union([Type.Uint8Array(), Type.Null()]) }),
  Type.Object({ t: Type.Literal('blockRemoved'), executorId: Id, blockId: Text(512) }),
  Type.Object({ t: Type.Literal('heartbeat'), executorId: Id, runningTasks: Type.Array(Int()), memoryBytes: Type.Number({ minimum: 0 }) }),
  Type.Object({
    t: Type.Literal('adopted'),
    adoptId: Int(),
    outputs: Type.Array(Type.Object({ shuffleId: Int(), mapId: Int(), digest: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })) }), { maxItems: 1_000_000 }),
    error: Type.Union([Type.String({ maxLength: 1 << 16 }), Type.Null()]),
  }),
]);

export const PeerMessageSchema = Type.Union([
  Type.Object({
    t: Type.Literal('fetch'),
    reqId: Int(),
    blocks: Type.Array(
      Type.Object({ shuffleId: Int(), mapId: Int(), reduceId: Int(), offset: Type.Optional(Int()), length: Type.Optional(Int({ maximum: 64 * 1024 * 1024 })) }),
      { maxItems: 100_000 },
    ),
  }),
  Type.Object({ t: Type.Literal('blocks'), reqId: Int(), data: Type.Array(Type.Union([Type.Uint8Array(), Type.Null()])) }),
]);

// ---- the coordinator's protocol -------------------------------------------------------------------

const Capability = Type.Union([Type.Literal('node'), Type.Literal('fs'), Type.Literal('wasm'), Type.Literal('trusted'), Type.Literal('disk')]);
const ExecutorKind = Type.Union([Type.Literal('driver'), Type.Literal('thread'), Type.Literal('node'), Type.Literal('browser')]);

export const ExecutorDescriptionSchema = Type.Object({
  id: Id,
  host: Text(256),
  cores: Int({ minimum: 1, maximum: 4096 }),
  kind: ExecutorKind,
  capabilities: Type.Array(Capability, { maxItems: 8 }),
  workerId: Type.Optional(Id),
  memoryMb: Type.Optional(Int()),
  verifiedBefore: Type.Optional(Int()),
});

/** What a driver tells workers about itself when they run its executors. */
export const AppInfoSchema = Type.Object({
  appId: Id,
  name: Text(256),
  /** The driver's file server for inputs and outputs, when it has one. */
  files: Type.Union([Type.Object({ url: Text(2048), secret: Text(256) }), Type.Null()]),
  driverMachineId: Text(256),
  useWasm: Type.Boolean(),
});

export const DriverHelloSchema = Type.Object({
  t: Type.Literal('hello'),
  role: Type.Literal('driver'),
  protocol: Type.Literal(1),
  appName: Text(256),
  maxCores: Type.Union([Int({ minimum: 1 }), Type.Null()]),
  files: Type.Union([Type.Object({ url: Text(2048), secret: Text(256) }), Type.Null()]),
  machineId: Text(256),
  useWasm: Type.Boolean(),
  host: Text(256),
});

export const WorkerHelloSchema = Type.Object({
  t: Type.Literal('hello'),
  role: Type.Literal('worker'),
  protocol: Type.Literal(1),
  workerId: Id,
  host: Text(256),
  /** 0: connected but paused (a volunteer tab can be). */
  cores: Int({ minimum: 0, maximum: 4096 }),
  memoryMb: Int(),
  kind: Type.Union([Type.Literal('node'), Type.Literal('browser')]),
  capabilities: Type.Array(Capability, { maxItems: 8 }),
  /** Where other workers and drivers fetch this worker's blocks directly; null: through the relay only. */
  dataUrl: Type.Union([Text(2048), Type.Null()]),
  /**
   * Whether it answers WebRTC offers (absent: it does). A tab without RTCPeerConnection says false, so
   * that peers go to the relay at once instead of waiting out an offer nobody answers.
   */
  webRtc: Type.Optional(Type.Boolean()),
});

export const HelloSchema = Type.Union([DriverHelloSchema, WorkerHelloSchema]);

/** Payloads relayed between a driver and an executor travel encoded: the coordinator never decodes them. */
const Payload = Type.Uint8Array({ maxByteLength: 1 << 30 });

// ---- scheduler events a driver shares with its coordinator (dashboard, event log) ---------------

const Time = Type.Number({ minimum: 0 });
const TaskIdentity = { time: Time, taskId: Int(), stageId: Int(), stageAttempt: Int(), partition: Int(), attempt: Int(), executorId: Id };
const StorageLevelInfo = Type.Object({ useDisk: Type.Boolean(), useMemory: Type.Boolean(), deserialized: Type.Boolean(), replication: Int() });
const RddInfo = Type.Object({
  rddId: Int(),
  name: Text(1024),
  callSite: Text(1024),
  parentIds: Type.Array(Int(), { maxItems: 10_000 }),
  numPartitions: Int(),
  storageLevel: Type.Union([StorageLevelInfo, Type.Null()]),
});
const StageInfo = Type.Object({
  stageId: Int(),
  name: Text(1024),
  kind: Literals('shuffleMap', 'result'),
  numTasks: Int(),
  parentStageIds: Type.Array(Int(), { maxItems: 10_000 }),
  rdds: Type.Array(RddInfo, { maxItems: 10_000 }),
});

export const FlintEventSchema = Type.Union([
  Type.Object({ type: Type.Literal('applicationStart'), time: Time, appId: Id, appName: Text(256), master: Text(1024), user: Text(256) }),
  Type.Object({ type: Type.Literal('applicationEnd'), time: Time }),
  Type.Object({ type: Type.Literal('jobStart'), time: Time, jobId: Int(), description: Text(), stageIds: Type.Array(Int(), { maxItems: 100_000 }), stages: Type.Array(StageInfo, { maxItems: 100_000 }) }),
  Type.Object({ type: Type.Literal('jobEnd'), time: Time, jobId: Int(), succeeded: Type.Boolean(), error: Type.Optional(Type.String({ maxLength: 1 << 20 })) }),
  Type.Object({
    type: Type.Literal('stageSubmitted'),
    time: Time,
    stageId: Int(),
    attempt: Int(),
    name: Text(1024),
    kind: Literals('shuffleMap', 'result'),
    numTasks: Int(),
    partitions: Type.Array(Int()),
    rddId: Int(),
    parentStageIds: Type.Array(Int(), { maxItems: 100_000 }),
  }),
  Type.Object({ type: Type.Literal('stageCompleted'), time: Time, stageId: Int(), attempt: Int(), succeeded: Type.Boolean(), error: Type.Optional(Type.String({ maxLength: 1 << 20 })) }),
  Type.Object({ type: Type.Literal('stageSkipped'), time: Time, stageId: Int(), jobId: Int() }),
  Type.Object({ type: Type.Literal('taskStart'), speculative: Type.Boolean(), ...TaskIdentity }),
  Type.Object({
    type: Type.Literal('taskEnd'),
    status: Literals('success', 'failed', 'killed', 'lost'),
    error: Type.Optional(Type.String({ maxLength: 1 << 20 })),
    metrics: Type.Optional(TaskMetrics),
    ...TaskIdentity,
  }),
  Type.Object({ type: Type.Literal('executorAdded'), time: Time, executorId: Id, cores: Int(), host: Text(256), kind: ExecutorKind, capabilities: Type.Array(Capability, { maxItems: 8 }), memoryMb: Type.Optional(Int()) }),
  Type.Object({ type: Type.Literal('executorRemoved'), time: Time, executorId: Id, reason: Text(), causedByApp: Type.Boolean() }),
  Type.Object({ type: Type.Literal('executorExcluded'), time: Time, executorId: Id, until: Type.Union([Time, Type.Null()]), failures: Int(), reason: Text() }),
  Type.Object({ type: Type.Literal('executorDraining'), time: Time, executorId: Id }),
  Type.Object({ type: Type.Literal('shuffleOutputsHandedOn'), time: Time, executorId: Id, toExecutorId: Type.Union([Id, Type.Null()]), outputs: Int(), bytes: Int(), lost: Int(), reason: Type.Optional(Text()) }),
  Type.Object({ type: Type.Literal('blockUpdated'), time: Time, executorId: Id, blockId: Text(512), bytes: Int(), removed: Type.Boolean() }),
  Type.Object({ type: Type.Literal('taskVerified'), time: Time, executorId: Id, stageId: Int(), partition: Int(), agreed: Type.Boolean() }),
  Type.Object({ type: Type.Literal('broadcastSent'), time: Time, broadcastId: Int(), executorId: Id, bytes: Int() }),
]);

export const DriverToCoordinatorSchema = Type.Union([
  Type.Object({ t: Type.Literal('toExecutor'), executorId: Id, message: Payload }),
  /** The driver is done with a revoked or idle executor. */
  Type.Object({ t: Type.Literal('release'), executorId: Id }),
  Type.Object({ t: Type.Literal('locate'), reqId: Int(), executorId: Id }),
  Type.Object({ t: Type.Literal('relay'), toWorker: Id, frame: Payload }),
  Type.Object({ t: Type.Literal('bye') }),
  /** A batch of the application's scheduler events (encoded FlintEvent[]), for the dashboard and event log. */
  Type.Object({ t: Type.Literal('events'), events: Payload }),
]);

export const CoordinatorToDriverSchema = Type.Union([
  Type.Object({ t: Type.Literal('welcome'), appId: Id, expectedCores: Int() }),
  Type.Object({ t: Type.Literal('executorAdded'), executor: ExecutorDescriptionSchema }),
  Type.Object({ t: Type.Literal('executorLost'), executorId: Id, reason: Text(), causedByApp: Type.Boolean() }),
  /** Leaving (its worker is decommissioned, or the coordinator lends it to another application). */
  Type.Object({ t: Type.Literal('executorRevoked'), executorId: Id, reason: Text() }),
  Type.Object({ t: Type.Literal('fromExecutor'), executorId: Id, message: Payload }),
  /**
   * `appId`: the application the executor works for; executors of different ones never exchange
   * blocks. `webRtc`: whether its worker answers WebRTC offers (false: reach it through the relay).
   */
  Type.Object({ t: Type.Literal('located'), reqId: Int(), executorId: Id, workerId: Type.Union([Id, Type.Null()]), dataUrl: Type.Union([Text(2048), Type.Null()]), appId: Type.Optional(Type.Union([Id, Type.Null()])), webRtc: Type.Optional(Type.Boolean()) }),
  Type.Object({ t: Type.Literal('relayed'), fromWorker: Id, frame: Payload }),
  Type.Object({ t: Type.Literal('shutdown'), reason: Text() }),
]);

/** WebRTC signals of a link being opened between two workers (transport/rtc-link.ts). */
const RtcSignalSchema = Type.Union([
  Type.Object({ kind: Literals('offer', 'answer'), sdp: Type.String({ maxLength: 64 * 1024 }) }),
  Type.Object({
    kind: Type.Literal('candidate'),
    candidate: Text(1024),
    sdpMid: Type.Union([Text(256), Type.Null()]),
    sdpMLineIndex: Type.Union([Int({ maximum: 1024 }), Type.Null()]),
  }),
]);

export const WorkerToCoordinatorSchema = Type.Union([
  Type.Object({ t: Type.Literal('executorUp'), executorId: Id }),
  Type.Object({ t: Type.Literal('executorDown'), executorId: Id, reason: Text(), causedByApp: Type.Boolean() }),
  Type.Object({ t: Type.Literal('fromExecutor'), executorId: Id, message: Payload }),
  /** Every second: the worker is alive, and what its executors are doing (for placement and status). */
  Type.Object({ t: Type.Literal('heartbeat'), stats: Type.Record(Id, Type.Object({ running: Int(), completed: Int(), failed: Int() })) }),
  Type.Object({ t: Type.Literal('decommission') }),
  Type.Object({ t: Type.Literal('locate'), reqId: Int(), executorId: Id }),
  Type.Object({ t: Type.Literal('relay'), toWorker: Id, frame: Payload }),
  /** A WebRTC signal for another worker; `linkId` tells its links apart. */
  Type.Object({ t: Type.Literal('signal'), toWorker: Id, linkId: Id, signal: RtcSignalSchema }),
  /** From now on this worker lends this many cores (0: paused); executors over it are revoked. */
  Type.Object({ t: Type.Literal('cores'), cores: Int({ maximum: 4096 }) }),
]);

export const CoordinatorToWorkerSchema = Type.Union([
  Type.Object({ t: Type.Literal('welcome'), workerId: Id }),
  Type.Object({ t: Type.Literal('launch'), executorId: Id, app: AppInfoSchema }),
  /** Stop the executor: its application ended or gave it back. */
  Type.Object({ t: Type.Literal('release'), executorId: Id }),
  Type.Object({ t: Type.Literal('toExecutor'), executorId: Id, message: Payload }),
  /**
   * `appId`: the application the executor works for; executors of different ones never exchange
   * blocks. `webRtc`: whether its worker answers WebRTC offers (false: reach it through the relay).
   */
  Type.Object({ t: Type.Literal('located'), reqId: Int(), executorId: Id, workerId: Type.Union([Id, Type.Null()]), dataUrl: Type.Union([Text(2048), Type.Null()]), appId: Type.Optional(Type.Union([Id, Type.Null()])), webRtc: Type.Optional(Type.Boolean()) }),
  Type.Object({ t: Type.Literal('relayed'), fromWorker: Id, frame: Payload }),
  /** A relayed frame could not be delivered: that worker is gone. */
  Type.Object({ t: Type.Literal('relayFailed'), toWorker: Id }),
  Type.Object({ t: Type.Literal('signalled'), fromWorker: Id, linkId: Id, signal: RtcSignalSchema }),
  Type.Object({ t: Type.Literal('shutdown'), reason: Text() }),
]);

/** Between workers (and a driver) over direct data links or the relay: peer traffic of executors. */
export const DataMessageSchema = Type.Union([
  /** `nonce`: the opener of a direct link sends it on the link and through the relay (peer-router.ts). */
  Type.Object({ t: Type.Literal('hello'), from: Id, protocol: Type.Literal(1), nonce: Type.Optional(Text(64)) }),
  Type.Object({ t: Type.Literal('peer'), from: Id, to: Id, message: PeerMessageSchema }),
  Type.Object({ t: Type.Literal('peerGone'), from: Id, to: Id }),
]);

export type Hello = Static<typeof HelloSchema>;
export type DriverHello = Static<typeof DriverHelloSchema>;
export type WorkerHello = Static<typeof WorkerHelloSchema>;
export type AppInfo = Static<typeof AppInfoSchema>;
export type DriverToCoordinator = Static<typeof DriverToCoordinatorSchema>;
export type CoordinatorToDriver = Static<typeof CoordinatorToDriverSchema>;
export type WorkerToCoordinator = Static<typeof WorkerToCoordinatorSchema>;
export type CoordinatorToWorker = Static<typeof CoordinatorToWorkerSchema>;
export type DataMessage = Static<typeof DataMessageSchema>;

/** A compiled check: returns the value typed, or throws PROTOCOL_ERROR saying what is wrong where. */
export interface MessageCheck<T> {
  (value: unknown, from: string): T;
}

function checker<T>(schema: TSchema, what: string): MessageCheck<T> {
  const compiled = TypeCompiler.Compile(schema);
  return (value, from) => {
    if (compiled.Check(value)) return value as T;
    const first = compiled.Errors(value).First();
    const kind = typeof value === 'object' && value !== null && typeof (value as { t?: unknown }).t === 'string' ? ` "${(value as { t: string }).t}"` : '';
    throw new FlintError(
      'PROTOCOL_ERROR',
      `malformed ${what}${kind} from ${from}: ${first ? `${first.path || '/'} ${first.message}` : 'does not match the protocol'}`,
    );
  };
}

export const checkHello = checker<Hello>(HelloSchema, 'hello');
export const checkDriverToCoordinator = checker<DriverToCoordinator>(DriverToCoordinatorSchema, 'driver message');
export const checkCoordinatorToDriver = checker<CoordinatorToDriver>(CoordinatorToDriverSchema, 'coordinator message');
export const checkWorkerToCoordinator = checker<WorkerToCoordinator>(WorkerToCoordinatorSchema, 'worker message');
export const checkCoordinatorToWorker = checker<CoordinatorToWorker>(CoordinatorToWorkerSchema, 'coordinator message');
export const checkDataMessage = checker<DataMessage>(DataMessageSchema, 'data message');
export const checkDriverToExecutor = checker<DriverToExecutor>(DriverToExecutorSchema, 'driver-to-executor message');
export const checkExecutorToDriver = checker<ExecutorToDriver>(ExecutorToDriverSchema, 'executor-to-driver message');
export const checkPeerMessage = checker<PeerMessage>(PeerMessageSchema, 'peer message');
export const checkFlintEvent = checker<FlintEvent>(FlintEventSchema, 'event');

// Whatever a check accepts must be a value of the type the executor and driver code expect, and
// every value of that type must pass the check (tuples keep unions from being split).
type Accepts<Schema extends TSchema, T> = [Static<Schema>] extends [T] ? true : never;
const typesAgree: [
  Accepts<typeof DriverToExecutorSchema, DriverToExecutor>,
  Accepts<typeof ExecutorToDriverSchema, ExecutorToDriver>,
  Accepts<typeof PeerMessageSchema, PeerMessage>,
  Accepts<typeof FlintEventSchema, FlintEvent>,
] = [true, true, true, true];
void typesAgree;
type Admits<Schema extends TSchema, T> = [T] extends [Static<Schema>] ? true : never;
const schemasAdmitTypes: [Admits<typeof DriverToExecutorSchema, DriverToExecutor>, Admits<typeof ExecutorToDriverSchema, ExecutorToDriver>, Admits<typeof PeerMessageSchema, PeerMessage>] = [true, true, true];
void schemasAdmitTypes;
