/**
 * The driver's file server: how executors that cannot see the driver's file system read its inputs
 * and checkpoints and hand back their output. One per application, bound to one address, guarded by
 * a per-application secret, and limited to the files the application named (FileGrants).
 *
 *   GET|HEAD /file?path=ABS   a planned input or a checkpoint file; `Range: bytes=…` gives 206
 *   PUT      /file?path=ABS   an attempt file of a running saveAsTextFile job, or a checkpoint file;
 *                              the body streams into a temporary file renamed into place at the end
 *
 * Every request carries `Authorization: Bearer SECRET`. Refusals are answered and logged with their
 * reason; no request can throw out of the handler.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createWriteStream, lstatSync, mkdirSync, renameSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import parseRange from 'range-parser';
import type { Flint } from '../api/context.js';
import { FlintError } from '../errors.js';
import type { FileGrants } from './file-grants.js';
import { machineId } from './machine-id.js';
import { NodeDriverPlatform } from './node-platform.js';

/** Bytes per file read of a download: fewer, larger writes to the socket than the 64 KiB default. */
const READ_BYTES = 1024 * 1024;

export interface FileServer {
  /** Base URL executors use, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** The bearer token (256 random bits, base64url). */
  secret: string;
  /** The driver's machine: executors with the same id write its files directly. */
  driverMachineId: string;
  close(): Promise<void>;
}

export interface FileServerOptions {
  /** Address to bind; default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Host name put in `url` when `host` is a wildcard address; default the machine's host name. */
  advertisedHost?: string;
  /** Where refusals and failed uploads are reported; default console.warn. */
  log?: (message: string) => void;
}

/** Starts the file server of a Flint context on Node (master local[N] or a cluster). */
export function startFileServer(fl: Flint, opts: FileServerOptions = {}): Promise<FileServer> {
  const platform = fl._driverPlatform;
  if (!(platform instanceof NodeDriverPlatform)) {
    throw new FlintError('INVALID_ARGUMENT', 'the file server needs a Flint context started on Node');
  }
  return serveDriverFiles(platform.grants, opts);
}

