/**
 * An executor's block store: cached RDD partitions and the shuffle outputs of map tasks run here,
 * within the storage part of the executor's memory (memory/memory-manager.ts).
 *
 * - Cached blocks at a memory level live as records (deserialized, least recently used evicted
 *   first). MEMORY_ONLY blocks that must make room are dropped and recomputed from lineage when
 *   needed; MEMORY_AND_DISK blocks move to the scratch disk and are read back from there; DISK_ONLY
 *   blocks are written there directly. On disk a block is frames of encoded records.
 * - Shuffle outputs stay until the driver drops their shuffle. In memory they count as storage;
 *   when storage must make room they move to disk first (a reducer reads them once), before any
 *   cached block does.
 *
 * Without a scratch disk (a browser) disk levels keep their blocks in memory as MEMORY_ONLY does,
 * and shuffle outputs stay in memory whatever the budget says.
 */
import { decodeRecords, encodeRecords } from '../codec/records.js';
import { FrameWriter, readFrames } from '../memory/frames.js';
import type { ExecutorMemory, StorageEvictor } from '../memory/memory-manager.js';
import type { ScratchDisk } from '../memory/scratch.js';
import { estimateBytes } from '../memory/size.js';
import type { StorageLevelDesc } from '../plan/plan.js';
import { mapOutputBytes, mapOutputFrames, readMapOutput, type MapOutput } from '../shuffle/map-output.js';

const RECORDS_PER_FRAME = 4096;

type CachedEntry =
  | { kind: 'memory'; records: unknown[]; bytes: number; useDisk: boolean }
  | { kind: 'disk'; file: string; bytes: number };

interface ShuffleEntry {
  output: MapOutput;
  /** Storage memory it holds (0 once on disk). */
  memory: number;
}

/** A cached block as a task finds it. */
export type CachedHit = { records: unknown[] } | { fromDisk: () => Generator<unknown[]> };

export class BlockStore implements StorageEvictor {
  private readonly cached = new Map<string, CachedEntry>();
  private readonly shuffles = new Map<string, ShuffleEntry>();
  private cachedMemory = 0;
  private nextFile = 0;
  /** Bytes written to and read from disk for cached blocks, for tests and metrics. */
  readonly diskStats = { written: 0, read: 0 };

  constructor(
    private readonly memory: ExecutorMemory,
    readonly disk: ScratchDisk | null,
    /** The most cached blocks may hold in memory (cacheMemoryMb); the whole budget by default. */
    private readonly cacheLimit: number,
    private readonly onEvict: (blockId: string) => void,
  ) {
    memory.evictor = this;
  }

  getCached(blockId: string): CachedHit | undefined {
    const entry = this.cached.get(blockId);
    if (!entry) return undefined;
    // Re-insert to mark as most recently used (Map keeps insertion order).
    this.cached.delete(blockId);
    this.cached.set(blockId, entry);
    if (entry.kind === 'memory') return { records: entry.records };
    const file = entry.file;
    return { fromDisk: () => this.readDisk(file) };
  }

  private *readDisk(file: string): Generator<unknown[]> {
    const reader = this.disk!.open(file);
    try {
      for (const payload of readFrames(reader, 0, reader.size)) {
        this.diskStats.read += payload.byteLength;
        yield decodeRecords(payload);
      }
    } finally {
      reader.close();
    }
  }

  /** A writer that stores a partition's records as they stream by; `finish` stores the block. */
  cacheWriter(blockId: string, level: StorageLevelDesc): CacheWriter {
    return new CacheWriter(this, blockId, level);
  }

  /** @internal Storage for records of a block being cached, within the cache's own limit. */
  reserveCached(bytes: number): boolean {
    if (this.cachedMemory + bytes > this.cacheLimit) this.evictCached(this.cachedMemory + bytes - this.cacheLimit);
    if (this.cachedMemory + bytes > this.cacheLimit || !this.memory.acquireStorage(bytes)) return false;
    this.cachedMemory += bytes;
    return true;
  }

  /** @internal */
  unreserveCached(bytes: number): void {
    this.cachedMemory -= bytes;
    this.memory.releaseStorage(bytes);
  }

  /** @internal */
  newFile(what: string): string {
    return `${what}-${this.nextFile++}`;
  }

  /** @internal */
  storeCached(blockId: string, entry: CachedEntry): void {
    this.removeCached(blockId);
    this.cached.set(blockId, entry);
  }

