/**
 * The executor: runs task descriptors sent by the driver over an Endpoint, keeps a block store, and
 * serves its shuffle blocks to peer executors. The same code runs in the driver's thread (master
 * 'local'), in a Node worker thread, and (next) in remote Node workers and browser Web Workers; it
 * imports no Node built-ins.
 */
import '../builtins.js';
import { instantiateClosure } from '../codec/closure-runtime.js';
import type { ClosureSpec } from '../codec/closure-spec.js';
import { decodeValue, encodeRecords } from '../codec/records.js';
import { FlintError, toWireError } from '../errors.js';
import type { TaskMetrics } from '../events/events.js';
import type { BlockLocation, TaskDescriptor, TaskResult } from '../plan/plan.js';
import { aggregatorOf } from '../shuffle/aggregator.js';
import { partitionFunction } from '../shuffle/partition-fn.js';
import { executorOps } from '../ops/executor-ops.js';
import { AggBatchWriter, createShuffleWriter } from '../shuffle/writer.js';
import type { Endpoint } from '../transport/endpoint.js';
import { BlockStore } from './block-store.js';
import { collectAll } from './ops.js';
import { computePartition, scanRegions, type PipelineContext } from './pipeline.js';
import { formatLine } from './text-format.js';
import type { ExecutorPlatform } from './platform.js';
import type { DriverToExecutor, ExecutorToDriver, PeerMessage } from './protocol.js';

export interface ExecutorOptions {
  executorId: string;
  platform: ExecutorPlatform;
  memoryBudgetBytes?: number;
  heartbeatIntervalMs?: number;
  /** Tasks run at once; more may be queued (the driver sends some ahead to hide the round trip). */
  cores?: number;
}

export class FetchFailedError extends Error {
  constructor(
    readonly shuffleId: number,
    readonly mapId: number,
    readonly executorId: string,
    detail: string,
  ) {
    super(`failed to fetch shuffle ${shuffleId} map output ${mapId} from executor ${executorId}: ${detail}`);
    this.name = 'FetchFailedError';
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
  private readonly store: BlockStore;
  private readonly broadcasts = new Map<number, unknown>();
  private readonly peers = new Map<string, Peer>();
  private readonly running = new Set<number>();
  private readonly queued: TaskDescriptor[] = [];
  private readonly cores: number;
  private nextReqId = 1;
  private heartbeat: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly driver: Endpoint,
    options: ExecutorOptions,
  ) {
    this.executorId = options.executorId;
    this.platform = options.platform;
    this.cores = Math.max(1, options.cores ?? 1);
    this.store = new BlockStore(options.memoryBudgetBytes ?? 512 * 1024 * 1024, (blockId) =>
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
    this.send({ t: 'heartbeat', executorId: this.executorId, runningTasks: [...this.running], memoryBytes: this.store.memoryBytes });
  }

  /** Connects a peer executor for shuffle block fetches (both directions). */
  addPeer(executorId: string, endpoint: Endpoint): void {
    const peer: Peer = { endpoint, pending: new Map() };
    this.peers.set(executorId, peer);
    endpoint.onMessage((m) => this.onPeerMessage(peer, m as PeerMessage));
    endpoint.onClose(() => this.dropPeer(executorId));
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
      case 'task':
        // Interleaving two tasks at their awaits would only make both finish late.
        if (this.running.size < this.cores) void this.runTask(m.task);
        else this.queued.push(m.task);
        break;
      case 'broadcast':
        this.broadcasts.set(m.id, decodeValue(m.bytes));
        break;
      case 'dropBroadcast':
        this.broadcasts.delete(m.id);
        break;
      case 'dropBlocks':
        this.store.drop(m.prefix);
        break;
      case 'peerGone':
        this.dropPeer(m.executorId);
        break;
      case 'shutdown':
        if (this.heartbeat) clearInterval(this.heartbeat);
        for (const id of [...this.peers.keys()]) this.dropPeer(id);
        this.driver.close();
        break;
    }
  }

