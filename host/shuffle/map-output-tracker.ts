/** Where each map task's output lives and how many bytes it holds for every reduce partition. */
import type { BlockLocation } from '../plan/plan.js';

interface MapStatus {
  executorId: string;
  sizes: number[];
  /** The digest the output was verified by (untrusted executors): a copy handed on must match it. */
  digest?: string;
}

/** A map output as an executor holds it. */
export interface HeldOutput {
  shuffleId: number;
  mapId: number;
  sizes: number[];
  digest?: string;
}

export class MapOutputTracker {
  private readonly outputs = new Map<number, Array<MapStatus | null>>();

  registerShuffle(shuffleId: number, numMaps: number): void {
    if (!this.outputs.has(shuffleId)) this.outputs.set(shuffleId, new Array<MapStatus | null>(numMaps).fill(null));
  }

  registerMapOutput(shuffleId: number, mapId: number, executorId: string, sizes: number[], digest?: string): void {
    this.outputs.get(shuffleId)![mapId] = digest === undefined ? { executorId, sizes } : { executorId, sizes, digest };
  }

  /** The outputs an executor holds, in shuffle and map order. */
  outputsOn(executorId: string): HeldOutput[] {
    const held: HeldOutput[] = [];
    for (const [shuffleId, list] of this.outputs) {
      list.forEach((s, mapId) => {
        if (s?.executorId === executorId) held.push({ shuffleId, mapId, sizes: s.sizes, ...(s.digest !== undefined ? { digest: s.digest } : {}) });
      });
    }
    return held;
  }

  /** An output moved from one executor to another (a leaving executor handed it on). */
  moveOutput(shuffleId: number, mapId: number, from: string, to: string): boolean {
    const s = this.outputs.get(shuffleId)?.[mapId];
    if (!s || s.executorId !== from) return false;
    s.executorId = to;
    return true;
  }

  unregisterMapOutput(shuffleId: number, mapId: number, executorId: string): boolean {
    const list = this.outputs.get(shuffleId);
    if (list?.[mapId]?.executorId !== executorId) return false;
    list[mapId] = null;
    return true;
  }

  /** Forgets every output held by a lost executor; returns the shuffles that lost something. */
  removeOutputsOnExecutor(executorId: string): number[] {
    const affected: number[] = [];
    for (const [shuffleId, list] of this.outputs) {
      let lost = false;
      for (let i = 0; i < list.length; i++) {
        if (list[i]?.executorId === executorId) {
          list[i] = null;
          lost = true;
        }
      }
      if (lost) affected.push(shuffleId);
    }
    return affected;
  }

  missingMaps(shuffleId: number): number[] {
    const list = this.outputs.get(shuffleId);
    if (!list) return [];
    const missing: number[] = [];
    for (let i = 0; i < list.length; i++) if (!list[i]) missing.push(i);
    return missing;
  }

  isAvailable(shuffleId: number): boolean {
    const list = this.outputs.get(shuffleId);
    return !!list && list.every((s) => s !== null);
  }

  /** Non-empty blocks a reduce partition must fetch. */
  locations(shuffleId: number, reduceId: number): BlockLocation[] {
    const list = this.outputs.get(shuffleId) ?? [];
    const out: BlockLocation[] = [];
    for (let mapId = 0; mapId < list.length; mapId++) {
      const s = list[mapId];
      if (!s) throw new Error(`internal: map output ${mapId} of shuffle ${shuffleId} is missing`);
      const bytes = s.sizes[reduceId] ?? 0;
      if (bytes > 0) out.push({ shuffleId, mapId, reduceId, executorId: s.executorId, bytes });
    }
    return out;
  }

  /** Executors holding the most input for a reduce partition: its preferred locations. */
  preferredExecutors(shuffleId: number, reduceId: number): string[] {
    const byExec = new Map<string, number>();
    let total = 0;
    for (const s of this.outputs.get(shuffleId) ?? []) {
      if (!s) continue;
      const b = s.sizes[reduceId] ?? 0;
      total += b;
      byExec.set(s.executorId, (byExec.get(s.executorId) ?? 0) + b);
    }
    // Spark prefers an executor only when it holds at least 20% of the input.
    return [...byExec].filter(([, b]) => total > 0 && b >= 0.2 * total).map(([e]) => e);
  }

  totalBytes(shuffleId: number): number {
    let t = 0;
    for (const s of this.outputs.get(shuffleId) ?? []) if (s) for (const b of s.sizes) t += b;
    return t;
  }

  unregisterShuffle(shuffleId: number): void {
    this.outputs.delete(shuffleId);
  }
}
