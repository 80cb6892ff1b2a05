/**
 * The executor: runs task descriptors sent by the driver over an Endpoint, keeps a block store, and
 * serves its shuffle blocks to peer executors. The same code runs in the driver's thread (master
 * 'local'), in a Node worker thread, and (next) in remote Node workers and browser Web Workers; it
 * imports no Node built-ins.
 */
import '../builtins.js';
import { instantiateClosure } from '../codec/closure-runtime.js';
import type { ClosureSpec } from '../codec/closure-spec.js';
import { BlockBuilder } from '../codec/block-builder.js';
import { decodeValue } from '../codec/records.js';
import { FlintError, toWireError } from '../errors.js';
import type { TaskMetrics } from '../events/events.js';
import { ExecutorMemory } from '../memory/memory-manager.js';
import { TaskScratch } from '../memory/scratch.js';
import type { BlockLocation, PlanNode, StagePlan, TaskDescriptor, TaskResult } from '../plan/plan.js';
import { aggregatorOf, expectPair } from '../shuffle/aggregator.js';
import { mapOutputChunks, type MapOutput } from '../shuffle/map-output.js';
import { numberRange, partitionFunction } from '../shuffle/partition-fn.js';
import { RangeColumnWriter } from '../shuffle/range-writer.js';
import { executorOps } from '../ops/executor-ops.js';
import { AggBatchWriter, createShuffleWriter } from '../shuffle/writer.js';
import type { Endpoint } from '../transport/endpoint.js';
import { BlockStore } from './block-store.js';
import { FetchFailedError, fetchFrames, type BlockRange } from './shuffle-fetch.js';
import { computePartition, computePartitionInto, computeResult, killable, scanRegions, type PipelineContext } from './pipeline.js';
import { formatLine } from './text-format.js';
import type { ExecutorPlatform } from './platform.js';
import type { DriverToExecutor, ExecutorToDriver, PeerMessage } from './protocol.js';
import type { ChaosSpec } from './chaos.js';
import { lieInStream } from './chaos.js';
import { OutputDigest } from './digest.js';
import { evaluateModule } from './modules.js';
import { adoptOutputs } from './output-adoption.js';

export interface ExecutorOptions {
  executorId: string;
  platform: ExecutorPlatform;
  /**
   * The executor's memory budget (executorMemoryMb): what its running tasks and its block store
   * may hold together (memory/memory-manager.ts). Default 512 MiB.
   */
  memoryBytes?: number;
  /** The most cached partitions may hold in memory (cacheMemoryMb); the whole budget by default. */
  cacheBytes?: number;
  /** Bytes of shuffle blocks a reduce task may have asked for and not yet merged (default: an eighth of the budget, at most 48 MiB). */
  maxInFlightBytes?: number;
  heartbeatIntervalMs?: number;
  /** Tasks run at once; more may be queued (the driver sends some ahead to hide the round trip). */
  cores?: number;
  /**
   * Opens a channel to a peer executor this one has none to yet (remote workers, browser tabs);
   * local thread executors are connected up front by their backend.
   */
  connectPeer?: (executorId: string) => Promise<Endpoint>;
  /** A fetch that gets no answer within this time fails (the peer may hang without closing). */
  fetchTimeoutMs?: number;
  /** Deliberate misbehaviour for tests and demonstrations (`--chaos`, `&chaos=`). */
  chaos?: ChaosSpec | null;
  /**
   * A result larger than this stays here as a block that the driver pulls in parts, instead of one
   * message that would hold up a relay (remote executors); in-process transports move any size.
   */
  maxDirectResultBytes?: number;
}

export { FetchFailedError };

/** Byte ranges a reducer asks a peer for at once: a megabyte, a multiple of the frames' alignment. */
const PIECE_BYTES = 1 << 20;

/** Thrown at the next batch boundary of an attempt the driver asked to stop. */
class TaskKilledError extends Error {
  constructor(reason: string) {
    super(`task killed: ${reason}`);
    this.name = 'TaskKilled';
  }
}

