/**
 * Computes one partition of a stage plan as a stream of record batches, recursing through the
 * lineage exactly as Spark's RDD.iterator does: sources at the leaves (slices, ranges, file splits,
 * shuffle reads, cached blocks, checkpoint files) and fused narrow operators above them.
 */
import { decodeRecords } from '../codec/records.js';
import type { ClosureSpec } from '../codec/closure-spec.js';
import type { TaskMemory } from '../memory/memory-manager.js';
import type { TaskScratch } from '../memory/scratch.js';
import type { AggregatorDesc, BlockLocation, CogroupSource, PlanNode } from '../plan/plan.js';
import type { FileSplit } from '../plan/sources.js';
import { blockIdOfRdd } from '../plan/plan.js';
import type { FlintOps } from '../ops/types.js';
import { batchRecords, normalizeScannedKeys } from '../shuffle/agg-batches.js';
import { aggregatorOf, expectPair, type Aggregator } from '../shuffle/aggregator.js';
import { SpillableCombiners } from '../shuffle/combiner-map.js';
import { decodeFrame, gatherSorted, reduceFrames, sortedBatches, type ReduceSpec } from '../shuffle/reader.js';
import type { BlockStore } from './block-store.js';
import { applyOps, applyOpsInto, applyRangeInto, splitForSink, type Batches, type PairSink } from './ops.js';
import type { ExecutorPlatform } from './platform.js';
import { RecordBuffer } from './record-buffer.js';

export interface PipelineContext {
  slices: Record<string, Uint8Array>;
  blocks: BlockLocation[];
  platform: ExecutorPlatform;
  store: BlockStore;
  instantiate(spec: ClosureSpec): Function;
  /**
   * The payloads of the given shuffle blocks' frames, in map order, fetched with a bound on the
   * bytes in flight; throws a FetchFailedError for a lost block.
   */
  shuffleFrames(locations: BlockLocation[]): AsyncIterable<Uint8Array>;
  /** The task's share of the executor's memory, and its spill files. */
  memory: TaskMemory;
  scratch: TaskScratch;
  onBlockCached(blockId: string, bytes: number): void;
  metrics: { recordsRead: number; shuffleReadBytes: number };
  /** This executor's operators (WebAssembly, or the twins when the job runs with wasm off). */
  ops: FlintOps;
  /** Records that an operator ran, for the task's metrics. */
  used(operator: string): void;
  /** Throws when the driver asked the task to stop; called between batches. */
  checkKilled(): void;
}

const RANGE_BATCH = 8192;

export function computePartition(node: PlanNode, partition: number, ctx: PipelineContext): Batches {
  switch (node.kind) {
    case 'empty':
      return (async function* () {})();
    case 'parallel':
      return sliceSource(node.rddId, partition, ctx);
    case 'range': {
      const { from, to } = rangeOf(node, partition);
      return rangeSource(node.start, node.step, from, to);
    }
    case 'textFile':
      return countRead(ctx.platform.readTextSplit(node.splits[partition]!), ctx);
    case 'textScan':
      return textScan(node, partition, ctx);
    case 'wholeTextFiles':
      return wholeFiles(node.groups[partition]!, ctx);
    case 'pipe': {
      // sortBy's `values` right after its sort: the sort hands on the values alone (no pairs).
      const sorted = sortedReadOfValues(node);
      if (sorted) return applyOps(node.ops.slice(1), shuffleRead(sorted, partition, ctx, true), partition, ctx.instantiate, ctx);
      return applyOps(node.ops, computePartition(node.parent, partition, ctx), partition, ctx.instantiate, ctx);
    }
    case 'union': {
      let i = node.offsets.length - 1;
      while (node.offsets[i]! > partition) i--;
      return computePartition(node.parents[i]!, partition - node.offsets[i]!, ctx);
    }
    case 'coalesce':
      return concatPartitions(node.parent, node.groups[partition]!, ctx);
    case 'zip':
      return zipPartitions(node.left, node.right, partition, ctx);
    case 'cartesian':
      return cartesian(node.left, node.right, Math.floor(partition / node.rightPartitions), partition % node.rightPartitions, ctx);
    case 'shuffleRead':
      return shuffleRead(node, partition, ctx);
    case 'cogroup':
      return node.combine ? combineLocally(node.sources[0]!, node.combine, partition, ctx) : cogroup(node.sources, partition, ctx);
    case 'cached':
      return cachedOrCompute(node, partition, ctx);
    case 'checkpoint':
      return checkpointSource(node.files[partition]!, ctx);
  }
}

/**
 * The partition fed pair by pair into `sink` (a map-side combiner) by the generated code of the
 * narrow chain at the top of the plan, or null when the plan does not end in such a chain. The
 * stream yields an empty batch after each batch of input.
 */
