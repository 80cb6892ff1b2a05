import { existsSync, readdirSync, statSync, type Stats } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { globSync, isDynamicPattern } from 'tinyglobby';
import { FlintError } from '../errors.js';
import { httpSplitSource } from '../exec/http-source.js';
import * as lines from '../exec/line-reader.js';
import type { ByteSource, ReadTextSplitOptions } from '../exec/line-reader.js';
import { isUrl, type FileSplit } from '../plan/sources.js';
import { fileByteSource } from './file-source.js';
import { probeUrl } from './url-input.js';

// Compressed input (.gz, .bz2, ...) is out of scope: every file is read as plain bytes and split
// by byte ranges. Hadoop only splits codecs that support it; we would need the same distinction.

/** Hadoop's local file system reports 32 MiB blocks, which is what bounds Spark's textFile splits locally. */
export const DEFAULT_MAX_SPLIT_BYTES = 32 * 1024 * 1024;

// Hadoop's FileInputFormat lets the last split of a file be up to 10% larger rather than leave a
// sliver of a split behind.
const SPLIT_SLOP = 1.1;

interface InputFile {
  path: string;
  /** -1 for a URL whose server names no size. */
  size: number;
  mtimeMs?: number;
  /** A URL's validator (ETag, else Last-Modified). */
  version?: string;
  /** False for a URL whose server ignores `Range`: it is read whole, as one split. */
  splittable: boolean;
}

export interface PlanTextSplitsOptions {
  /** Upper bound of one split (Hadoop's block size); default 32 MiB. */
  maxSplitBytes?: number;
}

/**
 * Hadoop FileInputFormat sizing: goalSize = totalSize / max(minPartitions, 1), splitSize =
 * max(1, min(goalSize, maxSplitBytes)); every file is cut on its own (splits never span files).
 * An existing directory without visible files yields no splits (Spark gives an empty RDD).
 */
export function planTextSplits(
  pattern: string,
  minPartitions: number,
  opts: PlanTextSplitsOptions = {},
): FileSplit[] {
  checkCount('minPartitions', minPartitions, 0);
  const maxSplitBytes = opts.maxSplitBytes ?? DEFAULT_MAX_SPLIT_BYTES;
  checkCount('maxSplitBytes', maxSplitBytes, 1);

  const files = listInputFiles(pattern);
  const totalSize = files.reduce((sum, f) => sum + Math.max(f.size, 0), 0);
  const goalSize = Math.floor(totalSize / Math.max(minPartitions, 1));
  const splitSize = Math.max(1, Math.min(goalSize, maxSplitBytes));

  const splits: FileSplit[] = [];
  for (const file of files) {
    const { size } = file;
    if (size <= 0 || !file.splittable) {
      // One split per empty file, as Hadoop keeps, so an empty file is still visible in the plan;
      // one for a URL that cannot be read by ranges (to its end, whatever its size).
      splits.push(wholeFileSplit(file));
      continue;
    }
    // Hadoop's count of splits (with its 10% slop), but cut into equal ranges: a short last split
    // would leave its executor idle while the others read full ones.
    let n = 1;
    for (let remaining = size; remaining / splitSize > SPLIT_SLOP; remaining -= splitSize) n++;
    for (let i = 0; i < n; i++) splits.push(fileSplit(file, Math.floor((i * size) / n), Math.floor(((i + 1) * size) / n)));
  }
  return splits;
}

/** A file as one split; an unknown size reads to the end, whatever it turns out to be. */
function wholeFileSplit(file: InputFile): FileSplit {
  return fileSplit(file, 0, file.size < 0 ? Number.MAX_SAFE_INTEGER : file.size);
}

function fileSplit(file: InputFile, start: number, end: number): FileSplit {
  const split: FileSplit = { path: file.path, start, end, fileSize: file.size };
  if (file.mtimeMs !== undefined) split.mtimeMs = file.mtimeMs;
  if (file.version !== undefined) split.version = file.version;
  return split;
}

/**
 * Files for `wholeTextFiles` (each as a split of the whole file), in contiguous groups balanced by
 * byte size. There are min(#files, max(minPartitions, 1)) groups, none empty; no files gives no
 * groups. Spark reports a `file:` URI as the record's key; we report the absolute path (or the URL).
 */
export function planWholeTextFiles(pattern: string, minPartitions: number): FileSplit[][] {
  checkCount('minPartitions', minPartitions, 0);
  const files = listInputFiles(pattern);
  const n = files.length;
  if (n === 0) return [];
  const k = Math.min(n, Math.max(minPartitions, 1));
  const total = files.reduce((sum, f) => sum + Math.max(f.size, 0), 0);
  // Only empty files: balance by count instead, or the first group would take nearly all of them.
  const weight = (f: InputFile): number => (total === 0 ? 1 : Math.max(f.size, 0));
  const totalWeight = total === 0 ? n : total;

  const groups: FileSplit[][] = [];
  let next = 0;
  let done = 0;
  for (let g = 0; g < k; g++) {
    const group: FileSplit[] = [];
    const target = (totalWeight * (g + 1)) / k;
    const reserved = k - g - 1; // every later group needs at least one file
    while (next < n - reserved) {
      const w = weight(files[next]!);
      // A file goes to the group that holds most of it: stop once it would mostly overshoot.
      if (group.length > 0 && g < k - 1 && done + w / 2 > target) break;
      const file = files[next]!;
      group.push(wholeFileSplit(file));
      done += w;
      next++;
    }
    groups.push(group);
  }
  return groups;
}

