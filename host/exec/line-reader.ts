/**
 * Line-aligned reading of text splits over any random-access byte source: a local file (Node), an
 * HTTP resource read with `Range` requests (the driver's file server or any web server). The
 * semantics are Hadoop's LineRecordReader's, so every source splits a file the same way.
 */
import { concatBytes } from '../codec/bytes.js';
import { FlintError } from '../errors.js';
import type { FileSplit } from '../plan/sources.js';

/** Random access to the bytes of one file, opened lazily and closed by the reader. */
export interface ByteSource {
  /** The size now, in bytes; -1 when the source cannot tell (an HTTP server that names none). */
  size(): Promise<number>;
  /** Copies up to `into.length` bytes from `position`; fewer only near the end; 0 at or past the end. */
  read(into: Uint8Array, position: number): Promise<number>;
  close(): Promise<void>;
}

export const DEFAULT_CHUNK_BYTES = 1024 * 1024;

const BATCH_LINES = 4096;
const BATCH_CHARS = 1024 * 1024;
const NEWLINE = 0x0a;
const CR = 0x0d;
const EMPTY = new Uint8Array(0);

export interface ReadTextSplitOptions {
  /** Bytes per read; default 1 MiB. Lines longer than a chunk are assembled across reads. */
  chunkBytes?: number;
}

/**
 * Lines that start inside [split.start, split.end), in batches. A line that starts exactly at
 * `start` is ours (we look at the byte before it); the last line is finished past `end`. Lines end
 * at '\n' and lose one '\r' before it; a final line without '\n' counts; a trailing '\n' does not
 * open an empty line. A UTF-8 byte order mark at the very start of the file is dropped (Hadoop's
 * LineRecordReader does the same). The source is closed when the lines are done.
 */
export async function* readTextSplit(
  source: ByteSource,
  split: FileSplit,
  opts: ReadTextSplitOptions = {},
): AsyncGenerator<string[], void, undefined> {
  // The decoder must not eat U+FEFF inside the file; only the file's first bytes may be a BOM.
  const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  let batch: string[] = [];
  let batchChars = 0;
  for await (const region of readSplitLines(source, split, opts)) {
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
  source: ByteSource,
  split: FileSplit,
  opts: ReadTextSplitOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) {
    throw new FlintError('INVALID_ARGUMENT', `chunkBytes must be an integer >= 1, got ${String(chunkBytes)}`);
  }
  const { path, start, end } = split;
  try {
    await checkUnchanged(source, split);
    if (start >= end) return;

    const buf = new Uint8Array(chunkBytes);
    // Pieces of the current line that arrived in earlier chunks (copies: `buf` is reused).
    let pending: Uint8Array[] = [];
    let skipping = start > 0;
    let pos = skipping ? start - 1 : 0; // file offset of buf[0]
    let lineStart = start; // file offset where the current line began

    const withoutBom = (bytes: Uint8Array): Uint8Array => (lineStart === 0 && startsWithBom(bytes) ? bytes.subarray(3) : bytes);
    const joinPending = (tail: Uint8Array): Uint8Array => {
      const bytes = pending.length === 0 ? tail : concatBytes([...pending, tail]);
      pending = [];
      return withoutBom(bytes);
    };

    for (;;) {
      // What the source has at hand, not a full buffer: an HTTP source's first response ends just
      // past the split, where the last line almost always ends, and filling the buffer would cost
      // another request (tens of milliseconds in a browser) for bytes nobody reads.
      const bytesRead = await readSome(source, buf, pos, path);
      if (bytesRead === 0) {
        // A file holding only a byte-order mark has no lines, like an empty file.
        const bomOnly = lineStart === 0 && isBom(concatBytes(pending));
        if (!skipping && pending.length > 0 && !bomOnly) yield joinPending(EMPTY);
        break;
      }
      let i = 0;
      let finished = false;
      if (skipping || pending.length > 0) {
        const nl = buf.indexOf(NEWLINE, 0);
        if (nl === -1 || nl >= bytesRead) {
          if (!skipping) pending.push(buf.slice(0, bytesRead));
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
        if (!finished && i < bytesRead) pending.push(buf.slice(i, bytesRead));
      }
      if (finished) break;
      pos += bytesRead;
    }
  } finally {
    await source.close();
  }
}

/**
 * A whole planned file (split 0..size) as UTF-8: invalid bytes become U+FFFD and a leading BOM is
 * dropped. A size other than the planned one is reported like a split's.
 */
export async function readWholeText(source: ByteSource, file: FileSplit): Promise<string> {
  try {
    const size = await checkUnchanged(source, file);
    const parts: Uint8Array[] = [];
    if (size >= 0) {
      const bytes = new Uint8Array(size);
      const n = await readFully(source, bytes, 0, file.path);
      if (n < size) throw new FlintError('IO_ERROR', `input file ${file.path} changed while it was read: it ended after ${n} of ${size} bytes`);
      parts.push(bytes);
    } else {
      for (let pos = 0; ; ) {
        const chunk = new Uint8Array(DEFAULT_CHUNK_BYTES);
        const n = await readFully(source, chunk, pos, file.path);
        parts.push(chunk.subarray(0, n));
        pos += n;
        if (n < chunk.length) break;
      }
    }
    return new TextDecoder('utf-8', { fatal: false }).decode(concatBytes(parts));
  } finally {
    await source.close();
  }
}

async function checkUnchanged(source: ByteSource, split: FileSplit): Promise<number> {
  const size = await source.size();
  if (split.fileSize >= 0 && size !== split.fileSize) {
    throw new FlintError(
      'IO_ERROR',
      `input file ${split.path} changed since planning: it had ${split.fileSize} bytes, now ${size < 0 ? 'an unknown size' : size}`,
    );
  }
  return size;
}

/** Like source.read, but keeps reading until the buffer is full or the file ends. */
async function readFully(source: ByteSource, buf: Uint8Array, position: number, path: string): Promise<number> {
  let total = 0;
  while (total < buf.length) {
    const n = await readSome(source, total === 0 ? buf : buf.subarray(total), position + total, path);
    if (n === 0) break;
    total += n;
  }
  return total;
}

/** source.read, its failures named as the input file's. */
async function readSome(source: ByteSource, buf: Uint8Array, position: number, path: string): Promise<number> {
  try {
    return await source.read(buf, position);
  } catch (err) {
    if (err instanceof FlintError) throw err;
    throw new FlintError('IO_ERROR', `cannot read input file ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function startsWithBom(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

function isBom(bytes: Uint8Array): boolean {
  return bytes.length === 3 && startsWithBom(bytes);
}
