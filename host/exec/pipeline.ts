/**
 * Computes one partition of a stage plan as a stream of record batches, recursing through the
 * lineage exactly as Spark's RDD.iterator does: sources at the leaves (slices, ranges, file splits,
 * shuffle reads, cached blocks, checkpoint files) and fused narrow operators above them.
 */
import { KeyMap } from '../codec/keys.js';
import { decodeRecords } from '../codec/records.js';
import type { ClosureSpec } from '../codec/closure-spec.js';
import type { AggregatorDesc, BlockLocation, CogroupSource, PlanNode } from '../plan/plan.js';
import type { FileSplit } from '../plan/sources.js';
import { blockIdOfRdd } from '../plan/plan.js';
import type { FlintOps } from '../ops/types.js';
import { batchRecords, normalizeScannedKeys } from '../shuffle/agg-batches.js';
import { aggregatorOf, expectPair } from '../shuffle/aggregator.js';
import { decodeBlock, reduceBlocks } from '../shuffle/reader.js';
import type { BlockStore } from './block-store.js';
import { estimateBytes } from './block-store.js';
import { applyOps, collectAll, type Batches } from './ops.js';
import type { ExecutorPlatform } from './platform.js';

export interface PipelineContext {
  slices: Record<string, Uint8Array>;
  blocks: BlockLocation[];
  platform: ExecutorPlatform;
  store: BlockStore;
  instantiate(spec: ClosureSpec): Function;
  /** Fetches the given blocks, in map order; throws a FetchFailedError for a lost block. */
  fetch(locations: BlockLocation[]): Promise<Uint8Array[]>;
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
    case 'range':
      return rangeSource(
        node.start,
        node.step,
        Math.floor((partition * node.count) / node.slices),
        Math.floor(((partition + 1) * node.count) / node.slices),
      );
    case 'textFile':
      return countRead(ctx.platform.readTextSplit(node.splits[partition]!), ctx);
    case 'textScan':
      return textScan(node, partition, ctx);
    case 'wholeTextFiles':
      return wholeFiles(node.groups[partition]!, ctx);
    case 'pipe':
      return applyOps(node.ops, computePartition(node.parent, partition, ctx), partition, ctx.instantiate, ctx);
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

async function* sliceSource(rddId: number, partition: number, ctx: PipelineContext): Batches {
  const bytes = ctx.slices[`${rddId}:${partition}`];
  if (!bytes) throw new Error(`internal: slice ${rddId}:${partition} was not shipped with the task`);
  const records = decodeRecords(bytes);
  ctx.metrics.recordsRead += records.length;
  if (records.length > 0) yield records;
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

async function* zipPartitions(left: PlanNode, right: PlanNode, p: number, ctx: PipelineContext): Batches {
  const a = await collectAll(computePartition(left, p, ctx));
  const b = await collectAll(computePartition(right, p, ctx));
  if (a.length !== b.length) {
    throw new Error(`zip: partition ${p} has ${a.length} elements on the left and ${b.length} on the right; ` +
      'can only zip RDDs with the same number of elements in each partition');
  }
  if (a.length > 0) yield a.map((x, i) => [x, b[i]]);
}

async function* cartesian(left: PlanNode, right: PlanNode, lp: number, rp: number, ctx: PipelineContext): Batches {
  const rights = await collectAll(computePartition(right, rp, ctx));
  if (rights.length === 0) return;
  for await (const batch of computePartition(left, lp, ctx)) {
    const out: unknown[] = [];
    for (const x of batch) for (const y of rights) out.push([x, y]);
    yield out;
  }
}

async function* shuffleRead(node: Extract<PlanNode, { kind: 'shuffleRead' }>, partition: number, ctx: PipelineContext): Batches {
  const locations = ctx.blocks.filter((b) => b.shuffleId === node.shuffleId && b.reduceId === partition);
  const blocks = await ctx.fetch(locations);
  const aggregator = node.aggregator ? aggregatorOf(node.aggregator, ctx.instantiate) : null;
  for (const batch of reduceBlocks(blocks, {
    aggregator,
    mapSideCombined: node.mapSideCombined,
    sort: node.sort,
    where: 'shuffle',
    ops: ctx.ops,
    used: ctx.used,
  })) {
    ctx.metrics.recordsRead += batch.length;
    yield batch;
  }
}

async function* cogroup(sources: Extract<PlanNode, { kind: 'cogroup' }>['sources'], partition: number, ctx: PipelineContext): Batches {
  const n = sources.length;
  const groups = new KeyMap<unknown[][]>();
  const add = (i: number, record: unknown) => {
    const [k, v] = expectPair(record, 'cogroup');
    let g = groups.get(k);
    if (!g) {
      g = Array.from({ length: n }, () => []);
      groups.set(k, g);
    }
    g[i]!.push(v);
  };
  for (let i = 0; i < n; i++) {
    const source = sources[i]!;
    if (source.kind === 'narrow') {
      for await (const batch of computePartition(source.node, partition, ctx)) for (const r of batch) add(i, r);
    } else {
      const locations = ctx.blocks.filter((b) => b.shuffleId === source.shuffleId && b.reduceId === partition);
      for (const block of await ctx.fetch(locations)) {
        if (block.byteLength === 0) continue;
        for (const r of decodeBlock(block)) add(i, r);
      }
    }
  }
  const out: unknown[] = [];
  for (const [k, g] of groups.entries()) out.push([k, g]);
  if (out.length > 0) yield out;
}

async function* combineLocally(source: CogroupSource, desc: AggregatorDesc, partition: number, ctx: PipelineContext): Batches {
  if (source.kind !== 'narrow') throw new Error('internal: local combine reads a narrow parent');
  const agg = aggregatorOf(desc, ctx.instantiate);
  const combined = new KeyMap<unknown>();
  for await (const batch of computePartition(source.node, partition, ctx)) {
    for (const r of batch) {
      const [k, v] = expectPair(r, 'combine');
      combined.set(k, combined.has(k) ? agg.mergeValue(combined.get(k), v) : agg.createCombiner(v));
    }
  }
  const out: unknown[] = [];
  for (const [k, c] of combined.entries()) out.push([k, c]);
  if (out.length > 0) yield out;
}

async function* cachedOrCompute(node: Extract<PlanNode, { kind: 'cached' }>, partition: number, ctx: PipelineContext): Batches {
  const blockId = blockIdOfRdd(node.rddId, partition);
  const hit = ctx.store.getCached(blockId);
  // Copies keep downstream operators that sort or append in place away from the stored block.
  if (hit) {
    if (hit.length > 0) yield hit.slice();
    return;
  }
  const records = await collectAll(computePartition(node.child, partition, ctx));
  const bytes = estimateBytes(records);
  if (ctx.store.putCached(blockId, records, bytes)) ctx.onBlockCached(blockId, bytes);
  if (records.length > 0) yield records.slice();
}

async function* checkpointSource(path: string, ctx: PipelineContext): Batches {
  const records = decodeRecords(await ctx.platform.readFile(path));
  ctx.metrics.recordsRead += records.length;
  if (records.length > 0) yield records;
}
