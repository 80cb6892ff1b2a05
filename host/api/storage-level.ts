/**
 * Spark's storage levels. Executors keep cached partitions in memory as records (deserialized),
 * least recently used first out; a level that names the disk moves a block that must make room to
 * the executor's scratch disk (MEMORY_AND_DISK) or writes it there at once (DISK_ONLY), and reads it
 * back from there; MEMORY_ONLY drops it, to be recomputed from lineage (exec/block-store.ts).
 * Replication is accepted and not performed.
 */
import type { StorageLevelDesc } from '../plan/plan.js';

export class StorageLevel implements StorageLevelDesc {
  constructor(
    readonly useDisk: boolean,
    readonly useMemory: boolean,
    readonly useOffHeap: boolean,
    readonly deserialized: boolean,
    readonly replication = 1,
  ) {}

  static readonly NONE = new StorageLevel(false, false, false, false);
  static readonly DISK_ONLY = new StorageLevel(true, false, false, false);
  static readonly DISK_ONLY_2 = new StorageLevel(true, false, false, false, 2);
  static readonly DISK_ONLY_3 = new StorageLevel(true, false, false, false, 3);
  static readonly MEMORY_ONLY = new StorageLevel(false, true, false, false);
  static readonly MEMORY_ONLY_2 = new StorageLevel(false, true, false, false, 2);
  static readonly MEMORY_AND_DISK = new StorageLevel(true, true, false, false);
  static readonly MEMORY_AND_DISK_2 = new StorageLevel(true, true, false, false, 2);
  static readonly MEMORY_AND_DISK_DESER = new StorageLevel(true, true, false, true);
  static readonly OFF_HEAP = new StorageLevel(true, true, true, false, 1);

  equals(other: StorageLevel): boolean {
    return (
      this.useDisk === other.useDisk &&
      this.useMemory === other.useMemory &&
      this.useOffHeap === other.useOffHeap &&
      this.deserialized === other.deserialized &&
      this.replication === other.replication
    );
  }

  toString(): string {
    const parts = [this.useDisk ? 'Disk' : '', this.useMemory ? 'Memory' : '', this.useOffHeap ? 'OffHeap' : '', this.deserialized ? 'Deserialized' : '']
      .filter(Boolean)
      .join(' ');
    return `${parts || 'None'} ${this.replication}x Replicated`.trim();
  }
}