interface PendingFetch {
  resolve(data: Array<Uint8Array | null>): void;
  reject(err: Error): void;
}

interface Peer {
  endpoint: Endpoint;
  pending: Map<number, PendingFetch>;
}

export class Executor {
  readonly executorId: string;
  private readonly platform: ExecutorPlatform;
  private readonly memory: ExecutorMemory;
  private readonly store: BlockStore;
  private readonly maxInFlightBytes: number;
  private readonly broadcasts = new Map<number, unknown>();
  /** fl.module code by id, and the exports once evaluated. */
  private readonly modules = new Map<string, { code: string; exports?: unknown }>();
  private readonly peers = new Map<string, Peer>();
  /** Running attempts and the reason they were asked to stop, once they are. */
  private readonly running = new Map<number, { stageKey: string; killed: string | null }>();
  private readonly queued: TaskDescriptor[] = [];
  /** When each queued task arrived, for its `queuedMs`. */
  private readonly arrivals = new Map<number, number>();
  private readonly stages = new Map<string, StagePlan>();
  /** Stage plans the driver is done with, kept until their last task here ends. */
  private readonly stagesToDrop = new Set<string>();
  private readonly cores: number;
  private nextReqId = 1;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private readonly connectPeer: ((executorId: string) => Promise<Endpoint>) | null;
  private readonly connecting = new Map<string, Promise<Peer>>();
  /** Peers the driver said are gone: a fetch from one fails at once instead of waiting. */
  private readonly gonePeers = new Set<string>();
  private readonly fetchTimeoutMs: number;
  private readonly chaos: ChaosSpec | null;
  private readonly maxDirectResultBytes: number;
  /** Results kept for the driver to pull, by task id. */
  private readonly results = new Map<number, Uint8Array>();

  constructor(
    private readonly driver: Endpoint,
    options: ExecutorOptions,
  ) {
    this.executorId = options.executorId;
    this.platform = options.platform;
    this.cores = Math.max(1, options.cores ?? 1);
    this.connectPeer = options.connectPeer ?? null;
    this.fetchTimeoutMs = options.fetchTimeoutMs ?? 120_000;
    this.chaos = options.chaos ?? null;
    this.maxDirectResultBytes = options.maxDirectResultBytes ?? Infinity;
    const budget = options.memoryBytes ?? 512 * 1024 * 1024;
    this.memory = new ExecutorMemory(budget, options.platform.scratch !== undefined);
    this.maxInFlightBytes = options.maxInFlightBytes ?? Math.max(PIECE_BYTES, Math.min(48 << 20, Math.floor(budget / 8)));
    this.store = new BlockStore(this.memory, options.platform.scratch ?? null, options.cacheBytes ?? budget, (blockId) =>
      this.send({ t: 'blockRemoved', executorId: this.executorId, blockId }),
    );
    driver.onMessage((m) => this.onDriverMessage(m as DriverToExecutor));
    if (options.heartbeatIntervalMs) {
      this.heartbeat = setInterval(() => this.sendHeartbeat(), options.heartbeatIntervalMs);
      (this.heartbeat as { unref?: () => void }).unref?.();
    }
    this.send({ t: 'ready', executorId: this.executorId });
  }

  private send(message: ExecutorToDriver, transfer?: unknown[]): void {
    this.driver.send(message, transfer);
  }

  private sendHeartbeat(): void {
    this.send({ t: 'heartbeat', executorId: this.executorId, runningTasks: [...this.running.keys()], memoryBytes: this.store.memoryBytes });
  }

  /** Connects a peer executor for shuffle block fetches (both directions). */
  addPeer(executorId: string, endpoint: Endpoint): Peer {
    const existing = this.peers.get(executorId);
    if (existing?.endpoint === endpoint) return existing;
    const peer: Peer = { endpoint, pending: new Map() };
    this.peers.set(executorId, peer);
    endpoint.onMessage((m) => this.onPeerMessage(peer, m as PeerMessage));
    endpoint.onClose(() => {
      if (this.peers.get(executorId) === peer) this.dropPeer(executorId);
    });
    return peer;
  }

