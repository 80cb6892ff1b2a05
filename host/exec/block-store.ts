/**
 * An executor's block store: cached RDD partitions (LRU within a memory budget; an evicted block is
 * recomputed from lineage when next needed) and the shuffle outputs of map tasks run here (kept
 * until the driver drops the shuffle, since reducers fetch them).
 */
export interface CachedBlock {
  records: unknown[];
  bytes: number;
}

export class BlockStore {
  private readonly cached = new Map<string, CachedBlock>();
  private readonly shuffles = new Map<string, Uint8Array[]>();
  private cachedBytes = 0;

  constructor(
    private readonly budgetBytes: number,
    private readonly onEvict: (blockId: string) => void,
  ) {}

  getCached(blockId: string): unknown[] | undefined {
    const block = this.cached.get(blockId);
    if (!block) return undefined;
    // Re-insert to mark as most recently used (Map keeps insertion order).
    this.cached.delete(blockId);
    this.cached.set(blockId, block);
    return block.records;
  }

  /** Returns false when the block cannot fit even after evicting every other block. */
  putCached(blockId: string, records: unknown[], bytes: number): boolean {
    if (bytes > this.budgetBytes) return false;
    this.removeCached(blockId);
    while (this.cachedBytes + bytes > this.budgetBytes) {
      const oldest = this.cached.keys().next().value as string;
      this.removeCached(oldest);
      this.onEvict(oldest);
    }
    this.cached.set(blockId, { records, bytes });
    this.cachedBytes += bytes;
    return true;
  }

  private removeCached(blockId: string): void {
    const block = this.cached.get(blockId);
    if (!block) return;
    this.cached.delete(blockId);
    this.cachedBytes -= block.bytes;
  }

  putShuffleOutput(shuffleId: number, mapId: number, buckets: Uint8Array[]): void {
    this.shuffles.set(`${shuffleId}_${mapId}`, buckets);
  }

  getShuffleBlock(shuffleId: number, mapId: number, reduceId: number): Uint8Array | undefined {
    return this.shuffles.get(`${shuffleId}_${mapId}`)?.[reduceId];
  }

  /** Drops cached blocks (`rdd_<id>_`) or shuffle outputs (`shuffle_<id>_`) by id prefix; returns the ids dropped. */
  drop(prefix: string): string[] {
    const dropped: string[] = [];
    if (prefix.startsWith('shuffle_')) {
      const key = prefix.slice('shuffle_'.length);
      for (const k of [...this.shuffles.keys()]) {
        if (!k.startsWith(key)) continue;
        this.shuffles.delete(k);
        dropped.push(`shuffle_${k}`);
      }
      return dropped;
    }
    for (const id of [...this.cached.keys()]) {
      if (!id.startsWith(prefix)) continue;
      this.removeCached(id);
      dropped.push(id);
    }
    return dropped;
  }

  get memoryBytes(): number {
    let shuffleBytes = 0;
    for (const buckets of this.shuffles.values()) for (const b of buckets) shuffleBytes += b.byteLength;
    return this.cachedBytes + shuffleBytes;
  }
}

/** A rough size of records in memory, for the cache budget (strings at 2 bytes a char). */
export function estimateBytes(records: readonly unknown[]): number {
  let total = 16 + records.length * 8;
  const n = Math.min(records.length, 64);
  if (n === 0) return total;
  let sample = 0;
  for (let i = 0; i < n; i++) sample += sizeOf(records[Math.floor((i * records.length) / n)], 0);
  return total + Math.ceil((sample / n) * records.length);
}

function sizeOf(v: unknown, depth: number): number {
  switch (typeof v) {
    case 'string':
      return 16 + v.length * 2;
    case 'number':
    case 'boolean':
    case 'undefined':
      return 8;
    case 'bigint':
      return 24;
    case 'object':
      if (v === null) return 8;
      if (depth > 4) return 64;
      if (v instanceof Uint8Array) return 64 + v.byteLength;
      if (Array.isArray(v)) {
        let s = 32;
        for (const x of v) s += 8 + sizeOf(x, depth + 1);
        return s;
      }
      {
        let s = 48;
        for (const [k, x] of Object.entries(v)) s += 16 + k.length * 2 + sizeOf(x, depth + 1);
        return s;
      }
    default:
      return 8;
  }
}
