/**
 * An HTTP resource as a ByteSource, read with `Range` requests through the global `fetch` (Node 20
 * and browsers alike). One request serves a whole split: the first asks for the split's bytes plus a
 * little more (the last line usually ends soon after), and only a line running past that opens an
 * open-ended request. A server that ignores `Range` (200) is read from its start, skipping to the
 * position asked for.
 */
import { FlintError } from '../errors.js';
import type { FileSplit } from '../plan/sources.js';
import type { ByteSource } from './line-reader.js';
import { ReadAhead } from './read-ahead.js';

/** Bytes asked for beyond a split's end, where its last line most likely ends. */
const READ_AHEAD = 64 * 1024;

interface HttpSourceOptions {
  /** Extra request headers (the driver's file server wants `Authorization`). */
  headers?: Record<string, string>;
  /** The byte range the reader will read, [start, end): the first request covers it at once. */
  window?: { start: number; end: number };
  /** The validator seen at planning (ETag, else Last-Modified); a response with another fails. */
  version?: string;
  /** How errors name the resource (the driver's path rather than the file server's URL). */
  label?: string;
}

/**
 * A planned split's bytes over HTTP: at its own URL, or `via` another (the driver's file server,
 * with its credentials). The first request covers the split and the start of the next one.
 */
export function httpSplitSource(split: FileSplit, via?: { url: string; headers: Record<string, string> }): ByteSource {
  return new HttpByteSource(via?.url ?? split.path, {
    window: { start: split.start > 0 ? split.start - 1 : 0, end: split.end },
    label: split.path,
    ...(via ? { headers: via.headers } : {}),
    ...(split.version === undefined ? {} : { version: split.version }),
  });
}

/** The validator a response carries: its ETag, else its Last-Modified. */
export function validatorOf(headers: { get(name: string): string | null }): string | undefined {
  return headers.get('etag') ?? headers.get('last-modified') ?? undefined;
}

/** `bytes a-b/total` (total may be '*') or `bytes *\/total`. */
export function parseContentRange(value: string | null): { start: number; end: number; total: number } | null {
  if (value === null) return null;
  const m = /^\s*bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)\s*$/i.exec(value);
  if (!m) return null;
  return {
    start: m[1] === undefined ? -1 : Number(m[1]),
    end: m[2] === undefined ? -1 : Number(m[2]),
    total: m[3] === '*' ? -1 : Number(m[3]),
  };
}

export function httpError(label: string, status: number): FlintError {
  const what = status === 404 || status === 410 ? 'not found' : status === 401 || status === 403 ? 'refused' : 'failed';
  return new FlintError('IO_ERROR', `reading ${label} ${what}: HTTP ${status}`);
}

class HttpByteSource implements ByteSource {
  private readonly label: string;
  /** -2 until a response told; -1 when it cannot be told. */
  private knownSize = -2;
  private reader: ReadAhead | null = null;
  private aborter: AbortController | null = null;
  /** File offset of the next byte the open response will give. */
  private bodyPos = 0;
  private leftover: Uint8Array | null = null;

  constructor(
    private readonly url: string,
    private readonly opts: HttpSourceOptions,
  ) {
    this.label = opts.label ?? url;
  }

  async size(): Promise<number> {
    if (this.knownSize === -2) await this.open(this.opts.window?.start ?? 0);
    return this.knownSize;
  }

  async read(into: Uint8Array, position: number): Promise<number> {
    if (into.length === 0 || (this.knownSize >= 0 && position >= this.knownSize)) return 0;
    let reopened = false;
    if (this.reader === null || position !== this.bodyPos) {
      await this.open(position);
      reopened = true;
    }
    let n = await this.fill(into);
    if (n === 0 && !reopened && (this.knownSize < 0 || position < this.knownSize)) {
      // The previous response covered a window that ends here: continue with a new one.
      await this.open(position);
      n = await this.fill(into);
    }
    if (n === 0 && this.knownSize >= 0 && position < this.knownSize) {
      throw new FlintError('IO_ERROR', `reading ${this.label}: the server ended the response before byte ${position} of ${this.knownSize}`);
    }
    return n;
  }

  async close(): Promise<void> {
    await this.dropResponse();
  }