  /** The channel to a peer, opened on first use where the host can open channels. */
  private async peerFor(executorId: string): Promise<Peer | null> {
    const known = this.peers.get(executorId);
    if (known) return known;
    if (!this.connectPeer || this.gonePeers.has(executorId)) return null;
    let opening = this.connecting.get(executorId);
    if (!opening) {
      opening = this.connectPeer(executorId).then((endpoint) => this.addPeer(executorId, endpoint));
      this.connecting.set(executorId, opening);
      opening.then(
        () => this.connecting.delete(executorId),
        () => this.connecting.delete(executorId),
      );
    }
    return opening;
  }

  private dropPeer(executorId: string): void {
    const peer = this.peers.get(executorId);
    if (!peer) return;
    this.peers.delete(executorId);
    for (const p of peer.pending.values()) p.reject(new Error('peer executor is gone'));
    peer.pending.clear();
    peer.endpoint.close();
  }

  private onDriverMessage(m: DriverToExecutor): void {
    switch (m.t) {
      case 'stage':
        this.stages.set(m.stage.stageKey, m.stage);
        this.stagesToDrop.delete(m.stage.stageKey);
        break;
      case 'task':
        // Interleaving two tasks at their awaits would only make both finish late.
        if (this.running.size < this.cores) void this.runTask(m.task);
        else {
          this.arrivals.set(m.task.taskId, performance.now());
          this.queued.push(m.task);
        }
        break;
      case 'killTask':
        this.kill(m.taskId, m.reason);
        break;
      case 'dropStage':
        this.stagesToDrop.add(m.stageKey);
        this.dropUnusedStages();
        break;
      case 'fetchResult': {
        const held = this.results.get(m.taskId);
        const bytes = held ? held.slice(m.offset, m.offset + m.length) : null;
        this.send({ t: 'resultPart', taskId: m.taskId, offset: m.offset, total: held?.byteLength ?? 0, bytes }, bytes ? [bytes.buffer as ArrayBuffer] : []);
        break;
      }
      case 'dropResult':
        this.results.delete(m.taskId);
        break;
      case 'broadcast':
        this.broadcasts.set(m.id, decodeValue(m.bytes));
        break;
      case 'dropBroadcast':
        this.broadcasts.delete(m.id);
        break;
      case 'module':
        if (!this.modules.has(m.id)) this.modules.set(m.id, { code: m.code });
        break;
      case 'dropBlocks':
        // The driver hears what went, so its block map and listeners stay true.
        for (const blockId of this.store.drop(m.prefix)) this.send({ t: 'blockRemoved', executorId: this.executorId, blockId });
        break;
      case 'peerGone':
        this.gonePeers.add(m.executorId);
        this.dropPeer(m.executorId);
        break;
      case 'adoptOutputs':
        void adoptOutputs(m, {
          fetchRanges: (executorId, ranges) => this.fetchRanges(executorId, ranges),
          keep: (shuffleId, mapId, output) => this.store.putShuffleOutput(shuffleId, mapId, output),
        }).then((reply) => this.send(reply));
        break;
      case 'shutdown':
        if (this.heartbeat) clearInterval(this.heartbeat);
        for (const id of [...this.peers.keys()]) this.dropPeer(id);
        this.store.removeAll();
        this.driver.close();
        break;
    }
  }

