import type { ScratchDisk } from '../memory/scratch.js';
import type { FileSplit } from '../plan/sources.js';

/**
 * What an executor needs from the machine it runs on. The executor core never imports Node
 * built-ins; the Node worker thread injects an implementation over `fs`, a browser Web Worker
 * injects one that reports file access as unsupported.
 */
export interface ExecutorPlatform {
  /** Lines of a split, in order, in batches; a split owns the lines that start inside it. */
  readTextSplit(split: FileSplit): AsyncIterable<string[]>;
  /**
   * The same lines as bytes: regions of whole lines joined by '\n' (a line may end in '\r'; an empty
   * region is one empty line), each valid until the next is requested. The WebAssembly scans read these.
   */
  readSplitLines(split: FileSplit): AsyncIterable<Uint8Array>;
  /** A whole planned file (a split from 0 to its size) decoded as UTF-8 (invalid bytes become U+FFFD). */
  readWholeTextFile(file: FileSplit): Promise<string>;
  /** A writer for one attempt file of `saveAsTextFile`; every line is written followed by '\n'. */
  openTextOutput(path: string): Promise<TextOutput>;
  /** Writes bytes to `path` through a temporary file and a rename: readers see all or nothing. */
  writeFileAtomic(path: string, bytes: Uint8Array): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  /**
   * Size and modification time of a regular file here, null when there is none. A platform that
   * can also reach the driver's files remotely asks this to decide whether a path here is the very
   * file the driver planned (a shared or the same file system).
   */
  statFile?(path: string): Promise<{ size: number; mtimeMs: number } | null>;
  /** Node's `require`, for modules (fl.module) that load Node built-ins; absent in browsers. */
  requireBuiltin?(name: string): unknown;
  /**
   * This executor's own scratch directory (spills, shuffle outputs and cached blocks that do not
   * fit in memory); absent where there is no disk (a browser), which the executor reports by
   * lacking the 'disk' capability.
   */
  scratch?: ScratchDisk;
}

export interface TextOutput {
  write(lines: readonly string[]): Promise<void>;
  close(): Promise<void>;
  /** Closes and deletes what was written. */
  abort(): Promise<void>;
}
