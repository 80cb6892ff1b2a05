/**
 * Frames: how shuffle blocks, spill runs and blocks cached on disk are cut so that they can be read
 * a piece at a time. A frame is `[payload length u32 LE][0 u32][payload][zeros to a multiple of 8]`;
 * a payload is a batch of records on its own (an encoded record array or an aggregation batch), so a
 * reader holds one frame, never a whole block. The padding keeps every payload 8-byte aligned when
 * the block or the read buffer is, so aggregation batches decode into typed-array views without a
 * copy.
 */
import { concatBytes } from '../codec/bytes.js';
import { FlintError } from '../errors.js';
import type { ScratchFile, ScratchReader } from './scratch.js';

export const FRAME_HEADER = 8;

export function framedLength(payloadBytes: number): number {
  return FRAME_HEADER + ((payloadBytes + 7) & ~7);
}

/** One payload as a frame, in a buffer of its own. */
export function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(framedLength(payload.byteLength));
  writeHeader(out, 0, payload.byteLength);
  out.set(payload, FRAME_HEADER);
  return out;
}

function writeHeader(into: Uint8Array, at: number, length: number): void {
  into[at] = length & 0xff;
  into[at + 1] = (length >>> 8) & 0xff;
  into[at + 2] = (length >>> 16) & 0xff;
  into[at + 3] = length >>> 24;
  into[at + 4] = into[at + 5] = into[at + 6] = into[at + 7] = 0;
}

function readLength(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

function truncated(where: string): FlintError {
  return new FlintError('INTERNAL', `truncated frame in ${where}`);
}

/** The payloads of a whole block held in memory (views into it). */
export function* framesIn(block: Uint8Array): Generator<Uint8Array> {
  let at = 0;
  while (at < block.byteLength) {
    if (block.byteLength - at < FRAME_HEADER) throw truncated('a block');
    const len = readLength(block, at);
    const total = framedLength(len);
    if (block.byteLength - at < total) throw truncated('a block');
    yield block.subarray(at + FRAME_HEADER, at + FRAME_HEADER + len);
    at += total;
  }
}

/**
 * Payloads out of a block that arrives in pieces (fetched byte ranges): a frame cut between two
 * pieces is put back together, everything else is handed out as views into the pieces.
 */
export class FrameParser {
  private pending: Uint8Array | null = null;

  /** Bytes held for a frame that is not complete yet. */
  get buffered(): number {
    return this.pending?.byteLength ?? 0;
  }

  *push(piece: Uint8Array): Generator<Uint8Array> {
    let at = 0;
    if (this.pending) {
      let p = this.pending;
      if (p.byteLength < FRAME_HEADER) {
        const take = Math.min(FRAME_HEADER - p.byteLength, piece.byteLength);
        p = concatBytes([p, piece.subarray(0, take)]);
        at = take;
        if (p.byteLength < FRAME_HEADER) {
          this.pending = p;
          return;
        }
      }
      const total = framedLength(readLength(p, 0));
      const take = Math.min(total - p.byteLength, piece.byteLength - at);
      p = concatBytes([p, piece.subarray(at, at + take)]);
      at += take;
      if (p.byteLength < total) {
        this.pending = p;
        return;
      }
      this.pending = null;
      yield p.subarray(FRAME_HEADER, FRAME_HEADER + readLength(p, 0));
    }
    while (at < piece.byteLength) {
      if (piece.byteLength - at < FRAME_HEADER) break;
      const len = readLength(piece, at);
      const total = framedLength(len);
      if (piece.byteLength - at < total) break;
      yield piece.subarray(at + FRAME_HEADER, at + FRAME_HEADER + len);
      at += total;
    }
    if (at < piece.byteLength) this.pending = piece.slice(at);
  }

  /** The block ended: a frame left incomplete means the bytes were cut short. */
  end(): void {
    if (this.pending) throw truncated('a fetched block');
  }
}

/** Appends frames to a scratch file through a write buffer: a disk write per megabyte, not per frame. */
export class FrameWriter {
  private readonly buffer: Uint8Array;
  private used = 0;

  constructor(
    readonly file: ScratchFile,
    bufferBytes = 1 << 20,
  ) {
    this.buffer = new Uint8Array(bufferBytes);
  }

  /** The file offset where the next frame will start. */
  get offset(): number {
    return this.file.size + this.used;
  }

  write(payload: Uint8Array): void {
    const total = framedLength(payload.byteLength);
    if (this.used + total > this.buffer.byteLength) this.flush();
    if (total > this.buffer.byteLength) {
      this.file.append(frame(payload));
      return;
    }
    writeHeader(this.buffer, this.used, payload.byteLength);
    this.buffer.set(payload, this.used + FRAME_HEADER);
    this.buffer.fill(0, this.used + FRAME_HEADER + payload.byteLength, this.used + total);
    this.used += total;
  }

  /** Appends bytes that are frames already (a block's chunks moving to disk). */
  writeFramed(bytes: Uint8Array): void {
    if (this.used + bytes.byteLength > this.buffer.byteLength) this.flush();
    if (bytes.byteLength > this.buffer.byteLength) {
      this.file.append(bytes);
      return;
    }
    this.buffer.set(bytes, this.used);
    this.used += bytes.byteLength;
  }

  flush(): void {
    if (this.used === 0) return;
    this.file.append(this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  close(): void {
    this.flush();
    this.file.close();
  }
}

/**
 * The payloads of the frames in [start, end) of a file, read a buffer at a time. Each payload is a
 * view into the read buffer, valid until the next one is asked for.
 */
export function* readFrames(reader: ScratchReader, start: number, end: number, bufferBytes = 1 << 20): Generator<Uint8Array> {
  let buf = new Uint8Array(Math.max(64, Math.min(bufferBytes, end - start)));
  let have = 0;
  let at = 0;
  let pos = start;
  for (;;) {
    while (have - at >= FRAME_HEADER) {
      const len = readLength(buf, at);
      const total = framedLength(len);
      if (have - at < total) break;
      yield buf.subarray(at + FRAME_HEADER, at + FRAME_HEADER + len);
      at += total;
    }
    if (pos >= end) {
      if (at !== have) throw truncated('a scratch file');
      return;
    }
    buf.copyWithin(0, at, have);
    have -= at;
    at = 0;
    if (have >= FRAME_HEADER) {
      const total = framedLength(readLength(buf, 0));
      if (total > buf.byteLength) {
        const bigger = new Uint8Array(total);
        bigger.set(buf.subarray(0, have));
        buf = bigger;
      }
    }
    const n = reader.read(buf.subarray(have, Math.min(buf.byteLength, have + (end - pos))), pos);
    if (n <= 0) throw truncated('a scratch file');
    have += n;
    pos += n;
  }
}
