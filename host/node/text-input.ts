import { existsSync, readdirSync, statSync, type Stats } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { globSync, isDynamicPattern } from 'tinyglobby';
import { FlintError } from '../errors.js';
import type { FileSplit } from '../plan/sources.js';

// Compressed input (.gz, .bz2, ...) is out of scope: every file is read as plain bytes and split
// by byte ranges. Hadoop only splits codecs that support it; we would need the same distinction.

/** Hadoop's local file system reports 32 MiB blocks, which is what bounds Spark's textFile splits locally. */
export const DEFAULT_MAX_SPLIT_BYTES = 32 * 1024 * 1024;
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;

// Hadoop's FileInputFormat lets the last split of a file be up to 10% larger rather than leave a
// sliver of a split behind.
const SPLIT_SLOP = 1.1;

const BATCH_LINES = 4096;
const BATCH_CHARS = 1024 * 1024;
const NEWLINE = 0x0a;
const CR = 0x0d;

interface InputFile {
  path: string;
  size: number;
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
  const totalSize = files.reduce((sum, f) => sum + f.size, 0);
  const goalSize = Math.floor(totalSize / Math.max(minPartitions, 1));
  const splitSize = Math.max(1, Math.min(goalSize, maxSplitBytes));

  const splits: FileSplit[] = [];
  for (const { path, size } of files) {
    if (size === 0) {
      // Keeps one partition per file, as Hadoop does, so an empty file is still visible in the plan.
      splits.push({ path, start: 0, end: 0, fileSize: 0 });
      continue;
    }
    // Hadoop's count of splits (with its 10% slop), but cut into equal ranges: a short last split
    // would leave its executor idle while the others read full ones.
    let n = 1;
    for (let remaining = size; remaining / splitSize > SPLIT_SLOP; remaining -= splitSize) n++;
    for (let i = 0; i < n; i++) {
      splits.push({ path, start: Math.floor((i * size) / n), end: Math.floor(((i + 1) * size) / n), fileSize: size });
    }
  }
  return splits;
}

/**
 * Files for `wholeTextFiles`, in contiguous groups balanced by byte size. There are
 * min(#files, max(minPartitions, 1)) groups, none empty; no files gives no groups. Spark reports a
 * `file:` URI as the record's key; we report the absolute path.
 */
export function planWholeTextFiles(pattern: string, minPartitions: number): string[][] {
  checkCount('minPartitions', minPartitions, 0);
  const files = listInputFiles(pattern);
  const n = files.length;
  if (n === 0) return [];
  const k = Math.min(n, Math.max(minPartitions, 1));
  const total = files.reduce((sum, f) => sum + f.size, 0);
  // Only empty files: balance by count instead, or the first group would take nearly all of them.
  const weight = (f: InputFile): number => (total === 0 ? 1 : f.size);
  const totalWeight = total === 0 ? n : total;

  const groups: string[][] = [];
  let next = 0;
  let done = 0;
  for (let g = 0; g < k; g++) {
    const group: string[] = [];
    const target = (totalWeight * (g + 1)) / k;
    const reserved = k - g - 1; // every later group needs at least one file
    while (next < n - reserved) {
      const w = weight(files[next]!);
      // A file goes to the group that holds most of it: stop once it would mostly overshoot.
      if (group.length > 0 && g < k - 1 && done + w / 2 > target) break;
      group.push(files[next]!.path);
      done += w;
      next++;
    }
    groups.push(group);
  }
  return groups;
}

export interface ReadTextSplitOptions {
  /** Bytes per read; default 1 MiB. Lines longer than a chunk are assembled across reads. */
  chunkBytes?: number;
}

/**
 * Lines that start inside [split.start, split.end), in batches. A line that starts exactly at
 * `start` is ours (we look at the byte before it); the last line is finished past `end`. Lines end
 * at '\n' and lose one '\r' before it; a final line without '\n' counts; a trailing '\n' does not
 * open an empty line. A UTF-8 byte order mark at the very start of the file is dropped (Hadoop's
 * LineRecordReader does the same).
 */
