/** A local file as a ByteSource for the environment-neutral line reader. */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { FlintError } from '../errors.js';
import type { ByteSource } from '../exec/line-reader.js';

/** Opens on first use, so a reader that is never iterated holds no descriptor. */
export function fileByteSource(path: string): ByteSource {
  let handle: FileHandle | null = null;
  const opened = async (): Promise<FileHandle> => {
    if (handle) return handle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      throw new FlintError('IO_ERROR', `cannot open input file ${path}: ${describe(err)}`, { cause: err });
    }
    return handle;
  };
  return {
    async size() {
      return (await (await opened()).stat()).size;
    },
    async read(into, position) {
      const { bytesRead } = await (await opened()).read(into, 0, into.length, position);
      return bytesRead;
    },
    async close() {
      const h = handle;
      handle = null;
      await h?.close();
    },
  };
}

/** Size and modification time of a regular file, or null when there is none at `path`. */
export async function statRegularFile(path: string): Promise<{ size: number; mtimeMs: number } | null> {
  try {
    const st = await stat(path);
    return st.isFile() ? { size: st.size, mtimeMs: st.mtimeMs } : null;
  } catch {
    return null;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