  private onPeerMessage(peer: Peer, m: PeerMessage): void {
    if (m.t === 'fetch') {
      const data: Array<Uint8Array | null> = [];
      const transfer: ArrayBuffer[] = [];
      for (const b of m.blocks) {
        const size = this.store.shuffleBlockSize(b.shuffleId, b.mapId, b.reduceId);
        if (size === null) {
          data.push(null);
          continue;
        }
        // The holder keeps its block for other reducers and retries; the copy moves without cloning.
        const offset = b.offset ?? 0;
        const copy = this.store.readShuffleRange(b.shuffleId, b.mapId, b.reduceId, offset, b.length ?? size - offset)!;
        data.push(copy);
        transfer.push(copy.buffer as ArrayBuffer);
      }
      peer.endpoint.send({ t: 'blocks', reqId: m.reqId, data } satisfies PeerMessage, transfer);
    } else {
      const pending = peer.pending.get(m.reqId);
      if (!pending) return;
      peer.pending.delete(m.reqId);
      pending.resolve(m.data);
    }
  }

  /** Byte ranges of a peer's shuffle blocks, in one request. */
  private async fetchRanges(executorId: string, ranges: BlockRange[]): Promise<Array<Uint8Array | null>> {
    const first = ranges[0]!.loc;
    const reqId = this.nextReqId++;
    try {
      const peer = await this.peerFor(executorId);
      if (!peer) throw new Error(this.gonePeers.has(executorId) ? 'that executor is gone' : 'no connection to that executor');
      return await new Promise<Array<Uint8Array | null>>((resolve, reject) => {
        const timer = setTimeout(() => {
          peer.pending.delete(reqId);
          reject(new Error(`no answer within ${this.fetchTimeoutMs} ms`));
        }, this.fetchTimeoutMs);
        peer.pending.set(reqId, {
          resolve: (d) => {
            clearTimeout(timer);
            resolve(d);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        peer.endpoint.send({
          t: 'fetch',
          reqId,
          blocks: ranges.map((r) => ({ shuffleId: r.loc.shuffleId, mapId: r.loc.mapId, reduceId: r.loc.reduceId, offset: r.offset, length: r.length })),
        } satisfies PeerMessage);
      });
    } catch (err) {
      throw new FetchFailedError(first.shuffleId, first.mapId, executorId, (err as Error).message);
    }
  }

  private moduleExports(id: string): unknown {
    const mod = this.modules.get(id);
    if (!mod) throw new FlintError('INTERNAL', `module ${id.slice(0, 12)} was not sent to executor ${this.executorId}`);
    if (!('exports' in mod)) {
      const platform = this.platform;
      mod.exports = evaluateModule(id, mod.code, platform.requireBuiltin ? (name) => platform.requireBuiltin!(name) : null);
    }
    return mod.exports;
  }

  private broadcastValue(id: number): unknown {
    if (!this.broadcasts.has(id)) {
      throw new FlintError('BROADCAST_DESTROYED', `broadcast ${id} is not available on executor ${this.executorId} (destroyed or unpersisted)`);
    }
    return this.broadcasts.get(id);
  }

  private kill(taskId: number, reason: string): void {
    const queuedAt = this.queued.findIndex((t) => t.taskId === taskId);
    if (queuedAt >= 0) {
      const [task] = this.queued.splice(queuedAt, 1);
      this.arrivals.delete(taskId);
      this.send({ t: 'taskEnd', result: killedResult(task!.taskId, reason) });
      this.dropUnusedStages();
      return;
    }
    const run = this.running.get(taskId);
    if (run && run.killed === null) run.killed = reason;
  }

  private dropUnusedStages(): void {
    for (const key of this.stagesToDrop) {
      let used = this.queued.some((t) => t.stageKey === key);
      for (const r of this.running.values()) if (r.stageKey === key) used = true;
      if (used) continue;
      this.stages.delete(key);
      this.stagesToDrop.delete(key);
    }
  }

  private async runTask(task: TaskDescriptor): Promise<void> {
    const started = Date.now();
    const startedAt = performance.now();
    const arrived = this.arrivals.get(task.taskId);
    this.arrivals.delete(task.taskId);
    const run = { stageKey: task.stageKey, killed: null as string | null };
    this.running.set(task.taskId, run);
    const checkKilled = () => {
      if (run.killed !== null) throw new TaskKilledError(run.killed);
    };
    const lying = this.chaos !== null && this.chaos.lie > 0 && Math.random() < this.chaos.lie;
    const digest = task.digest ? new OutputDigest() : null;
    const metrics: TaskMetrics = {
      durationMs: 0,
      recordsRead: 0,
      recordsWritten: 0,
      shuffleReadBytes: 0,
      shuffleWriteBytes: 0,
      resultBytes: 0,
      operators: [],
      queuedMs: arrived === undefined ? 0 : roundMs(startedAt - arrived),
      fetchWaitMs: 0,
      shuffleWriteMs: 0,
      resultSerializeMs: 0,
    };
    // Phase timers in fractional ms: most tasks of a large stage take a few ms, which whole
    // milliseconds would round away.
    let fetchWait = 0;
    let shuffleWrite = 0;
    let serialize = 0;
    let remoteRead = 0;
    const timed = <T>(f: () => T): [T, number] => {
      const t0 = performance.now();
      const value = f();
      return [value, performance.now() - t0];
    };
    /** The stream's records as one block (what encodeRecords gives for them all) and how many. */
    const encodeStream = async (batches: AsyncIterable<unknown[]>): Promise<[Uint8Array, number]> => {
      const block = new BlockBuilder();
      for await (const batch of batches) serialize += timed(() => block.add(batch))[1];
      const [bytes, took] = timed(() => block.finish());
      serialize += took;
      return [bytes, block.rows];
    };
    const recordPhases = () =>
      Object.assign(metrics, { shuffleRemoteBytesRead: remoteRead, fetchWaitMs: roundMs(fetchWait), shuffleWriteMs: roundMs(shuffleWrite), resultSerializeMs: roundMs(serialize) });
    const blocksAdded: Array<{ blockId: string; bytes: number }> = [];
    let result: TaskResult;
    const transfer: ArrayBuffer[] = [];
    const taskMemory = this.memory.task(task.taskId);
    const taskScratch = new TaskScratch(this.platform.scratch ?? null, task.taskId);
    const access = {
      executorId: this.executorId,
      localFrames: (loc: BlockLocation) => this.store.shuffleBlockFrames(loc.shuffleId, loc.mapId, loc.reduceId),
      fetchRanges: (executorId: string, ranges: BlockRange[]) => this.fetchRanges(executorId, ranges),
    };
    const recordMemory = () =>
      Object.assign(metrics, { peakExecutionMemory: taskMemory.peak, memoryBytesSpilled: taskMemory.spilled, diskBytesSpilled: taskScratch.bytesWritten });
    try {
      const stage = this.stages.get(task.stageKey);
      if (!stage) throw new FlintError('INTERNAL', `task ${task.taskId} arrived without the plan of stage ${task.stageKey}`);
      // Compiled factories are cached by source in the codec, so a stage's closures compile once
      // per executor; instantiating binds this task's env.
      const inst = (spec: ClosureSpec) => instantiateClosure(spec, (id) => this.broadcastValue(id), (id) => this.moduleExports(id));
      const ops = executorOps(stage.useWasm);
      const operators = new Set<string>();
      const used = (name: string) => operators.add(`${ops.impl}:${name}`);
      const ctx: PipelineContext = {
        ops,
        used,
        slices: task.slices,
        blocks: task.blocks,
        platform: this.platform,
        store: this.store,
        instantiate: inst,
        memory: taskMemory,
        scratch: taskScratch,
        shuffleFrames: (locations) =>
          fetchFrames(locations, access, {
            maxInFlightBytes: this.maxInFlightBytes,
            pieceBytes: PIECE_BYTES,
            memory: taskMemory,
            onRead: (_loc, bytes, remote) => {
              metrics.shuffleReadBytes += bytes;
              if (remote) remoteRead += bytes;
            },
            onWait: (ms) => (fetchWait += ms),
          }),
        onBlockCached: (blockId, bytes) => blocksAdded.push({ blockId, bytes }),
        metrics,
        checkKilled,
      };
      const streamOf = (batches: AsyncIterable<unknown[]>) => {
        const computed = killable(batches, checkKilled);
        return lying ? lieInStream(computed) : computed;
      };
      // Generators: nothing is computed until the stream is read.
      const stream = streamOf(computePartition(stage.plan, task.partition, ctx));
      const output = task.output;
      let resultBytes: Uint8Array | null = null;
      let mapSizes: number[] | null = null;
      switch (output.kind) {
        case 'result': {
          // A liar takes the record path, where its lie is its own (chaos.ts).
          const computed = lying ? null : await computeResult(stage.plan, task.partition, ctx);
          if (computed && 'block' in computed) {
            // Written from the sorted columns: the bytes encodeRecords gives for their records.
            resultBytes = computed.block;
            metrics.recordsWritten = computed.rows;
            digest?.bytes(resultBytes);
            break;
          }
          [resultBytes, metrics.recordsWritten] = await encodeStream(computed ? streamOf(computed.batches) : stream);
          digest?.bytes(resultBytes);
          break;
        }
        case 'shuffle': {
          const shuffle = stage.shuffle;
          if (!shuffle) throw new FlintError('INTERNAL', `task ${task.taskId} writes a shuffle, but stage ${task.stageKey} has none`);
          const combiner = shuffle.combiner ? aggregatorOf(shuffle.combiner, inst) : null;
          const native = shuffle.combiner?.kind === 'builtin' ? { ops, name: shuffle.combiner.name, used } : null;
          const partitionOf = partitionFunction(shuffle.partitioner, task.partition, inst);
          const io = { memory: taskMemory, scratch: taskScratch };
          const range = combiner ? null : numberRange(shuffle.partitioner);
          const writer = range
            ? new RangeColumnWriter(shuffle.partitioner.numPartitions, range, partitionOf, 'shuffle', io)
            : createShuffleWriter(shuffle.partitioner.numPartitions, partitionOf, combiner, 'shuffle', native, io);
          let out: MapOutput;
          try {
            const plan = stage.plan;
            // A liar takes the record path, where its lie is its own (chaos.ts): a lie about the
            // fused scan's buckets could only empty one, and liars emptying the same one agree.
            if (!lying && plan.kind === 'textScan' && plan.pair && !plan.count && writer instanceof AggBatchWriter && writer.acceptsWords(plan.pair.value)) {
              // The planner's fused scan meets a count of its words: one pass over the raw bytes.
              await scanRegions(plan.splits[task.partition]!, ctx, (region) => (shuffleWrite += timed(() => writer.writeWords(region))[1]));
            } else if (!lying && writer instanceof RangeColumnWriter && plan.kind === 'pipe' && plan.ops.at(-1)!.op === 'keyBy') {
              // sortBy's keyBy: the writer takes the records and computes their keys itself, so no
              // [key, record] pair is built (the key function is instantiated first, as the
              // generated stage would: last operator first).
              const keyBy = plan.ops.at(-1) as { f: ClosureSpec };
              const keyOf = inst(keyBy.f) as (x: unknown) => unknown;
              const rest: PlanNode = plan.ops.length > 1 ? { ...plan, ops: plan.ops.slice(0, -1) } : plan.parent;
              for await (const batch of streamOf(computePartition(rest, task.partition, ctx))) shuffleWrite += timed(() => writer.writeKeyed(batch, keyOf))[1];
            } else {
              // A lambda combiner takes the pairs from the generated loop of the stage's last chain
              // (a liar's records take the record path: its lie is in the stream).
              const sink = lying ? null : writer.pairSink;
              const fused = sink && computePartitionInto(plan, task.partition, ctx, sink, (r) => expectPair(r, 'shuffle') as never);
              const records = fused ? killable(fused, checkKilled) : stream;
              for await (const batch of records) shuffleWrite += timed(() => writer.write(batch))[1];
            }
            let took: number;
            [out, took] = timed(() => writer.finish());
            shuffleWrite += took;
          } catch (err) {
            writer.release();
            throw err;
          }
          if (digest) out.sizes.forEach((size, r) => digest.partOf(size, mapOutputChunks(out, r, this.store.disk)));
          this.store.putShuffleOutput(shuffle.shuffleId, task.partition, out);
          mapSizes = out.sizes;
          metrics.recordsWritten = writer.recordsWritten;
          metrics.shuffleWriteBytes = mapSizes.reduce((a, b) => a + b, 0);
          break;
        }
        case 'text': {
          const out = await this.platform.openTextOutput(output.path);
          try {
            for await (const batch of stream) {
              const lines = batch.map(formatLine);
              if (digest) for (const l of lines) digest.line(l);
              await out.write(lines);
              metrics.recordsWritten += lines.length;
            }
            await out.close();
          } catch (err) {
            await out.abort().catch(() => undefined);
            throw err;
          }
          break;
        }
        case 'checkpoint': {
          const [bytes, rows] = await encodeStream(stream);
          digest?.bytes(bytes);
          await this.platform.writeFileAtomic(output.path, bytes);
          metrics.recordsWritten = rows;
          break;
        }
      }
      let resultBlock: { bytes: number } | undefined;
      if (resultBytes && resultBytes.byteLength > this.maxDirectResultBytes) {
        metrics.resultBytes = resultBytes.byteLength;
        this.results.set(task.taskId, resultBytes);
        resultBlock = { bytes: resultBytes.byteLength };
        resultBytes = null;
      }
      if (resultBytes) {
        metrics.resultBytes = resultBytes.byteLength;
        if (resultBytes.byteOffset === 0 && resultBytes.byteLength === resultBytes.buffer.byteLength) {
          transfer.push(resultBytes.buffer as ArrayBuffer);
        }
      }
      if (this.chaos) {
        if (this.chaos.slow > 1) await new Promise((r) => setTimeout(r, (this.chaos!.slow - 1) * (Date.now() - started)));
      }
      metrics.durationMs = roundMs(performance.now() - startedAt);
      metrics.operators = [...operators].sort();
      recordPhases();
      recordMemory();
      result = {
        taskId: task.taskId,
        ok: true,
        result: resultBytes,
        mapSizes,
        blocksAdded,
        metrics,
        ...(resultBlock ? { resultBlock } : {}),
        ...(digest ? { digest: await digest.hex() } : {}),
      };
    } catch (err) {
      metrics.durationMs = roundMs(performance.now() - startedAt);
      recordPhases();
      recordMemory();
      const fetchFailed =
        err instanceof FetchFailedError ? { shuffleId: err.shuffleId, mapId: err.mapId, executorId: err.executorId } : null;
      result = { taskId: task.taskId, ok: false, error: toWireError(err), fetchFailed, metrics };
      if (run.killed !== null) result.killed = true;
    }
    // Spill files go with the task, whatever its end (a map output it kept belongs to the store).
    taskMemory.close();
    taskScratch.close();
    this.running.delete(task.taskId);
    this.send({ t: 'taskEnd', result }, transfer);
    this.dropUnusedStages();
    const next = this.queued.shift();
    if (next) void this.runTask(next);
  }
}

/** Phase times are kept to a hundredth of a millisecond: finer is noise, and it costs log bytes. */
function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function killedResult(taskId: number, reason: string): TaskResult {
  const metrics: TaskMetrics = { durationMs: 0, recordsRead: 0, recordsWritten: 0, shuffleReadBytes: 0, shuffleWriteBytes: 0, resultBytes: 0, operators: [] };
  return { taskId, ok: false, killed: true, error: toWireError(new TaskKilledError(reason)), fetchFailed: null, metrics };
}
