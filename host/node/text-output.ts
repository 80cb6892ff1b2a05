import { existsSync, lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { FlintError } from '../errors.js';
import type { TextOutputJob } from '../api/platform.js';
import { lineWriter } from '../exec/line-writer.js';
import type { TextOutput } from '../exec/platform.js';

const TEMPORARY = '_temporary';
const SUCCESS = '_SUCCESS';

export function partFileName(partition: number): string {
  return `part-${String(partition).padStart(5, '0')}`;
}

/**
 * Hadoop's FileOutputCommitter, in one process: attempts write under
 * `dir/_temporary/<jobTag>/_attempt_<p>_<a>/`, a task commit renames the winning attempt's file to
 * `task_<p>/`, the job commit moves every task's file to `dir/part-NNNNN` and writes `_SUCCESS`.
 * Readers of `dir` therefore see either no `_SUCCESS` or the complete output.
 */
export function beginTextOutput(dir: string, jobTag: string): TextOutputJob {
  if (typeof jobTag !== 'string' || jobTag === '' || /[/\\]/.test(jobTag) || jobTag === '.' || jobTag === '..') {
    throw new FlintError('INVALID_ARGUMENT', `a job tag must be a plain file name, got ${JSON.stringify(jobTag)}`);
  }
  const outDir = resolve(dir);
  if (pathExists(outDir)) throw outputExists(outDir);
  try {
    mkdirSync(dirname(outDir), { recursive: true });
    // Non-recursive, so that of two jobs racing for the same directory exactly one gets it.
    mkdirSync(outDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw outputExists(outDir);
    throw ioError(`cannot create output directory ${outDir}: ${describe(err)}`, err);
  }
  const jobDir = outputJobDir(outDir, jobTag);
  try {
    mkdirSync(jobDir, { recursive: true });
  } catch (err) {
    rmSync(outDir, { recursive: true, force: true });
    throw ioError(`cannot create output directory ${jobDir}: ${describe(err)}`, err);
  }
  return new NodeTextOutputJob(outDir, jobDir);
}

/** Where the attempts of job `jobTag` writing into `dir` live. */
export function outputJobDir(dir: string, jobTag: string): string {
  return join(resolve(dir), TEMPORARY, jobTag);
}

class NodeTextOutputJob implements TextOutputJob {
  private readonly committed = new Set<number>();
  private state: 'open' | 'committed' | 'aborted' = 'open';

  constructor(
    private readonly outDir: string,
    private readonly jobDir: string,
  ) {}

  attemptPath(partition: number, attempt: number): string {
    checkIndex('partition', partition);
    checkIndex('attempt', attempt);
    return join(this.attemptDir(partition, attempt), partFileName(partition));
  }

  commitTask(partition: number, attempt: number): void {
    checkIndex('partition', partition);
    checkIndex('attempt', attempt);
    this.checkOpen('commit a task');
    // A speculative or retried attempt that finishes second loses; its file is removed with
    // `_temporary` at job commit or abort.
    if (this.committed.has(partition)) return;
    const attemptFile = this.attemptPath(partition, attempt);
    const taskDir = join(this.jobDir, `task_${partition}`);
    const taskFile = join(taskDir, partFileName(partition));
    try {
      mkdirSync(taskDir, { recursive: true });
      if (existsSync(attemptFile)) renameSync(attemptFile, taskFile);
      // An empty partition may never have opened its file, but the output must still list it.
      else writeFileSync(taskFile, '');
      rmSync(this.attemptDir(partition, attempt), { recursive: true, force: true });
    } catch (err) {
      throw ioError(`cannot commit task ${partition} (attempt ${attempt}) of ${this.outDir}: ${describe(err)}`, err);
    }
    this.committed.add(partition);
  }

  commitJob(numPartitions: number): void {
    checkIndex('numPartitions', numPartitions);
    this.checkOpen('commit the job');
    const missing: number[] = [];
    for (let p = 0; p < numPartitions; p++) if (!this.committed.has(p)) missing.push(p);
    if (missing.length > 0) {
      throw new FlintError(
        'IO_ERROR',
        `cannot commit output ${this.outDir}: task(s) ${missing.slice(0, 10).join(', ')}` +
          `${missing.length > 10 ? ', ...' : ''} never committed`,
      );
    }
    try {
      for (let p = 0; p < numPartitions; p++) {
        const name = partFileName(p);
        renameSync(join(this.jobDir, `task_${p}`, name), join(this.outDir, name));
      }
      rmSync(join(this.outDir, TEMPORARY), { recursive: true, force: true });
      writeFileSync(join(this.outDir, SUCCESS), '');
    } catch (err) {
      throw ioError(`cannot commit output ${this.outDir}: ${describe(err)}`, err);
    }
    this.state = 'committed';
  }

  abortJob(): void {
    // After a successful commit the output belongs to the user; an abort then must not erase it.
    if (this.state === 'committed') return;
    this.state = 'aborted';
    try {
      // We created outDir ourselves (beginTextOutput refuses existing paths), so all of it is ours.
      rmSync(this.outDir, { recursive: true, force: true });
    } catch (err) {
      throw ioError(`cannot remove output ${this.outDir} of an aborted job: ${describe(err)}`, err);
    }
  }

  private attemptDir(partition: number, attempt: number): string {
    return join(this.jobDir, `_attempt_${partition}_${attempt}`);
  }

  private checkOpen(what: string): void {
    if (this.state !== 'open') {
      throw new FlintError('INVALID_ARGUMENT', `cannot ${what}: output job for ${this.outDir} was already ${this.state}`);
    }
  }
}

/** An attempt file on this machine, written through the shared line writer. */
export async function openTextOutput(path: string): Promise<TextOutput> {
  let handle: FileHandle;
  try {
    await mkdir(dirname(path), { recursive: true });
    handle = await open(path, 'w');
  } catch (err) {
    throw ioError(`cannot open output file ${path}: ${describe(err)}`, err);
  }
  let isOpen = true;
  const closeHandle = async (): Promise<void> => {
    if (!isOpen) return;
    isOpen = false;
    await handle.close();
  };
  return lineWriter(path, {
    async write(bytes) {
      let offset = 0;
      try {
        while (offset < bytes.length) {
          const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
          offset += bytesWritten;
        }
      } catch (err) {
        throw ioError(`cannot write output file ${path}: ${describe(err)}`, err);
      }
    },
    close: closeHandle,
    async abort() {
      await closeHandle().catch(() => undefined);
      await rm(path, { force: true });
    },
  });
}

function pathExists(path: string): boolean {
  try {
    lstatSync(path); // lstat: a dangling symlink is still something we must not overwrite
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw ioError(`cannot check output path ${path}: ${describe(err)}`, err);
  }
}

function outputExists(path: string): FlintError {
  return new FlintError(
    'OUTPUT_EXISTS',
    `output path ${path} already exists; delete it or choose another path for saveAsTextFile`,
  );
}

function checkIndex(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new FlintError('INVALID_ARGUMENT', `${name} must be an integer >= 0, got ${String(value)}`);
  }
}

function ioError(message: string, cause: unknown): FlintError {
  return new FlintError('IO_ERROR', message, { cause });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