export function computePartitionInto(
  node: PlanNode,
  partition: number,
  ctx: PipelineContext,
  sink: PairSink,
  notPair: (record: unknown) => never,
): Batches | null {
  if (node.kind !== 'pipe' || sortedReadOfValues(node)) return null;
  const parent = node.parent;
  const split = splitForSink(node.ops);
  if (!split) return null;
  if (parent.kind === 'range' && split.head.length === 0) {
    const { from, to } = rangeOf(parent, partition);
    return applyRangeInto(split.tail, { start: parent.start, step: parent.step, from, to }, ctx.instantiate, sink, notPair);
  }
  return applyOpsInto(split, computePartition(parent, partition, ctx), partition, ctx.instantiate, ctx, sink, notPair);
}

async function* sliceSource(rddId: number, partition: number, ctx: PipelineContext): Batches {
  const bytes = ctx.slices[`${rddId}:${partition}`];
  if (!bytes) throw new Error(`internal: slice ${rddId}:${partition} was not shipped with the task`);
  const records = decodeRecords(bytes);
  ctx.metrics.recordsRead += records.length;
  if (records.length > 0) yield records;
}

/** The sort's shuffle read (without an aggregator) whose pairs a chain starting with `values` reads, if it does. */
function sortedReadOfValues(node: Extract<PlanNode, { kind: 'pipe' }>): Extract<PlanNode, { kind: 'shuffleRead' }> | null {
  const parent = node.parent;
  return node.ops[0]?.op === 'values' && parent.kind === 'shuffleRead' && parent.sort && !parent.aggregator ? parent : null;
}

/** The indices of a range's numbers in one of its partitions. */
function rangeOf(node: Extract<PlanNode, { kind: 'range' }>, partition: number): { from: number; to: number } {
  return { from: Math.floor((partition * node.count) / node.slices), to: Math.floor(((partition + 1) * node.count) / node.slices) };
}

async function* rangeSource(start: number, step: number, from: number, to: number): Batches {
  for (let i = from; i < to; i += RANGE_BATCH) {
    const end = Math.min(to, i + RANGE_BATCH);
    const out = new Array<number>(end - i);
    for (let j = i; j < end; j++) out[j - i] = start + j * step;
    yield out;
  }
}

/** Lines in a region of readSplitLines: its '\n's plus one, counted by the operators' byte scan. */
function linesIn(region: Uint8Array, ops: FlintOps): number {
  return ops.countByte(region, 0x0a) + 1;
}

/** Hands each byte region of a text split to `visit`, counting its lines as records read. */
export async function scanRegions(split: FileSplit, ctx: PipelineContext, visit: (region: Uint8Array) => void): Promise<void> {
  for await (const region of ctx.platform.readSplitLines(split)) {
    ctx.checkKilled();
    ctx.metrics.recordsRead += linesIn(region, ctx.ops);
    visit(region);
  }
}

/**
 * A fused text scan (plan/fusion.ts) over a split's raw bytes: line count, word counts, or the
 * words (as [word, value] pairs with `pair`) cut out by the operators' scanner.
 */
async function* textScan(node: Extract<PlanNode, { kind: 'textScan' }>, partition: number, ctx: PipelineContext): Batches {
  const split = node.splits[partition]!;
  if (node.count === 'lines') {
    const before = ctx.metrics.recordsRead;
    await scanRegions(split, ctx, () => {});
    ctx.used('lineScan');
    yield [ctx.metrics.recordsRead - before];
    return;
  }
  if (node.count === 'words') {
    const agg = ctx.ops.createAggregator('bytes', 'count');
    try {
      await scanRegions(split, ctx, (region) => agg.addWords(region));
      ctx.used('wordScan');
      yield batchRecords(normalizeScannedKeys(agg.finish()).batch);
    } finally {
      agg.release();
    }
    return;
  }
  const pair = node.pair;
  for await (const region of ctx.platform.readSplitLines(split)) {
    ctx.metrics.recordsRead += linesIn(region, ctx.ops);
    const words: unknown[] = ctx.ops.words(region);
    ctx.used('wordScan');
    if (pair) for (let i = 0; i < words.length; i++) words[i] = [words[i], pair.value];
    if (words.length > 0) yield words;
  }
}

async function* countRead(source: AsyncIterable<string[]>, ctx: PipelineContext): Batches {
  for await (const batch of source) {
    ctx.metrics.recordsRead += batch.length;
    yield batch;
  }
}

async function* wholeFiles(files: FileSplit[], ctx: PipelineContext): Batches {
  for (const file of files) yield [[file.path, await ctx.platform.readWholeTextFile(file)]];
}

async function* concatPartitions(parent: PlanNode, partitions: number[], ctx: PipelineContext): Batches {
  for (const p of partitions) yield* computePartition(parent, p, ctx);
}