  private onPeerMessage(peer: Peer, m: PeerMessage): void {
    if (m.t === 'fetch') {
      const data: Array<Uint8Array | null> = [];
      const transfer: ArrayBuffer[] = [];
      for (const b of m.blocks) {
        const block = this.store.getShuffleBlock(b.shuffleId, b.mapId, b.reduceId);
        if (!block) {
          data.push(null);
          continue;
        }
        // The holder keeps its block for other reducers and retries; the copy moves without cloning.
        const copy = block.slice();
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

  private async fetch(locations: BlockLocation[]): Promise<Uint8Array[]> {
    const byExecutor = new Map<string, BlockLocation[]>();
    for (const loc of locations) {
      let list = byExecutor.get(loc.executorId);
      if (!list) byExecutor.set(loc.executorId, (list = []));
      list.push(loc);
    }
    const results = new Map<BlockLocation, Uint8Array>();
    await Promise.all(
      [...byExecutor].map(async ([executorId, locs]) => {
        if (executorId === this.executorId) {
          for (const loc of locs) {
            const block = this.store.getShuffleBlock(loc.shuffleId, loc.mapId, loc.reduceId);
            if (!block) throw new FetchFailedError(loc.shuffleId, loc.mapId, executorId, 'block not found locally');
            results.set(loc, block);
          }
          return;
        }
        const peer = this.peers.get(executorId);
        if (!peer) throw new FetchFailedError(locs[0]!.shuffleId, locs[0]!.mapId, executorId, 'no connection to that executor');
        const reqId = this.nextReqId++;
        let data: Array<Uint8Array | null>;
        try {
          data = await new Promise<Array<Uint8Array | null>>((resolve, reject) => {
            peer.pending.set(reqId, { resolve, reject });
            peer.endpoint.send({
              t: 'fetch',
              reqId,
              blocks: locs.map((l) => ({ shuffleId: l.shuffleId, mapId: l.mapId, reduceId: l.reduceId })),
            } satisfies PeerMessage);
          });
        } catch (err) {
          throw new FetchFailedError(locs[0]!.shuffleId, locs[0]!.mapId, executorId, (err as Error).message);
        }
        locs.forEach((loc, i) => {
          const block = data[i];
          if (!block) throw new FetchFailedError(loc.shuffleId, loc.mapId, executorId, 'block not found on that executor');
          results.set(loc, block);
        });
      }),
    );
    // Blocks are merged in map order so that results do not depend on fetch timing.
    return [...locations].sort((a, b) => a.mapId - b.mapId).map((loc) => results.get(loc)!);
  }

  private broadcastValue(id: number): unknown {
    if (!this.broadcasts.has(id)) {
      throw new FlintError('BROADCAST_DESTROYED', `broadcast ${id} is not available on executor ${this.executorId} (destroyed or unpersisted)`);
    }
    return this.broadcasts.get(id);
  }

  private async runTask(task: TaskDescriptor): Promise<void> {
    const started = Date.now();
    this.running.add(task.taskId);
    const metrics: TaskMetrics = {
      durationMs: 0,
      recordsRead: 0,
      recordsWritten: 0,
      shuffleReadBytes: 0,
      shuffleWriteBytes: 0,
      resultBytes: 0,
      operators: [],
    };
    const blocksAdded: Array<{ blockId: string; bytes: number }> = [];
    let result: TaskResult;
    const transfer: ArrayBuffer[] = [];
    try {
      // Compiled factories are cached by source in the codec, so a stage's closures compile once
      // per executor; instantiating binds this task's env.
      const inst = (spec: ClosureSpec) => instantiateClosure(spec, (id) => this.broadcastValue(id));
      const ops = executorOps(task.useWasm);
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
        fetch: async (locations) => {
          const blocks = await this.fetch(locations);
          for (const b of blocks) metrics.shuffleReadBytes += b.byteLength;
          return blocks;
        },
        onBlockCached: (blockId, bytes) => blocksAdded.push({ blockId, bytes }),
        metrics,
      };
      const stream = computePartition(task.plan, task.partition, ctx);
      const output = task.output;
      let resultBytes: Uint8Array | null = null;
      let mapSizes: number[] | null = null;
      switch (output.kind) {
        case 'result': {
          const records = await collectAll(stream);
          metrics.recordsWritten = records.length;
          resultBytes = encodeRecords(records);
          break;
        }
        case 'shuffle': {
          const combiner = output.combiner ? aggregatorOf(output.combiner, inst) : null;
          const native = output.combiner?.kind === 'builtin' ? { ops, name: output.combiner.name, used } : null;
          const writer = createShuffleWriter(
            output.partitioner.numPartitions,
            partitionFunction(output.partitioner, task.partition, inst),
            combiner,
            'shuffle',
            native,
          );
          let buckets: Uint8Array[];
          try {
            const plan = task.plan;
            if (plan.kind === 'textScan' && plan.pair && !plan.count && writer instanceof AggBatchWriter && writer.acceptsWords(plan.pair.value)) {
              // The planner's fused scan meets a count of its words: one pass over the raw bytes.
              await scanRegions(plan.splits[task.partition]!, ctx, (region) => writer.writeWords(region));
            } else {
              for await (const batch of stream) writer.write(batch);
            }
            buckets = writer.finish();
          } finally {
            writer.release();
          }
          this.store.putShuffleOutput(output.shuffleId, task.partition, buckets);
          mapSizes = buckets.map((b) => b.byteLength);
          metrics.recordsWritten = writer.recordsWritten;
          metrics.shuffleWriteBytes = mapSizes.reduce((a, b) => a + b, 0);
          break;
        }
        case 'text': {
          const out = await this.platform.openTextOutput(output.path);
          try {
            for await (const batch of stream) {
              await out.write(batch.map(formatLine));
              metrics.recordsWritten += batch.length;
            }
            await out.close();
          } catch (err) {
            await out.abort().catch(() => undefined);
            throw err;
          }
          break;
        }
        case 'checkpoint': {
          const records = await collectAll(stream);
          await this.platform.writeFileAtomic(output.path, encodeRecords(records));
          metrics.recordsWritten = records.length;
          break;
        }
      }
      if (resultBytes) {
        metrics.resultBytes = resultBytes.byteLength;
        if (resultBytes.byteOffset === 0 && resultBytes.byteLength === resultBytes.buffer.byteLength) {
          transfer.push(resultBytes.buffer as ArrayBuffer);
        }
      }
      metrics.durationMs = Date.now() - started;
      metrics.operators = [...operators].sort();
      result = { taskId: task.taskId, ok: true, result: resultBytes, mapSizes, blocksAdded, metrics };
    } catch (err) {
      metrics.durationMs = Date.now() - started;
      const fetchFailed =
        err instanceof FetchFailedError ? { shuffleId: err.shuffleId, mapId: err.mapId, executorId: err.executorId } : null;
      result = { taskId: task.taskId, ok: false, error: toWireError(err), fetchFailed, metrics };
    }
    this.running.delete(task.taskId);
    this.send({ t: 'taskEnd', result }, transfer);
    const next = this.queued.shift();
    if (next) void this.runTask(next);
  }
}
