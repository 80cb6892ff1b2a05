/**
 * An executor's scratch disk: one directory that belongs to that executor alone, holding its spill
 * runs, the shuffle outputs that did not fit in memory and the blocks cached at a disk level. The
 * platform provides it (host/node/scratch-disk.ts); a browser has none and says so by leaving
 * `ExecutorPlatform.scratch` out.
 *
 * The API is synchronous on purpose: a spill happens inside an operator that is in the middle of a
 * batch (a hash table that must not grow), and a user's `mapPartitions` iterator pulls records
 * synchronously. A Web Worker can offer the same through the Origin Private File System's
 * FileSystemSyncAccessHandle.
 */
import { FlintError } from '../errors.js';

export interface ScratchDisk {
  /** Where the files live, for messages and tests. */
  readonly dir: string;
  /** A new, empty file opened for appending (the directory is created on first use). */
  create(name: string): ScratchFile;
  /** A closed file, opened for positional reads. */
  open(name: string): ScratchReader;
  /** Removes one file (no error when it is gone already). */
  remove(name: string): void;
  /** Removes the directory and everything in it: the executor stops. */
  removeAll(): void;
}

export interface ScratchFile {
  readonly name: string;
  append(bytes: Uint8Array): void;
  /** Bytes appended so far. */
  readonly size: number;
  close(): void;
}

export interface ScratchReader {
  readonly size: number;
  /** Reads up to `into.length` bytes at `position`; returns how many were read. */
  read(into: Uint8Array, position: number): number;
  close(): void;
}

/**
 * The scratch files of one task: named after it, counted (the task's diskBytesSpilled), and removed
 * when the task ends unless handed on with `keep` (a map output the block store takes over).
 */
export class TaskScratch {
  private readonly files = new Set<string>();
  private next = 0;
  bytesWritten = 0;

  constructor(
    readonly disk: ScratchDisk | null,
    private readonly taskId: number,
  ) {}

  get available(): boolean {
    return this.disk !== null;
  }

  /** A new file of this task; `what` only makes the name readable. */
  create(what: string): ScratchFile {
    const disk = this.diskOrThrow();
    const name = `t${this.taskId}-${this.next++}-${what}`;
    const file = disk.create(name);
    this.files.add(name);
    const counted: ScratchFile = {
      name,
      append: (bytes) => {
        file.append(bytes);
        this.bytesWritten += bytes.byteLength;
      },
      get size() {
        return file.size;
      },
      close: () => file.close(),
    };
    return counted;
  }

  open(name: string): ScratchReader {
    return this.diskOrThrow().open(name);
  }

  /** Removes a file the task no longer needs (a run once merged). */
  remove(name: string): void {
    if (!this.files.delete(name)) return;
    this.disk?.remove(name);
  }

  /** The file outlives the task: its new owner removes it. */
  keep(name: string): void {
    this.files.delete(name);
  }

  /** The task ended: everything it did not hand on goes. */
  close(): void {
    for (const name of this.files) this.disk?.remove(name);
    this.files.clear();
  }

  private diskOrThrow(): ScratchDisk {
    if (!this.disk) throw new FlintError('INTERNAL', 'this executor has no scratch disk to spill to');
    return this.disk;
  }
}
