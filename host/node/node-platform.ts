import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { FlintError } from '../errors.js';
import type { DriverPlatform, TextOutputJob } from '../api/platform.js';
import type { ExecutorPlatform } from '../exec/platform.js';
import { remoteExecutorPlatform, type RemoteFiles } from '../exec/remote-platform.js';
import { isUrl, type FileSplit } from '../plan/sources.js';
import { FileGrants } from './file-grants.js';
import { statRegularFile } from './file-source.js';
import { localFilesEnabled, machineId } from './machine-id.js';
import { planTextSplits, planWholeTextFiles, readSplitLines, readTextSplit, readWholeTextFile } from './text-input.js';
import { beginTextOutput, openTextOutput, outputJobDir } from './text-output.js';

/**
 * The driver's file access on Node, one per application: besides planning and committing, it
 * records which files the application named, which is all its file server will hand out or accept.
 */
export class NodeDriverPlatform implements DriverPlatform {
  readonly grants = new FileGrants();

  planTextSplits(pattern: string, minPartitions: number): FileSplit[] {
    const splits = planTextSplits(pattern, minPartitions);
    for (const s of splits) if (!isUrl(s.path)) this.grants.grantInput(s.path);
    return splits;
  }

  planWholeTextFiles(pattern: string, minPartitions: number): FileSplit[][] {
    const groups = planWholeTextFiles(pattern, minPartitions);
    for (const group of groups) for (const f of group) if (!isUrl(f.path)) this.grants.grantInput(f.path);
    return groups;
  }

  beginTextOutput(dir: string, jobTag: string): TextOutputJob {
    const job = beginTextOutput(dir, jobTag);
    const jobDir = outputJobDir(dir, jobTag);
    this.grants.beginOutput(jobDir);
    // Uploads end with the job: a late attempt of a committed or aborted job finds nothing to write into.
    return {
      attemptPath: (partition, attempt) => job.attemptPath(partition, attempt),
      commitTask: (partition, attempt) => job.commitTask(partition, attempt),
      commitJob: (numPartitions) => {
        this.grants.endOutput(jobDir);
        job.commitJob(numPartitions);
      },
      abortJob: () => {
        this.grants.endOutput(jobDir);
        job.abortJob();
      },
    };
  }

  makeCheckpointDir(dir: string): string {
    const abs = resolve(dir);
    try {
      mkdirSync(abs, { recursive: true });
    } catch (err) {
      throw ioError(`cannot create checkpoint directory ${abs}: ${describe(err)}`, err);
    }
    this.grants.grantCheckpointDir(abs);
    return abs;
  }

  /** Every entry name (files and subdirectories), sorted by UTF-16 code units; [] if `dir` is missing. */
  listDir(dir: string): string[] {
    try {
      return readdirSync(dir).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw ioError(`cannot list directory ${dir}: ${describe(err)}`, err);
    }
  }

  removeDir(dir: string): void {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      throw ioError(`cannot remove directory ${dir}: ${describe(err)}`, err);
    }
  }

  joinPath(...parts: string[]): string {
    return join(...parts);
  }
}

/** Node's own require, lent to modules shipped with fl.module that load built-ins. */
const requireBuiltin = createRequire(import.meta.url);

export const nodeExecutorPlatform: ExecutorPlatform = {
  requireBuiltin,
  readTextSplit: (split) => readTextSplit(split),
  readSplitLines: (split) => readSplitLines(split),
  readWholeTextFile,
  openTextOutput,
  statFile: statRegularFile,

  async writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
    // The temporary file sits beside the target so that the rename stays on one file system.
    const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(tmp, bytes);
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw ioError(`cannot write ${path}: ${describe(err)}`, err);
    }
  },

  async readFile(path: string): Promise<Uint8Array> {
    try {
      const buf = await readFile(path);
      // A plain Uint8Array that owns its whole ArrayBuffer: callers may transfer it to another
      // thread, which would take a pooled Buffer's neighbours along (or fail).
      if (buf.byteOffset === 0 && buf.buffer.byteLength === buf.byteLength) return new Uint8Array(buf.buffer);
      return new Uint8Array(buf);
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      throw ioError(missing ? `file not found: ${path}` : `cannot read ${path}: ${describe(err)}`, err);
    }
  },
};

/** What an executor is told at launch to reach the driver's files (see startFileServer). */
export interface DriverFiles extends RemoteFiles {
  driverMachineId: string;
}

/**
 * The file access of an executor launched away from the driver's thread (a `flint worker` thread,
 * or a local[N] thread under FLINT_LOCAL_FILES=0): this machine's files where they are the
 * driver's, the driver's file server otherwise.
 */
export function workerExecutorPlatform(files: DriverFiles, localFiles: boolean = localFilesEnabled()): ExecutorPlatform {
  const platform = remoteExecutorPlatform({
    files: { url: files.url, secret: files.secret },
    local: localFiles ? nodeExecutorPlatform : null,
    machineId: machineId(),
    driverMachineId: files.driverMachineId,
  });
  return { ...platform, requireBuiltin };
}

function ioError(message: string, cause: unknown): FlintError {
  return new FlintError('IO_ERROR', message, { cause });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
