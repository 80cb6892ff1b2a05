/**
 * File access for an executor that may not see the driver's file system (a `flint worker` on
 * another machine, a browser tab): the driver's files through its file server (host/node/
 * file-server.ts), URLs directly, and the executor's own file system only where it provably holds
 * the same files. Environment-neutral: global fetch and streams only.
 */
import { FlintError } from '../errors.js';
import { isUrl, type FileSplit } from '../plan/sources.js';
import { describeError, httpError, httpSplitSource } from './http-source.js';
import * as lines from './line-reader.js';
import { lineWriter, type ByteSink } from './line-writer.js';
import type { ExecutorPlatform, TextOutput } from './platform.js';

export interface RemoteFiles {
  /** The file server's base URL, e.g. `http://10.0.0.5:41234`. */
  url: string;
  secret: string;
}

export interface RemotePlatformOptions {
  files: RemoteFiles;
  /**
   * This machine's own file access, when it has one (a Node worker; null in a browser or with
   * FLINT_LOCAL_FILES=0). Inputs are read through it when the file here has the size and mtime the
   * driver planned; output and checkpoints go through it only on the driver's own machine.
   */
  local?: ExecutorPlatform | null;
  machineId?: string;
  driverMachineId?: string;
  /**
   * Browsers stream a request body only over HTTP/2, and the driver's file server speaks HTTP/1.1:
   * there an upload is gathered and sent as one body when it ends (a task's part file, a checkpoint).
   */
  streamingUploads?: boolean;
}

/** Chunks (about 1 MiB each) an upload may hold before `write` waits for the network. */
const UPLOAD_QUEUE = 4;

export function remoteExecutorPlatform(opts: RemotePlatformOptions): ExecutorPlatform {
  const base = opts.files.url.replace(/\/+$/, '');
  const auth = { authorization: `Bearer ${opts.files.secret}` };
  const local = opts.local ?? null;
  const sameMachine = local !== null && opts.machineId !== undefined && opts.machineId === opts.driverMachineId;
  const fileUrl = (path: string): string => `${base}/file?path=${encodeURIComponent(path)}`;

  /** The local platform when it holds the very file the driver planned. */
  const localCopy = async (file: FileSplit): Promise<ExecutorPlatform | null> => {
    if (local === null || local.statFile === undefined || isUrl(file.path) || file.mtimeMs === undefined) return null;
    const st = await local.statFile(file.path);
    return st !== null && st.size === file.fileSize && st.mtimeMs === file.mtimeMs ? local : null;
  };
  // A URL is fetched from its own server, never with the file server's credentials.
  const source = (file: FileSplit) => (isUrl(file.path) ? httpSplitSource(file) : httpSplitSource(file, { url: fileUrl(file.path), headers: auth }));
  const upload = opts.streamingUploads === false ? gatheredUploadSink : uploadSink;

  return {
    async *readTextSplit(split) {
      const here = await localCopy(split);
      yield* here ? here.readTextSplit(split) : lines.readTextSplit(source(split), split);
    },
    async *readSplitLines(split) {
      const here = await localCopy(split);
      yield* here ? here.readSplitLines(split) : lines.readSplitLines(source(split), split);
    },
    async readWholeTextFile(file) {
      const here = await localCopy(file);
      return here ? here.readWholeTextFile(file) : lines.readWholeText(source(file), file);
    },
    async openTextOutput(path): Promise<TextOutput> {
      if (sameMachine) return local!.openTextOutput(path);
      return lineWriter(path, upload(fileUrl(path), auth, path));
    },
    async writeFileAtomic(path, bytes) {
      if (sameMachine) return local!.writeFileAtomic(path, bytes);
      const sink = upload(fileUrl(path), auth, path);
      await sink.write(bytes);
      await sink.close();
    },
    async readFile(path) {
      if (sameMachine) return local!.readFile(path);
      let res: Response;
      try {
        res = await fetch(fileUrl(path), { headers: auth });
      } catch (err) {
        throw new FlintError('IO_ERROR', `cannot read ${path} from the driver: ${describeError(err)}`, { cause: err });
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        throw httpError(path, res.status);
      }
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}

/** One PUT of everything written, sent when the output ends (see RemotePlatformOptions.streamingUploads). */
function gatheredUploadSink(url: string, headers: Record<string, string>, label: string): ByteSink {
  let parts: Array<Uint8Array<ArrayBuffer>> = [];
  const aborter = new AbortController();
  return {
    async write(bytes) {
      // The writer may reuse its buffer: keep a copy.
      parts.push(bytes.slice());
    },
    async close() {
      const body = new Blob(parts);
      parts = [];
      let res: Response;
      try {
        res = await fetch(url, { method: 'PUT', body, headers: { ...headers, 'content-type': 'application/octet-stream' }, signal: aborter.signal });
      } catch (err) {
        throw new FlintError('IO_ERROR', `upload of ${label} failed: ${describeError(err)}`, { cause: err });
      }
      const text = await res.text().catch(() => '');
      if (res.status !== 201) throw new FlintError('IO_ERROR', `upload of ${label} refused: HTTP ${res.status} ${text.trim()}`);
    },
    async abort() {
      parts = [];
      aborter.abort();
    },
  };
}

/**
 * One streamed PUT: bytes go out as they are written, at most UPLOAD_QUEUE chunks ahead of the
 * network, and the server renames the upload into place only when the body ended normally.
 */
function uploadSink(url: string, headers: Record<string, string>, label: string): ByteSink {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let wake: (() => void) | null = null;
  const wakeUp = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start: (c) => {
        controller = c;
      },
      pull: wakeUp,
      cancel: wakeUp,
    },
    new CountQueuingStrategy({ highWaterMark: UPLOAD_QUEUE }),
  );
  const aborter = new AbortController();
  let outcome: { error: FlintError | null } | null = null;
  const done = fetch(url, {
    method: 'PUT',
    body,
    headers: { ...headers, 'content-type': 'application/octet-stream' },
    signal: aborter.signal,
    duplex: 'half',
  } as RequestInit & { duplex: 'half' })
    .then(
      async (res) => {
        const text = await res.text().catch(() => '');
        return res.status === 201 ? null : new FlintError('IO_ERROR', `upload of ${label} refused: HTTP ${res.status} ${text.trim()}`);
      },
      (err: unknown) => new FlintError('IO_ERROR', `upload of ${label} failed: ${describeError(err)}`, { cause: err }),
    )
    .then((error) => {
      outcome = { error };
      wakeUp();
    });
  // An answer before the body ended is a refusal (or a failure): writing on would wait forever.
  const stopped = (): FlintError | null =>
    outcome === null ? null : (outcome.error ?? new FlintError('IO_ERROR', `upload of ${label}: the server answered before the upload ended`));

  return {
    async write(bytes) {
      const err = stopped();
      if (err) throw err;
      try {
        controller.enqueue(bytes);
      } catch {
        // The request already failed and cancelled its body: report why it failed.
        await done;
        throw stopped();
      }
      while ((controller.desiredSize ?? 0) <= 0 && outcome === null) await new Promise<void>((r) => (wake = r));
      const after = stopped();
      if (after) throw after;
    },
    async close() {
      if (outcome === null) controller.close();
      await done;
      if (outcome!.error) throw outcome!.error;
    },
    async abort() {
      // The connection ends without a complete body: the server discards the temporary file.
      aborter.abort();
      await done;
    },
  };
}
