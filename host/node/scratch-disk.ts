/**
 * An executor's scratch directory on Node (host/memory/scratch.ts) and where those directories live:
 *
 *   <root>/flint-<pid>-<random>/<executorId>/
 *
 * `root` is `spillDir` (Flint.start, `flint worker --spill-dir`), else FLINT_SPILL_DIR, else the
 * system's temporary directory. The process that starts executors (the driver for `local` and
 * `local[N]`, the agent for `flint worker`) owns the `flint-<pid>-…` directory: it removes an
 * executor's directory when that executor's thread ends, however it ended (a thread killed in the
 * middle of a spill cannot clean up after itself), removes its own directory when it stops, and at
 * start removes the directories of processes that are gone (killed before they could).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FlintError } from '../errors.js';
import type { ScratchDisk, ScratchFile, ScratchReader } from '../memory/scratch.js';

const PREFIX = 'flint-';

/** The scratch directory of one executor: files are created in it on first use. */
export function nodeScratchDisk(dir: string): ScratchDisk {
  let made = false;
  const pathOf = (name: string) => {
    if (!/^[\w.-]+$/.test(name)) throw new FlintError('INTERNAL', `bad scratch file name ${name}`);
    return join(dir, name);
  };
  return {
    dir,
    create(name: string): ScratchFile {
      if (!made) {
        mkdirSync(dir, { recursive: true });
        made = true;
      }
      const path = pathOf(name);
      let fd: number;
      try {
        fd = openSync(path, 'w');
      } catch (err) {
        throw ioError(`cannot create scratch file ${path}`, err);
      }
      let size = 0;
      return {
        name,
        append(bytes: Uint8Array) {
          let at = 0;
          try {
            while (at < bytes.byteLength) at += writeSync(fd, bytes, at, bytes.byteLength - at);
          } catch (err) {
            throw ioError(`cannot write scratch file ${path} (is ${dir} full?)`, err);
          }
          size += bytes.byteLength;
        },
        get size() {
          return size;
        },
        close() {
          closeSync(fd);
        },
      };
    },
    open(name: string): ScratchReader {
      const path = pathOf(name);
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch (err) {
        throw ioError(`cannot open scratch file ${path}`, err);
      }
      const size = fstatSync(fd).size;
      return {
        size,
        read(into: Uint8Array, position: number): number {
          return readSync(fd, into, 0, into.byteLength, position);
        },
        close() {
          closeSync(fd);
        },
      };
    },
    remove(name: string): void {
      rmSync(pathOf(name), { force: true });
    },
    removeAll(): void {
      rmSync(dir, { recursive: true, force: true });
      made = false;
    },
  };
}

function ioError(message: string, cause: unknown): FlintError {
  return new FlintError('IO_ERROR', `${message}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}

/** The scratch root the options and the environment name. */
export function scratchRoot(spillDir?: string): string {
  return resolve(spillDir ?? process.env.FLINT_SPILL_DIR ?? join(tmpdir(), 'flint-spill'));
}

/**
 * This process's directory under a root, made once per root (contexts of one process share it, and
 * it goes when the process exits). Each backend takes a group of its own in it, since executor ids
 * repeat across contexts.
 */
const processDirs = new Map<string, { dir: string; groups: number }>();
let removeOnExit = false;

export class ScratchDirs {
  readonly dir: string;

  constructor(root: string, label: string) {
    let proc = processDirs.get(root);
    if (!proc) {
      removeLeftovers(root);
      proc = { dir: join(root, `${PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`), groups: 0 };
      processDirs.set(root, proc);
      if (!removeOnExit) {
        removeOnExit = true;
        process.once('exit', () => {
          for (const { dir } of processDirs.values()) rmSync(dir, { recursive: true, force: true });
        });
      }
    }
    this.dir = join(proc.dir, `${label.replace(/[^\w.-]/g, '_')}-${proc.groups++}`);
  }

  executorDir(executorId: string): string {
    return join(this.dir, executorId.replace(/[^\w.-]/g, '_'));
  }

  /** The executor is gone: its files go with it. */
  removeExecutor(executorId: string): void {
    rmSync(this.executorDir(executorId), { recursive: true, force: true });
  }

  /** The backend stops its executors: everything under its directory goes. */
  removeAll(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Directories of processes that are not running any more. A pid may have been reused since, so a
 * directory under this very process's pid is a dead run's too (this process has not made its own).
 */
export function removeLeftovers(root: string): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = /^flint-(\d+)-[0-9a-f]+$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && alive(pid)) continue;
    rmSync(join(root, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