export async function serveDriverFiles(grants: FileGrants, opts: FileServerOptions = {}): Promise<FileServer> {
  const log = opts.log ?? ((m: string) => console.warn(`[flint file server] ${m}`));
  const secret = randomBytes(32).toString('base64url');
  const expected = digest(`Bearer ${secret}`);
  const server = createServer({ requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      log(`internal error on ${req.method} ${req.url}: ${describe(err)}`);
      if (!res.headersSent) send(res, 500, 'internal error');
      else res.destroy();
    });
  });
  // A stalled client must not hold a descriptor or a temporary file forever.
  server.setTimeout(120_000);
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // A reader that stops early (its split ended inside the read-ahead) resets its connection.
    if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') log(`refused a malformed request: ${describe(err)}`);
    socket.destroy();
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Volunteer tabs read and write from the coordinator's origin: cross-origin requests with the
    // secret in a header, never cookies, so any origin may ask (the secret is what is checked).
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-expose-headers', 'content-range, content-length, accept-ranges, etag, last-modified');
    if (req.method === 'OPTIONS') {
      res.setHeader('access-control-allow-methods', 'GET, HEAD, PUT');
      res.setHeader('access-control-allow-headers', 'authorization, range, content-type');
      res.setHeader('access-control-max-age', '600');
      res.statusCode = 204;
      res.end();
      return;
    }
    const refuse = (status: number, reason: string): void => {
      log(`refused ${req.method} ${(req.url ?? '').slice(0, 300)} from ${req.socket.remoteAddress}: ${reason}`);
      if (status === 401) res.setHeader('www-authenticate', 'Bearer');
      send(res, status, reason);
    };
    const given = req.headers.authorization;
    if (typeof given !== 'string' || !timingSafeEqual(digest(given), expected)) return refuse(401, 'missing or wrong bearer token');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://file-server');
    } catch {
      return refuse(400, 'malformed request target');
    }
    if (url.pathname !== '/file') return refuse(404, 'no such endpoint');
    const path = url.searchParams.get('path');
    if (path === null) return refuse(400, 'no path parameter');
    if (req.method === 'GET' || req.method === 'HEAD') return serveRead(req, res, path, refuse);
    if (req.method === 'PUT') return serveWrite(req, res, path, refuse);
    res.setHeader('allow', 'GET, HEAD, PUT');
    return refuse(405, `method ${req.method} not allowed`);
  }

  async function serveRead(req: IncomingMessage, res: ServerResponse, path: string, refuse: (s: number, r: string) => void): Promise<void> {
    const grant = grants.read(path);
    if (!grant.ok) return refuse(grant.status, grant.reason);
    if (grant.kind === 'attempt') return refuse(403, 'not readable');
    let file;
    try {
      file = await open(grant.real, 'r');
    } catch (err) {
      return refuse(404, `cannot open: ${describe(err)}`);
    }
    let handedOver = false;
    try {
      // fstat of the open descriptor: the size sent is the size of the bytes sent.
      const st = await file.stat();
      if (!st.isFile()) return refuse(403, 'not a regular file');
      const size = st.size;
      res.setHeader('accept-ranges', 'bytes');
      res.setHeader('content-type', 'application/octet-stream');
      res.setHeader('cache-control', 'no-store');
      res.setHeader('last-modified', st.mtime.toUTCString());
      res.setHeader('etag', `"${size.toString(16)}-${Math.floor(st.mtimeMs * 1000).toString(16)}"`);
      let start = 0;
      let end = size - 1;
      let status = 200;
      const header = req.headers.range;
      if (header !== undefined) {
        const ranges = parseRange(size, header, { combine: true });
        if (ranges === -1 || ranges === -2 || ranges.type !== 'bytes') {
          // Not a refusal: readers learn a size this way (an empty file has no byte 0).
          res.setHeader('content-range', `bytes */${size}`);
          return send(res, 416, `unsatisfiable or malformed range for ${size} bytes`);
        }
        // Several ranges would need multipart/byteranges; answering with the whole file is allowed.
        if (ranges.length === 1) {
          start = ranges[0]!.start;
          end = ranges[0]!.end;
          status = 206;
          res.setHeader('content-range', `bytes ${start}-${end}/${size}`);
        }
      }
      res.statusCode = status;
      res.setHeader('content-length', String(Math.max(0, end - start + 1)));
      if (req.method === 'HEAD' || end < start) {
        res.end();
        return;
      }
      handedOver = true;
      await pipeline(file.createReadStream({ start, end, autoClose: true, highWaterMark: READ_BYTES }), res).catch(() => {
        // The client went away mid-transfer; its next request starts over.
      });
    } finally {
      if (!handedOver) await file.close().catch(() => undefined);
    }
  }

  async function serveWrite(req: IncomingMessage, res: ServerResponse, path: string, refuse: (s: number, r: string) => void): Promise<void> {
    const grant = grants.write(path);
    if (!grant.ok) return refuse(grant.status, grant.reason);
    let target: string;
    if (grant.kind === 'attempt') {
      try {
        // Not recursive: the job directory must still exist, or the job is over.
        mkdirSync(grant.dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return refuse(409, `cannot create the attempt directory: ${describe(err)}`);
      }
      const st = lstatSync(grant.dir, { throwIfNoEntry: false });
      if (!st || !st.isDirectory()) return refuse(403, 'the attempt directory is not a plain directory');
      target = path;
    } else if (grant.kind === 'checkpoint') {
      target = grant.real;
    } else {
      return refuse(403, 'not writable');
    }
    const tmp = join(dirname(target), `.${basename(target)}.upload-${randomBytes(6).toString('hex')}`);
    try {
      await pipeline(req, createWriteStream(tmp, { flags: 'wx' }));
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      const reason = req.readableAborted || req.destroyed ? 'the client disconnected' : describe(err);
      log(`upload of ${path} failed, nothing written: ${reason}`);
      if (!res.headersSent && !res.destroyed) send(res, 500, 'upload failed');
      return;
    }
    // The job may have committed or aborted while the bytes arrived.
    const still = grants.write(path);
    if (!still.ok) {
      await rm(tmp, { force: true }).catch(() => undefined);
      return refuse(409, `upload finished too late: ${still.reason}`);
    }
    try {
      renameSync(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      return refuse(409, `cannot move the upload into place: ${describe(err)}`);
    }
    send(res, 201, 'written');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log(`server error: ${describe(err)}`));
  const address = server.address() as AddressInfo;
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const host = wildcard ? (opts.advertisedHost ?? hostname()) : address.address;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  let closing: Promise<void> | null = null;
  return {
    url,
    secret,
    driverMachineId: machineId(),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function send(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent || res.destroyed) return;
  res.statusCode = status;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.setHeader('connection', status >= 400 && status !== 404 && status !== 416 ? 'close' : 'keep-alive');
  res.end(`${text}\n`);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