  private removeCached(blockId: string): void {
    const entry = this.cached.get(blockId);
    if (!entry) return;
    this.cached.delete(blockId);
    if (entry.kind === 'memory') this.unreserveCached(entry.bytes);
    else this.disk?.remove(entry.file);
  }

  putShuffleOutput(shuffleId: number, mapId: number, output: MapOutput): void {
    const key = `${shuffleId}_${mapId}`;
    this.removeShuffle(key);
    let entry: ShuffleEntry = { output, memory: 0 };
    if (output.chunks) {
      const bytes = mapOutputBytes(output);
      if (this.memory.acquireStorage(bytes)) entry = { output, memory: bytes };
      else if (this.disk) entry = { output: this.writeOutput(shuffleId, mapId, output), memory: 0 };
      else {
        this.memory.forceStorage(bytes);
        entry = { output, memory: bytes };
      }
    }
    this.shuffles.set(key, entry);
  }

  /** A map output moved to one scratch file, each reducer's block one segment. */
  private writeOutput(shuffleId: number, mapId: number, output: MapOutput): MapOutput {
    const writer = new FrameWriter(this.disk!.create(this.newFile(`shuffle_${shuffleId}_${mapId}`)));
    const segments = output.chunks!.map((chunks) => {
      const start = writer.offset;
      for (const c of chunks) writer.writeFramed(c);
      return writer.offset === start ? [] : [start, writer.offset - start];
    });
    writer.close();
    return { sizes: output.sizes, chunks: null, file: writer.file.name, segments };
  }

  private removeShuffle(key: string): void {
    const entry = this.shuffles.get(key);
    if (!entry) return;
    this.shuffles.delete(key);
    this.memory.releaseStorage(entry.memory);
    if (entry.output.file) this.disk?.remove(entry.output.file);
  }

  /** The bytes of a shuffle block, or null when this executor does not hold it. */
  shuffleBlockSize(shuffleId: number, mapId: number, reduceId: number): number | null {
    const entry = this.shuffles.get(`${shuffleId}_${mapId}`);
    return entry ? (entry.output.sizes[reduceId] ?? 0) : null;
  }

  /** The payloads of a shuffle block held here, or null. */
  shuffleBlockFrames(shuffleId: number, mapId: number, reduceId: number): Iterable<Uint8Array> | null {
    const entry = this.shuffles.get(`${shuffleId}_${mapId}`);
    if (!entry) return null;
    return mapOutputFrames(entry.output, reduceId, this.disk);
  }

  /** Bytes [offset, offset + length) of a shuffle block held here (a copy), or null. */
  readShuffleRange(shuffleId: number, mapId: number, reduceId: number, offset: number, length: number): Uint8Array | null {
    const entry = this.shuffles.get(`${shuffleId}_${mapId}`);
    if (!entry) return null;
    return readMapOutput(entry.output, reduceId, offset, length, this.disk);
  }

  /**
   * Storage gives way to `bytes` of execution or newer blocks: shuffle outputs move to disk first,
   * then cached blocks, least recently used first (to disk, or dropped when their level has none).
   */
  evict(bytes: number): number {
    let freed = 0;
    if (this.disk) {
      for (const [key, entry] of this.shuffles) {
        if (freed >= bytes) return freed;
        if (entry.memory === 0) continue;
        const [sid, mid] = key.split('_').map(Number) as [number, number];
        this.shuffles.set(key, { output: this.writeOutput(sid, mid, entry.output), memory: 0 });
        this.memory.releaseStorage(entry.memory);
        freed += entry.memory;
      }
    }
    return freed + this.evictCached(bytes - freed);
  }

  private evictCached(bytes: number): number {
    let freed = 0;
    for (const [blockId, entry] of [...this.cached]) {
      if (freed >= bytes) break;
      if (entry.kind !== 'memory') continue;
      if (entry.useDisk && this.disk) {
        const file = this.newFile(blockId);
        const writer = new FrameWriter(this.disk.create(file));
        for (let i = 0; i < entry.records.length; i += RECORDS_PER_FRAME) {
          const payload = encodeRecords(entry.records.slice(i, i + RECORDS_PER_FRAME));
          this.diskStats.written += payload.byteLength;
          writer.write(payload);
        }
        writer.close();
        // Same place in the LRU order: it moved, it was not used.
        this.cached.set(blockId, { kind: 'disk', file, bytes: writer.file.size });
        this.unreserveCached(entry.bytes);
      } else {
        this.cached.delete(blockId);
        this.unreserveCached(entry.bytes);
        this.onEvict(blockId);
      }
      freed += entry.bytes;
    }
    return freed;
  }