export async function* readTextSplit(
  split: FileSplit,
  opts: ReadTextSplitOptions = {},
): AsyncGenerator<string[], void, undefined> {
  // The decoder must not eat U+FEFF inside the file; only the file's first bytes may be a BOM.
  const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  let batch: string[] = [];
  let batchChars = 0;
  for await (const region of readSplitLines(split, opts)) {
    // '\n' is never inside a UTF-8 sequence, so decoding many lines in one call equals decoding
    // them one by one, at a fraction of the per-line cost.
    for (const line of decoder.decode(region).split('\n')) {
      const l = line.length > 0 && line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line;
      batch.push(l);
      batchChars += l.length;
    }
    if (batch.length >= BATCH_LINES || batchChars >= BATCH_CHARS) {
      // A chunk of short lines can exceed the batch size: hand it on in bounded pieces.
      for (let k = 0; k < batch.length; k += BATCH_LINES) yield batch.slice(k, k + BATCH_LINES);
      batch = [];
      batchChars = 0;
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * The bytes of the lines `readTextSplit` would return, as regions of one or more whole lines joined
 * by '\n' (each line may still end in '\r'; the region has no final '\n'; an empty region is one
 * empty line). The file's leading BOM is removed. A region is a view into a reused buffer: it is
 * valid until the consumer asks for the next one. This is what the WebAssembly scans read.
 */
export async function* readSplitLines(
  split: FileSplit,
  opts: ReadTextSplitOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  checkCount('chunkBytes', chunkBytes, 1);
  const { path, start, end } = split;

  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw ioError(`cannot open input file ${path}: ${describe(err)}`, err);
  }
  try {
    const { size } = await handle.stat();
    if (size !== split.fileSize) {
      throw new FlintError(
        'IO_ERROR',
        `input file ${path} changed since planning: it had ${split.fileSize} bytes, now ${size}`,
      );
    }
    if (start >= end) return;

    const buf = Buffer.allocUnsafe(chunkBytes);
    // Pieces of the current line that arrived in earlier chunks (copies: `buf` is reused).
    let pending: Buffer[] = [];
    let skipping = start > 0;
    let pos = skipping ? start - 1 : 0; // file offset of buf[0]
    let lineStart = start; // file offset where the current line began

    const withoutBom = (bytes: Uint8Array): Uint8Array =>
      lineStart === 0 && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
    const joinPending = (tail: Uint8Array): Uint8Array => {
      const bytes = pending.length === 0 ? tail : Buffer.concat([...pending, tail]);
      pending = [];
      return withoutBom(bytes);
    };

    for (;;) {
      const { bytesRead } = await readFully(handle, buf, pos, path);
      if (bytesRead === 0) {
        // A file holding only a byte-order mark has no lines, like an empty file.
        const bomOnly = lineStart === 0 && Buffer.concat(pending).equals(Buffer.from([0xef, 0xbb, 0xbf]));
        if (!skipping && pending.length > 0 && !bomOnly) yield joinPending(new Uint8Array(0));
        break;
      }
      let i = 0;
      let finished = false;
      if (skipping || pending.length > 0) {
        const nl = buf.indexOf(NEWLINE, 0);
        if (nl === -1 || nl >= bytesRead) {
          if (!skipping) pending.push(Buffer.from(buf.subarray(0, bytesRead)));
          pos += bytesRead;
          continue;
        }
        if (skipping) skipping = false;
        else yield joinPending(buf.subarray(0, nl));
        lineStart = pos + nl + 1;
        i = nl + 1;
        finished = lineStart >= end;
      }
      if (!finished && i < bytesRead) {
        // The last line this split owns ends at the first newline at or after byte end - 1.
        const stop = buf.indexOf(NEWLINE, Math.max(i, end - 1 - pos));
        const last = stop !== -1 && stop < bytesRead ? stop : buf.lastIndexOf(NEWLINE, bytesRead - 1);
        if (last >= i) {
          yield withoutBom(buf.subarray(i, last));
          lineStart = pos + last + 1;
          i = last + 1;
          finished = last === stop;
        }
        if (!finished && i < bytesRead) pending.push(Buffer.from(buf.subarray(i, bytesRead)));
      }
      if (finished) break;
      pos += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/** The whole file as UTF-8; invalid bytes become U+FFFD and a leading BOM is dropped. */
export async function readWholeTextFile(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw ioError(`cannot read input file ${path}: ${describe(err)}`, err);
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

/**
 * Resolves a `textFile` path argument to regular files with their sizes. The whole string is
 * tried as one path first, so a file name containing a comma still works; otherwise it is a
 * comma-separated list like Spark's. Each entry is a file (taken even when its name is hidden:
 * the user named it), a directory (its regular files not starting with '.' or '_', sorted, not
 * recursive) or a glob (matches sorted; hidden names skipped; matched directories contribute
 * their visible files). Entries keep the order given, and duplicates are read twice, as in Hadoop.
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
    const stats = statOrNull(entry);
    if (stats !== null) {
      if (stats.isDirectory()) files.push(...listVisibleFiles(resolve(entry)));
      else files.push({ path: resolve(entry), size: stats.size });
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
      else if (st.isFile()) files.push({ path: match, size: st.size });
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
    if (st !== null && st.isFile()) files.push({ path, size: st.size });
  }
  return files;
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

/** Like handle.read, but keeps reading until the buffer is full or the file ends. */
async function readFully(
  handle: FileHandle,
  buf: Buffer,
  position: number,
  path: string,
): Promise<{ bytesRead: number }> {
  let total = 0;
  try {
    while (total < buf.length) {
      const { bytesRead } = await handle.read(buf, total, buf.length - total, position + total);
      if (bytesRead === 0) break;
      total += bytesRead;
    }
  } catch (err) {
    throw ioError(`cannot read input file ${path}: ${describe(err)}`, err);
  }
  return { bytesRead: total };
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
