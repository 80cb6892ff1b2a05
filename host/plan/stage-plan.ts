/**
 * Turns the lineage of a stage into the plan its tasks carry: recursion stops at shuffle reads and
 * checkpoints, cached RDDs are wrapped so executors consult their block store first, and chains of
 * narrow operators are fused into one `pipe` node.
 */
import type { ClosureSpec } from '../codec/closure-spec.js';
import type { LineageNode, ShuffleDependency } from './lineage.js';
import { fuseScans } from './fusion.js';
import type { PlanNode, StageRequirement } from './plan.js';

export function buildPlan(rdd: LineageNode): PlanNode {
  const files = rdd.checkpointFiles();
  if (files) return { kind: 'checkpoint', rddId: rdd.id, files };
  let node = rdd.planNode(buildPlan);
  if (node.kind === 'pipe' && node.parent.kind === 'pipe') {
    node = { kind: 'pipe', rddId: node.rddId, parent: node.parent.parent, ops: [...node.parent.ops, ...node.ops] };
  }
  node = fuseScans(node);
  const storage = rdd.storageDesc();
  if (storage) node = { kind: 'cached', rddId: rdd.id, storage, child: node };
  return node;
}

/** The shuffle dependencies a stage reads (its parent stages). */
export function shuffleDependencies(rdd: LineageNode): ShuffleDependency[] {
  const out: ShuffleDependency[] = [];
  const seen = new Set<number>();
  const visit = (r: LineageNode) => {
    if (seen.has(r.id)) return;
    seen.add(r.id);
    if (r.checkpointFiles()) return;
    for (const d of r.dependencies()) {
      if (d.kind === 'shuffle') out.push(d.dep);
      else visit(d.rdd);
    }
  };
  visit(rdd);
  return out;
}

/** Parallelized slices that computing `partition` of `rdd` reads, keyed `${rddId}:${slice}`. */
export function slicesFor(rdd: LineageNode, partition: number, into: Record<string, Uint8Array> = {}): Record<string, Uint8Array> {
  if (rdd.checkpointFiles()) return into;
  const bytes = rdd.sliceBytes(partition);
  if (bytes) into[`${rdd.id}:${partition}`] = bytes;
  for (const d of rdd.dependencies()) {
    if (d.kind === 'narrow') for (const p of d.parents(partition)) slicesFor(d.rdd, p, into);
  }
  return into;
}

/** The shuffle partitions computing `partition` of `rdd` reads, by shuffle id. */
export function shuffleReadsFor(rdd: LineageNode, partition: number, into: Map<number, Set<number>> = new Map()): Map<number, Set<number>> {
  if (rdd.checkpointFiles()) return into;
  for (const d of rdd.dependencies()) {
    if (d.kind === 'narrow') {
      for (const p of d.parents(partition)) shuffleReadsFor(d.rdd, p, into);
    } else {
      let set = into.get(d.dep.shuffleId);
      if (!set) into.set(d.dep.shuffleId, (set = new Set()));
      set.add(partition);
    }
  }
  return into;
}

/** Cached blocks `partition` would read: the executors holding them are its preferred locations. */
export function cachedBlocksFor(rdd: LineageNode, partition: number, into: string[] = []): string[] {
  if (rdd.checkpointFiles()) return into;
  if (rdd.storageDesc()) {
    into.push(`rdd_${rdd.id}_${partition}`);
    return into;
  }
  for (const d of rdd.dependencies()) {
    if (d.kind === 'narrow') for (const p of d.parents(partition)) cachedBlocksFor(d.rdd, p, into);
  }
  return into;
}

/** Calls `visit` with every closure spec found anywhere in `value` (a plan, a partitioner, an aggregator). */
function forEachClosure(value: unknown, visit: (spec: ClosureSpec) => void): void {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return;
  if (Array.isArray(value)) {
    for (const v of value) forEachClosure(v, visit);
    return;
  }
  const spec = value as Partial<ClosureSpec>;
  if (typeof spec.src === 'string' && Array.isArray(spec.broadcasts)) {
    visit(spec as ClosureSpec);
    return;
  }
  for (const v of Object.values(value)) forEachClosure(v, visit);
}

/** Broadcast ids referenced by any closure in the plan. */
export function broadcastsOf(value: unknown, into: Set<number> = new Set()): Set<number> {
  forEachClosure(value, (spec) => {
    for (const id of spec.broadcasts) into.add(id);
  });
  return into;
}

/** Module ids (fl.module) referenced by any closure in the plan. */
export function modulesOf(value: unknown): string[] {
  const ids = new Set<string>();
  forEachClosure(value, (spec) => {
    for (const id of spec.modules ?? []) ids.add(id);
  });
  return [...ids];
}

/**
 * Capabilities an executor needs for `value` (a plan and its shuffle output): 'node' when a closure
 * uses Node's globals, 'disk' when the plan persists a partition on disk only (an executor without
 * a disk could not honour it; memory levels with a disk keep their blocks in memory there).
 */
export function requirementsOf(value: unknown): StageRequirement[] {
  let node = false;
  forEachClosure(value, (spec) => {
    if (spec.requires?.includes('node')) node = true;
  });
  const out: StageRequirement[] = node ? ['node'] : [];
  if (persistsOnDiskOnly(value)) out.push('disk');
  return out;
}

function persistsOnDiskOnly(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return false;
  if (Array.isArray(value)) return value.some(persistsOnDiskOnly);
  const node = value as { kind?: unknown; storage?: { useDisk: boolean; useMemory: boolean } };
  if (node.kind === 'cached' && node.storage?.useDisk && !node.storage.useMemory) return true;
  for (const v of Object.values(value)) if (persistsOnDiskOnly(v)) return true;
  return false;
}