/** Pairs the i-th records of two partitions as both stream by, a batch at a time. */
async function* zipPartitions(left: PlanNode, right: PlanNode, p: number, ctx: PipelineContext): Batches {
  const a = computePartition(left, p, ctx)[Symbol.asyncIterator]();
  const b = computePartition(right, p, ctx)[Symbol.asyncIterator]();
  let xs: unknown[] = [];
  let ys: unknown[] = [];
  let i = 0;
  let j = 0;
  let seen = 0;
  let aDone = false;
  let bDone = false;
  try {
    for (;;) {
      while (!aDone && i === xs.length) {
        const n = await a.next();
        if (n.done) aDone = true;
        else [xs, i] = [n.value, 0];
      }
      while (!bDone && j === ys.length) {
        const n = await b.next();
        if (n.done) bDone = true;
        else [ys, j] = [n.value, 0];
      }
      const k = Math.min(xs.length - i, ys.length - j);
      if (k === 0) {
        if (aDone && bDone) return;
        // One side ended first: count the rest of the other for the message.
        let more = aDone ? ys.length - j : xs.length - i;
        const rest = aDone ? b : a;
        for (let n = await rest.next(); !n.done; n = await rest.next()) more += n.value.length;
        const [l, r] = aDone ? [seen, seen + more] : [seen + more, seen];
        throw new Error(`zip: partition ${p} has ${l} elements on the left and ${r} on the right; ` +
          'can only zip RDDs with the same number of elements in each partition');
      }
      const out = new Array<unknown>(k);
      for (let n = 0; n < k; n++) out[n] = [xs[i + n], ys[j + n]];
      i += k;
      j += k;
      seen += k;
      yield out;
    }
  } finally {
    await a.return?.();
    await b.return?.();
  }
}

const PAIRS_PER_BATCH = 4096;

/**
 * Every pair of a left and a right record, left-major as Spark gives them: the right partition is
 * held (memory, then scratch disk) and read again for each left record while the left streams.
 */
async function* cartesian(left: PlanNode, right: PlanNode, lp: number, rp: number, ctx: PipelineContext): Batches {
  const rights = new RecordBuffer(ctx.memory, ctx.scratch);
  try {
    for await (const batch of computePartition(right, rp, ctx)) rights.add(batch);
    if (rights.length === 0) return;
    let out: unknown[] = [];
    for await (const batch of computePartition(left, lp, ctx)) {
      for (const x of batch) {
        for (const ys of rights.batches()) {
          for (const y of ys) {
            out.push([x, y]);
            if (out.length === PAIRS_PER_BATCH) {
              yield out;
              out = [];
            }
          }
        }
      }
    }
    if (out.length > 0) yield out;
  } finally {
    rights.release();
  }
}

/**
 * A result task's output: for a sort's shuffle read with nothing after it but sortBy's `values`,
 * whose frames were all number column blocks, the result block written from the sorted columns (no
 * record is built on the executor, and the driver reads the columns straight into collect's
 * array); otherwise the records, as computePartition gives them.
 */
export async function computeResult(
  node: PlanNode,
  partition: number,
  ctx: PipelineContext,
): Promise<{ block: Uint8Array; rows: number } | { batches: Batches }> {
  const valuesOnly = node.kind === 'pipe' && node.ops.length === 1;
  const read = node.kind === 'shuffleRead' ? node : node.kind === 'pipe' && valuesOnly ? sortedReadOfValues(node) : null;
  if (!read || !read.sort || read.aggregator) return { batches: computePartition(node, partition, ctx) };
  const locations = blocksOf(read.shuffleId, partition, ctx);
  const spec = reduceSpec(read, ctx, valuesOnly);
  const ascending = read.sort.ascending;
  const expected = locations.reduce((a, b) => a + b.bytes, 0);
  const gathered = await gatherSorted(killable(ctx.shuffleFrames(locations), ctx.checkKilled), ascending, spec, expected);
  if ('columns' in gathered) {
    const result = gathered.columns.sortedBlock(ascending, ctx.used, valuesOnly);
    if (result) {
      ctx.metrics.recordsRead += result.rows;
      return result;
    }
  }
  return {
    batches: (async function* () {
      for (const batch of sortedBatches(gathered, ascending, spec)) {
        ctx.metrics.recordsRead += batch.length;
        yield batch;
      }
    })(),
  };
}

/** The stream's items, stopping at the first boundary after a kill. */
export async function* killable<T>(stream: AsyncIterable<T>, checkKilled: () => void): AsyncGenerator<T> {
  for await (const item of stream) {
    checkKilled();
    yield item;
  }
}

/** Where this reduce partition's blocks of a shuffle are. */
function blocksOf(shuffleId: number, partition: number, ctx: PipelineContext): PipelineContext['blocks'] {
  return ctx.blocks.filter((b) => b.shuffleId === shuffleId && b.reduceId === partition);
}