/** Where a planned split's bytes are, on this machine: the local file, or its URL read by ranges. */
export function splitSource(split: FileSplit): ByteSource {
  return isUrl(split.path) ? httpSplitSource(split) : fileByteSource(split.path);
}

/** Lines of a split read on this machine (see the line reader for the exact semantics). */
export function readTextSplit(split: FileSplit, opts: ReadTextSplitOptions = {}): AsyncGenerator<string[], void, undefined> {
  return lines.readTextSplit(splitSource(split), split, opts);
}

export function readSplitLines(split: FileSplit, opts: ReadTextSplitOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
  return lines.readSplitLines(splitSource(split), split, opts);
}

/** A whole planned file as UTF-8; invalid bytes become U+FFFD and a leading BOM is dropped. */
export function readWholeTextFile(file: FileSplit): Promise<string> {
  return lines.readWholeText(splitSource(file), file);
}

/**
 * Resolves a `textFile` path argument to regular files with their sizes. The whole string is
 * tried as one path first, so a file name containing a comma still works; otherwise it is a
 * comma-separated list like Spark's. Each entry is a file (taken even when its name is hidden:
 * the user named it), a directory (its regular files not starting with '.' or '_', sorted, not
 * recursive) or a glob (matches sorted; hidden names skipped; matched directories contribute
 * their visible files), or an http(s) URL (asked for its size by a synchronous request; never a
 * glob; a comma inside a URL must be written %2C). Entries keep the order given, and duplicates
 * are read twice, as in Hadoop.
 */
export function listInputFiles(pattern: string): InputFile[] {
  if (typeof pattern !== 'string' || pattern.length === 0) {
    throw new FlintError('INVALID_ARGUMENT', `an input path must be a non-empty string, got ${JSON.stringify(pattern)}`);
  }
  const entries = existsSync(pattern) ? [pattern] : pattern.split(',').filter((p) => p.length > 0);
  if (entries.length === 0) {
    throw new FlintError('INPUT_NOT_FOUND', `input path does not exist: ${pattern}`);
  }
  const files: InputFile[] = [];
  for (const entry of entries) {
    if (isUrl(entry)) {
      const { size, ranges, version } = probeUrl(entry);
      files.push({ path: entry, size, splittable: ranges, ...(version === undefined ? {} : { version }) });
      continue;
    }
    const stats = statOrNull(entry);
    if (stats !== null) {
      if (stats.isDirectory()) files.push(...listVisibleFiles(resolve(entry)));
      else files.push(localFile(resolve(entry), stats));
      continue;
    }
    if (!isDynamicPattern(entry)) {
      throw new FlintError('INPUT_NOT_FOUND', `input path does not exist: ${resolve(entry)}`);
    }
    const matches = globSync(entry, { absolute: true, onlyFiles: false, expandDirectories: false, dot: false })
      .map((m) => (m.length > 1 && m.endsWith('/') ? m.slice(0, -1) : m))
      .filter((m) => isVisible(basename(m)))
      .sort();
    if (matches.length === 0) {
      throw new FlintError('INPUT_NOT_FOUND', `input pattern ${entry} matches 0 files`);
    }
    for (const match of matches) {
      const st = statOrNull(match);
      if (st === null) continue; // vanished between the glob and the stat
      if (st.isDirectory()) files.push(...listVisibleFiles(match));
      else if (st.isFile()) files.push(localFile(match, st));
    }
  }
  return files;
}

function listVisibleFiles(dir: string): InputFile[] {
  const names = readdirSync(dir).filter(isVisible).sort();
  const files: InputFile[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const st = statOrNull(path); // follows symlinks, as Hadoop's local file system does
    if (st !== null && st.isFile()) files.push(localFile(path, st));
  }
  return files;
}

function localFile(path: string, st: Stats): InputFile {
  return { path, size: st.size, mtimeMs: st.mtimeMs, splittable: true };
}

function isVisible(name: string): boolean {
  return !name.startsWith('.') && !name.startsWith('_');
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw ioError(`cannot stat input path ${path}: ${describe(err)}`, err);
  }
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new FlintError('INVALID_ARGUMENT', `${name} must be an integer >= ${min}, got ${String(value)}`);
  }
}

function ioError(message: string, cause: unknown): FlintError {
  return new FlintError('IO_ERROR', message, { cause });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