  /** Drops cached blocks (`rdd_<id>_`) or shuffle outputs (`shuffle_<id>_`) by id prefix; returns the ids dropped. */
  drop(prefix: string): string[] {
    const dropped: string[] = [];
    if (prefix.startsWith('shuffle_')) {
      const key = prefix.slice('shuffle_'.length);
      for (const k of [...this.shuffles.keys()]) {
        if (!k.startsWith(key)) continue;
        this.removeShuffle(k);
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

  /** The executor stops: every block goes, and the scratch directory with them. */
  removeAll(): void {
    for (const id of [...this.cached.keys()]) this.removeCached(id);
    for (const key of [...this.shuffles.keys()]) this.removeShuffle(key);
    this.disk?.removeAll();
  }

  /** Storage memory held (cached blocks and shuffle outputs in memory). */
  get memoryBytes(): number {
    return this.memory.storageUsed;
  }
}

/**
 * Caches a partition while it streams to its consumer: records are held in memory while storage
 * has room; past that a level with a disk continues on disk (what was held is written first), and
 * MEMORY_ONLY gives up (the partition streams on uncached, as Spark's unroll does).
 */
export class CacheWriter {
  private records: unknown[] | null = null;
  private held = 0;
  private writer: FrameWriter | null = null;
  private state: 'memory' | 'disk' | 'gave up' | 'done' = 'memory';

  constructor(
    private readonly store: BlockStore,
    private readonly blockId: string,
    private readonly level: StorageLevelDesc,
  ) {
    const disk = level.useDisk && store.disk !== null;
    if (!level.useMemory && disk) this.toDisk();
    else if (!level.useMemory && !level.useDisk) this.state = 'gave up';
    else this.records = [];
  }

  add(batch: readonly unknown[]): void {
    if (batch.length === 0) return;
    if (this.state === 'memory') {
      const bytes = estimateBytes(batch);
      if (this.store.reserveCached(bytes)) {
        this.held += bytes;
        for (let i = 0; i < batch.length; i++) this.records!.push(batch[i]);
        return;
      }
      if (this.level.useDisk && this.store.disk) this.toDisk();
      else {
        this.giveUp();
        return;
      }
    }
    if (this.state === 'disk') this.writeFrames(batch);
  }

  private toDisk(): void {
    const file = this.store.newFile(this.blockId);
    this.writer = new FrameWriter(this.store.disk!.create(file));
    this.state = 'disk';
    if (this.records) {
      this.writeFrames(this.records);
      this.records = null;
      this.store.unreserveCached(this.held);
      this.held = 0;
    }
  }

  private writeFrames(records: readonly unknown[]): void {
    for (let i = 0; i < records.length; i += RECORDS_PER_FRAME) {
      const payload = encodeRecords(records.slice(i, i + RECORDS_PER_FRAME));
      this.store.diskStats.written += payload.byteLength;
      this.writer!.write(payload);
    }
  }

  private giveUp(): void {
    this.records = null;
    this.store.unreserveCached(this.held);
    this.held = 0;
    this.state = 'gave up';
  }

  /** Stores the block; returns its size (in memory or on disk), or null when it was not cached. */
  finish(): number | null {
    const state = this.state;
    this.state = 'done';
    if (state === 'memory') {
      this.store.storeCached(this.blockId, { kind: 'memory', records: this.records!, bytes: this.held, useDisk: this.level.useDisk });
      return this.held;
    }
    if (state === 'disk') {
      this.writer!.close();
      const bytes = this.writer!.file.size;
      this.store.storeCached(this.blockId, { kind: 'disk', file: this.writer!.file.name, bytes });
      return bytes;
    }
    return null;
  }

  /** The partition was not read to its end: nothing is stored. */
  abort(): void {
    if (this.state === 'memory') this.giveUp();
    else if (this.state === 'disk') {
      this.writer!.close();
      this.store.disk!.remove(this.writer!.file.name);
    }
    this.state = 'done';
  }
}
