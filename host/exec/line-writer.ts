/**
 * The one TextOutput of `saveAsTextFile`, over any byte sink (a local file, an upload to the
 * driver's file server). Lines are gathered until about 1 MiB of text and handed on in one write,
 * because one write (or one network frame) per line would dominate the cost of small records.
 */
import { FlintError } from '../errors.js';
import type { TextOutput } from './platform.js';

const FLUSH_CHARS = 1024 * 1024;

export interface ByteSink {
  write(bytes: Uint8Array): Promise<void>;
  /** Everything written is in place once this resolves. */
  close(): Promise<void>;
  /**
   * Stops and discards what was written. An upload that already completed stays: it is an attempt
   * file the job never commits, removed with the job's temporary directory.
   */
  abort(): Promise<void>;
}

export function lineWriter(path: string, sink: ByteSink): TextOutput {
  const encoder = new TextEncoder();
  let pending: string[] = [];
  let pendingChars = 0;
  let closed = false;

  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    // Lone surrogates become U+FFFD here, the same as any UTF-8 encoder would do.
    const bytes = encoder.encode(pending.join('\n') + '\n');
    pending = [];
    pendingChars = 0;
    await sink.write(bytes);
  };

  return {
    async write(lines) {
      if (closed) throw new FlintError('IO_ERROR', `cannot write to ${path}: the output is closed`);
      for (const line of lines) {
        pending.push(line);
        pendingChars += line.length + 1;
      }
      if (pendingChars >= FLUSH_CHARS) await flush();
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await flush();
      } catch (err) {
        await sink.abort().catch(() => undefined);
        throw err;
      }
      await sink.close();
    },
    async abort() {
      closed = true;
      pending = [];
      await sink.abort();
    },
  };
}
