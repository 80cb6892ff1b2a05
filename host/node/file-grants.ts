/**
 * Which of the driver's files its file server may hand out or accept, for one application: the
 * inputs it planned, its checkpoint directories, and the attempt files of its running
 * `saveAsTextFile` jobs. Everything else is refused with a reason the server logs.
 *
 * Paths are compared as the planner wrote them (absolute, normalized) and again after resolving
 * symlinks, so that a link planted inside a granted directory cannot lead outside it.
 */
import { realpathSync } from 'node:fs';
import { basename, dirname, sep } from 'node:path';
import { partFileName } from './text-output.js';

export type Grant =
  | { ok: true; kind: 'input' | 'checkpoint'; real: string }
  | { ok: true; kind: 'attempt'; dir: string }
  | { ok: false; status: 403 | 404; reason: string };

interface Root {
  path: string;
  real: string;
}

export class FileGrants {
  /** Planned input → its real path at planning. */
  private readonly inputs = new Map<string, string>();
  private readonly checkpointRoots: Root[] = [];
  private readonly outputJobs = new Map<string, Root>();

  /** Planning again records the path as it resolves now: the planner follows links too. */
  grantInput(path: string): void {
    const real = realOrNull(path);
    if (real !== null) this.inputs.set(path, real);
  }

  grantCheckpointDir(dir: string): void {
    const real = realOrNull(dir);
    if (real === null || this.checkpointRoots.some((r) => r.path === dir || inside(dir, r.path))) return;
    this.checkpointRoots.push({ path: dir, real });
  }

  /** `jobDir` is `out/_temporary/<tag>` of a job that began; its attempt files may be uploaded. */
  beginOutput(jobDir: string): void {
    const real = realOrNull(jobDir);
    if (real !== null) this.outputJobs.set(jobDir, { path: jobDir, real });
  }

  endOutput(jobDir: string): void {
    this.outputJobs.delete(jobDir);
  }

  read(path: string): Grant {
    const bad = badPath(path);
    if (bad) return refuse(bad);
    const planned = this.inputs.get(path);
    if (planned !== undefined) {
      const real = realOrNull(path);
      if (real === null) return refuse('the planned input no longer exists', 404);
      if (real !== planned) return refuse(`the planned input now resolves to ${real}, not ${planned}`);
      return { ok: true, kind: 'input', real };
    }
    const root = this.checkpointRoots.find((r) => inside(path, r.path));
    if (root) {
      const real = realOrNull(path);
      if (real === null) return refuse('no such checkpoint file', 404);
      if (!inside(real, root.real)) return refuse(`a symlink leads outside the checkpoint directory (to ${real})`);
      return { ok: true, kind: 'checkpoint', real };
    }
    return refuse('not a file this application named');
  }

  write(path: string): Grant {
    const bad = badPath(path);
    if (bad) return refuse(bad);
    const attemptDir = dirname(path);
    const jobDir = dirname(attemptDir);
    const job = this.outputJobs.get(jobDir);
    if (job) {
      const m = /^_attempt_(\d+)_(\d+)$/.exec(basename(attemptDir));
      if (!m || basename(path) !== partFileName(Number(m[1]))) return refuse('not an attempt file of the output job');
      if (realOrNull(jobDir) !== job.real) return refuse('the output job directory moved or was removed');
      return { ok: true, kind: 'attempt', dir: attemptDir };
    }
    const root = this.checkpointRoots.find((r) => inside(path, r.path));
    if (root) {
      if (basename(path).startsWith('.')) return refuse('hidden names are not checkpoint files');
      const parent = realOrNull(dirname(path));
      if (parent === null) return refuse('the checkpoint directory does not exist');
      if (parent !== root.real && !inside(parent, root.real)) return refuse(`a symlink leads outside the checkpoint directory (to ${parent})`);
      return { ok: true, kind: 'checkpoint', real: `${parent}${sep}${basename(path)}` };
    }
    return refuse('not an attempt file of a running saveAsTextFile job nor a checkpoint file');
  }
}

/** Only absolute, normalized paths: no '.', '..' or empty segments, no NUL. */
function badPath(path: string): string | null {
  if (path.length === 0 || path.length > 4096) return 'an empty or overlong path';
  if (path.includes('\0')) return 'a NUL byte in the path';
  if (!path.startsWith('/')) return 'not an absolute path';
  const segments = path.slice(1).split('/');
  if (segments.some((s) => s === '..')) return 'path traversal (..)';
  if (segments.some((s) => s === '.' || s === '')) return 'a path that is not normalized';
  return null;
}

function inside(path: string, dir: string): boolean {
  return path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

function realOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

function refuse(reason: string, status: 403 | 404 = 403): Grant {
  return { ok: false, status, reason };
}
