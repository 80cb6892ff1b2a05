/**
 * What planning needs to know about a `textFile('http(s)://…')` input, asked synchronously: its
 * size, whether its server honours `Range` (only then is it cut into splits), and its validator.
 */
import { FlintError } from '../errors.js';
import { parseContentRange, validatorOf } from '../exec/http-source.js';
import { syncHttpRequest, type SyncResponse } from './sync-http.js';

export interface UrlInput {
  url: string;
  /** -1 when the server names no size. */
  size: number;
  /** The server answers `Range` requests with 206: executors may read byte ranges of it. */
  ranges: boolean;
  version?: string;
}

type Request = (url: string, init: { method: 'HEAD' | 'GET'; headers?: Record<string, string> }) => SyncResponse;

const IDENTITY = { 'accept-encoding': 'identity' };

/**
 * A HEAD first; when it names no size or does not advertise `Accept-Ranges: bytes`, a one-byte
 * `Range` GET settles both (many servers honour ranges without advertising them).
 */
export function probeUrl(url: string, request: Request = syncHttpRequest): UrlInput {
  const head = request(url, { method: 'HEAD', headers: IDENTITY });
  checkFound(url, head.status);
  const headers = lookup(head);
  if (ok(head.status) && headers.get('content-length') !== null && /\bbytes\b/i.test(headers.get('accept-ranges') ?? '')) {
    return withVersion({ url, size: Number(headers.get('content-length')), ranges: true }, headers);
  }
  const probe = request(url, { method: 'GET', headers: { ...IDENTITY, range: 'bytes=0-0' } });
  checkFound(url, probe.status);
  const got = lookup(probe);
  const range = parseContentRange(got.get('content-range'));
  if (probe.status === 206 && range !== null && range.total >= 0) return withVersion({ url, size: range.total, ranges: true }, got);
  // 416 to bytes=0-0 means there is no byte 0: an empty resource.
  if (probe.status === 416) return withVersion({ url, size: range?.total ?? 0, ranges: true }, got);
  if (ok(probe.status)) {
    const length = got.get('content-length') ?? (ok(head.status) ? headers.get('content-length') : null);
    return withVersion({ url, size: length === null ? -1 : Number(length), ranges: false }, got);
  }
  throw new FlintError('IO_ERROR', `input URL ${url} answered HTTP ${probe.status}`);
}

function checkFound(url: string, status: number): void {
  if (status === 404 || status === 410) {
    throw new FlintError('INPUT_NOT_FOUND', `input URL does not exist (HTTP ${status}): ${url}`);
  }
}

function ok(status: number): boolean {
  return status >= 200 && status < 300;
}

function lookup(res: SyncResponse): { get(name: string): string | null } {
  return { get: (name) => res.headers[name.toLowerCase()] ?? null };
}

function withVersion(input: UrlInput, headers: { get(name: string): string | null }): UrlInput {
  const version = validatorOf(headers);
  return version === undefined ? input : { ...input, version };
}