  private async fill(into: Uint8Array): Promise<number> {
    let n = 0;
    while (n < into.length && this.reader !== null) {
      let chunk = this.leftover;
      this.leftover = null;
      if (chunk === null) {
        const r = await this.reader.read().catch((err: unknown) => {
          throw new FlintError('IO_ERROR', `reading ${this.label}: ${describeError(err)}`, { cause: err });
        });
        if (r.done) {
          this.reader = null;
          break;
        }
        chunk = r.value;
      }
      const take = Math.min(chunk.length, into.length - n);
      into.set(take === chunk.length ? chunk : chunk.subarray(0, take), n);
      n += take;
      if (take < chunk.length) this.leftover = chunk.subarray(take);
    }
    this.bodyPos += n;
    return n;
  }

  private async open(position: number): Promise<void> {
    await this.dropResponse();
    const w = this.opts.window;
    const last = w && position >= w.start && position < w.end + READ_AHEAD ? `${w.end + READ_AHEAD - 1}` : '';
    const aborter = new AbortController();
    let res: Response;
    try {
      // A split is read once: Chromium storing a cacheable response in its disk cache took 2-3 times
      // as long to hand over its body (bench/diag-fetch-body.ts), and filled the volunteer's disk
      // with the job's input.
      // (Node's fetch has no cache, and its RequestInit type no `cache`.)
      const init: RequestInit & { cache: 'no-store' } = {
        headers: { ...this.opts.headers, range: `bytes=${position}-${last}`, 'accept-encoding': 'identity' },
        cache: 'no-store',
        signal: aborter.signal,
      };
      res = await fetch(this.url, init);
    } catch (err) {
      throw new FlintError('IO_ERROR', `cannot read ${this.label}: ${describeError(err)}`, { cause: err });
    }
    this.aborter = aborter;
    if (res.status === 416) {
      // Nothing at or after `position`: the size the server names tells whether that is the end.
      await res.body?.cancel();
      this.checkVersion(res);
      this.learnSize(parseContentRange(res.headers.get('content-range'))?.total ?? -1);
      return;
    }
    if (res.status !== 206 && res.status !== 200) {
      await res.body?.cancel();
      throw httpError(this.label, res.status);
    }
    this.checkVersion(res);
    const encoding = res.headers.get('content-encoding');
    if (encoding !== null && encoding !== 'identity') {
      await res.body?.cancel();
      throw new FlintError('IO_ERROR', `reading ${this.label}: the server sent it ${encoding}-encoded; byte ranges need the plain bytes`);
    }
    this.reader = res.body ? new ReadAhead(res.body.getReader()) : null;
    if (res.status === 206) {
      const range = parseContentRange(res.headers.get('content-range'));
      if (range === null || range.start !== position) {
        await this.dropResponse();
        throw new FlintError('IO_ERROR', `reading ${this.label}: asked for bytes from ${position}, the server answered ${res.headers.get('content-range') ?? 'no Content-Range'}`);
      }
      this.learnSize(range.total);
      this.bodyPos = position;
    } else {
      const length = res.headers.get('content-length');
      this.learnSize(length === null ? -1 : Number(length));
      this.bodyPos = 0;
      await this.skipTo(position);
    }
  }

  /** A server that ignored `Range` starts at byte 0: discard up to `position`. */
  private async skipTo(position: number): Promise<void> {
    const scratch = new Uint8Array(Math.min(64 * 1024, Math.max(position, 1)));
    while (this.bodyPos < position && this.reader !== null) {
      const want = Math.min(scratch.length, position - this.bodyPos);
      if ((await this.fill(scratch.subarray(0, want))) === 0) break;
    }
  }

  private learnSize(size: number): void {
    if (this.knownSize === -2) this.knownSize = size;
    else if (size !== this.knownSize) {
      throw new FlintError('IO_ERROR', `input ${this.label} changed while it was read: it had ${this.knownSize} bytes, now ${size}`);
    }
  }

  private checkVersion(res: Response): void {
    const expected = this.opts.version;
    if (expected === undefined) return;
    const seen = validatorOf(res.headers);
    if (seen !== expected) {
      throw new FlintError('IO_ERROR', `input ${this.label} changed since planning: its version was ${expected}, now ${seen ?? 'none'}`);
    }
  }

  private async dropResponse(): Promise<void> {
    const reader = this.reader;
    this.reader = null;
    this.leftover = null;
    if (reader) await reader.cancel().catch(() => undefined);
    this.aborter?.abort();
    this.aborter = null;
  }
}

/** An error's message with its cause's (fetch puts the network reason in the cause). */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}