function reduceSpec(node: Extract<PlanNode, { kind: 'shuffleRead' }>, ctx: PipelineContext, valuesOnly: boolean): ReduceSpec {
  return {
    aggregator: node.aggregator ? aggregatorOf(node.aggregator, ctx.instantiate) : null,
    mapSideCombined: node.mapSideCombined,
    sort: node.sort,
    valuesOnly,
    where: 'shuffle',
    ops: ctx.ops,
    used: ctx.used,
    memory: ctx.memory,
    scratch: ctx.scratch,
  };
}

async function* shuffleRead(node: Extract<PlanNode, { kind: 'shuffleRead' }>, partition: number, ctx: PipelineContext, valuesOnly = false): Batches {
  for await (const batch of reduceFrames(ctx.shuffleFrames(blocksOf(node.shuffleId, partition, ctx)), reduceSpec(node, ctx, valuesOnly))) {
    ctx.metrics.recordsRead += batch.length;
    yield batch;
  }
}

/**
 * Values per key from every source, as [key, [vs of source 0, vs of source 1, ...]]: the combiners
 * of a cogroup, within the task's memory (a source's value is tagged with its index on the way in).
 */
function cogroupAggregator(n: number): Aggregator {
  return {
    createCombiner: (tagged) => {
      const [i, v] = tagged as [number, unknown];
      const g: unknown[][] = Array.from({ length: n }, () => []);
      g[i]!.push(v);
      return g;
    },
    mergeValue: (g, tagged) => {
      const [i, v] = tagged as [number, unknown];
      (g as unknown[][])[i]!.push(v);
      return g;
    },
    mergeCombiners: (a, b) => {
      const x = a as unknown[][];
      (b as unknown[][]).forEach((vs, i) => {
        for (const v of vs) x[i]!.push(v);
      });
      return x;
    },
  };
}

async function* cogroup(sources: Extract<PlanNode, { kind: 'cogroup' }>['sources'], partition: number, ctx: PipelineContext): Batches {
  const n = sources.length;
  const groups = new SpillableCombiners(ctx.memory, ctx.scratch, cogroupAggregator(n));
  const add = (i: number, records: readonly unknown[]) => {
    for (const r of records) {
      const [k, v] = expectPair(r, 'cogroup');
      groups.addValue(k, [i, v]);
    }
    groups.endBatch();
  };
  for (let i = 0; i < n; i++) {
    const source = sources[i]!;
    if (source.kind === 'narrow') {
      for await (const batch of computePartition(source.node, partition, ctx)) add(i, batch);
    } else {
      for await (const payload of ctx.shuffleFrames(blocksOf(source.shuffleId, partition, ctx))) add(i, decodeFrame(payload));
    }
  }
  yield* groups.results();
}

async function* combineLocally(source: CogroupSource, desc: AggregatorDesc, partition: number, ctx: PipelineContext): Batches {
  if (source.kind !== 'narrow') throw new Error('internal: local combine reads a narrow parent');
  const combined = new SpillableCombiners(ctx.memory, ctx.scratch, aggregatorOf(desc, ctx.instantiate));
  for await (const batch of computePartition(source.node, partition, ctx)) {
    for (const r of batch) {
      const [k, v] = expectPair(r, 'combine');
      combined.addValue(k, v);
    }
    combined.endBatch();
  }
  yield* combined.results();
}

/**
 * A cached partition: read from the block store (memory, or disk a frame at a time), or computed
 * and stored while it streams on (a partition that was not read to its end is not stored).
 */
async function* cachedOrCompute(node: Extract<PlanNode, { kind: 'cached' }>, partition: number, ctx: PipelineContext): Batches {
  const blockId = blockIdOfRdd(node.rddId, partition);
  const hit = ctx.store.getCached(blockId);
  if (hit) {
    // Copies keep downstream operators that sort or append in place away from the stored block.
    if ('records' in hit) {
      if (hit.records.length > 0) yield hit.records.slice();
    } else {
      for (const batch of hit.fromDisk()) yield batch;
    }
    return;
  }
  const writer = ctx.store.cacheWriter(blockId, node.storage);
  let complete = false;
  try {
    for await (const batch of computePartition(node.child, partition, ctx)) {
      writer.add(batch);
      yield batch.slice();
    }
    complete = true;
  } finally {
    if (!complete) writer.abort();
    else {
      const bytes = writer.finish();
      if (bytes !== null) ctx.onBlockCached(blockId, bytes);
    }
  }
}

async function* checkpointSource(path: string, ctx: PipelineContext): Batches {
  const records = decodeRecords(await ctx.platform.readFile(path));
  ctx.metrics.recordsRead += records.length;
  if (records.length > 0) yield records;
}
