/**
 * Messages over a byte channel (a WebSocket, an RTCDataChannel, a relay through the coordinator):
 * each message is encoded with the record codec (so every record type, -0 and bigints included,
 * crosses exactly as it does between threads), messages sent in the same tick (or, where the host
 * says so, the same turn of its event loop) share one frame, and a message larger than the channel's
 * frame limit is cut into chunks that the other side reassembles.
 *
 * Frame layout (docs/PROTOCOL.md):
 *   0x01 (u32 length, bytes)*   one or more whole messages
 *   0x02 bytes                  a chunk of a message continued by the next frame
 *   0x03 bytes                  the last chunk of that message
 * Chunks of one message are contiguous: the sender never interleaves another message with them.
 */
import { concatBytes } from '../codec/bytes.js';
import { decodeValue, encodeValueShared } from '../codec/records.js';
import { FlintError } from '../errors.js';
import type { Endpoint } from './endpoint.js';

/** The raw link a framed endpoint runs over. */
export interface ByteChannel {
  send(frame: Uint8Array): void;
  onFrame(handler: (frame: Uint8Array) => void): void;
  /** Once, when the link ends; with an Error unless it was closed cleanly. */
  onClose(handler: (reason?: Error) => void): void;
  close(reason?: string): void;
  /** Bytes handed to `send` and not yet written out. */
  bufferedAmount(): number;
  /**
   * Calls `handler` once, soon after `bufferedAmount()` fell to `threshold` or below (an
   * RTCDataChannel's bufferedamountlow). Channels without such an event leave it out and are polled.
   */
  onceDrained?(threshold: number, handler: () => void): void;
}

export interface FramingOptions {
  /** Largest frame the channel carries (RTCDataChannel: 64 KiB; WebSocket: larger is fine). */
  frameBytes?: number;
  /** Largest message accepted, sent or received; a bigger incoming one closes the channel. */
  maxMessageBytes?: number;
  /** `writable()` resolves once fewer bytes than this are buffered. */
  lowWaterBytes?: number;
  /**
   * The most bytes the channel may hold unsent: frames past it wait in the endpoint, in order, until
   * the channel drains to `lowWaterBytes`. A browser's RTCDataChannel refuses a send (it throws)
   * once 16 MiB are queued, so a block of more than that, cut into frames and written at once,
   * would break the link. Default: no limit (a WebSocket queues whatever it is given).
   */
  highWaterBytes?: number;
  /**
   * Frames handed to the channel per slice: past it, the rest waits until `yieldTo` calls back, so
   * that a message of many megabytes does not hold the thread while it is copied into the channel.
   * A page's main thread needs this: a browser's WebSocket.send takes milliseconds per megabyte, and
   * the page's heartbeats and the executors' results wait while it runs. Default: no limit.
   */
  sliceBytes?: number;
  /** Calls `resume` in a later task (a page passes a MessageChannel round trip: never throttled). */
  yieldTo?: (resume: () => void) => void;
  /** For messages and logs: what is at the other end. */
  label?: string;
  /**
   * Runs the flush that writes what was sent since the last one. The default, queueMicrotask,
   * gathers the messages of one tick. A relay that answers each message it receives with one of its
   * own (a `flint worker` passing its threads' results on) sends one per tick, so one frame per
   * message; Node hosts pass setImmediate, which gathers everything sent while handling one turn's
   * I/O into one frame and one write.
   */
  schedule?: (flush: () => void) => void;
}

const WHOLE = 0x01;
const CHUNK = 0x02;
const LAST = 0x03;

export const DEFAULT_FRAME_BYTES = 1024 * 1024;
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024 * 1024;

export function framedEndpoint(channel: ByteChannel, options: FramingOptions = {}): Endpoint {
  return new FramedEndpoint(channel, options);
}

class FramedEndpoint implements Endpoint {
  private readonly frameBytes: number;
  private readonly maxMessageBytes: number;
  private readonly lowWater: number;
  private readonly highWater: number;
  /** Frames waiting for the channel to drain (see FramingOptions.highWaterBytes), from `queueHead`. */
  private queue: Uint8Array[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private awaitingDrain = false;
  private readonly sliceBytes: number;
  /** Bytes the current slice may still hand to the channel. */
  private sliceLeft: number;
  private readonly yieldTo: (resume: () => void) => void;
  /** Closed by this side with frames still queued: the channel closes once they are written. */
  private closeWhenDrained: { reason: string | undefined } | null = null;
  private readonly label: string;
  private readonly schedule: (flush: () => void) => void;
  private outbox: Uint8Array[] = [];
  private outboxBytes = 0;
  private flushScheduled = false;
  private handler: ((m: unknown) => void) | null = null;
  private readonly inbox: unknown[] = [];
  private readonly closeHandlers: Array<(reason?: Error) => void> = [];
  private readonly progressHandlers: Array<() => void> = [];
  private closed = false;
  private closeReason: Error | undefined;
  private chunks: Uint8Array[] = [];
  private chunkBytes = 0;

  constructor(
    private readonly channel: ByteChannel,
    options: FramingOptions,
  ) {
    this.frameBytes = Math.max(1024, options.frameBytes ?? DEFAULT_FRAME_BYTES);
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.lowWater = options.lowWaterBytes ?? 4 * 1024 * 1024;
    this.highWater = Math.max(options.highWaterBytes ?? Infinity, this.frameBytes);
    this.sliceBytes = options.sliceBytes ?? Infinity;
    this.sliceLeft = this.sliceBytes;
    this.yieldTo = options.yieldTo ?? ((resume) => setTimeout(resume, 0));
    this.label = options.label ?? 'peer';
    // Unbound, as a browser requires of its globals: `this.schedule(f)` would call it on the endpoint.
    const schedule = options.schedule ?? ((f: () => void) => queueMicrotask(f));
    this.schedule = schedule;
    channel.onFrame((frame) => this.receive(frame));
    channel.onClose((reason) => {
      // Frames still queued after our own close have nowhere to go now.
      this.closeWhenDrained = null;
      this.end(reason);
    });
  }

  send(message: unknown): void {
    if (this.closed) return;
    let bytes: Uint8Array;
    try {
      bytes = encodeValueShared(message);
    } catch (err) {
      throw new FlintError('PROTOCOL_ERROR', `cannot send a message to ${this.label}: ${(err as Error).message}`, { cause: err });
    }
    if (bytes.byteLength > this.maxMessageBytes) {
      throw new FlintError(
        'PROTOCOL_ERROR',
        `a message of ${bytes.byteLength} bytes is larger than the ${this.maxMessageBytes}-byte limit of the channel to ${this.label}`,
      );
    }
    this.outbox.push(bytes);
    this.outboxBytes += bytes.byteLength;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.schedule(() => this.flush());
    }
  }

  /**
   * Writes the messages sent since the last flush: small ones packed into shared frames, one larger
   * than a batch alone in its frame, one larger than a frame in chunks.
   */
  private flush(): void {
    this.flushScheduled = false;
    const messages = this.outbox;
    this.outbox = [];
    this.outboxBytes = 0;
    if (this.closed) return;
    const budget = this.frameBytes - 1;
    // Messages share frames up to 1 MiB, however large frames may be: a frame that gathered several
    // big messages could exceed what the other side accepts in one frame (its own message limit).
    const batchBudget = Math.min(this.frameBytes, DEFAULT_FRAME_BYTES) - 1;
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    const writeBatch = () => {
      if (batch.length === 0) return;
      const frame = new Uint8Array(1 + batchBytes);
      const view = new DataView(frame.buffer);
      frame[0] = WHOLE;
      let at = 1;
      for (const m of batch) {
        view.setUint32(at, m.byteLength);
        frame.set(m, at + 4);
        at += 4 + m.byteLength;
      }
      this.write(frame);
      batch = [];
      batchBytes = 0;
    };
    for (const m of messages) {
      if (4 + m.byteLength > budget) {
        writeBatch();
        for (let at = 0; at < m.byteLength; at += budget) {
          const end = Math.min(m.byteLength, at + budget);
          const frame = new Uint8Array(1 + end - at);
          frame[0] = end === m.byteLength ? LAST : CHUNK;
          frame.set(m.subarray(at, end), 1);
          this.write(frame);
        }
        continue;
      }
      if (batchBytes + 4 + m.byteLength > batchBudget) writeBatch();
      batch.push(m);
      batchBytes += 4 + m.byteLength;
    }
    writeBatch();
  }

  /** Hands a frame to the channel, or queues it behind others while the channel holds too much. */
  private write(frame: Uint8Array): void {
    if (this.queuedBytes === 0 && this.hasRoom(frame)) {
      this.handOver(frame);
      return;
    }
    this.queue.push(frame);
    this.queuedBytes += frame.byteLength;
    this.pump();
  }

  /** Whether `frame` may go to the channel now: within this turn's slice and the channel's limit. */
  private hasRoom(frame: Uint8Array): boolean {
    // A slice always takes one frame, however large.
    if (this.sliceLeft < frame.byteLength && this.sliceLeft < this.sliceBytes) return false;
    const buffered = this.channel.bufferedAmount();
    // One frame always goes when nothing is buffered, whatever the limit.
    return buffered === 0 || buffered + frame.byteLength <= this.highWater;
  }

  private handOver(frame: Uint8Array): void {
    if (this.sliceBytes !== Infinity) {
      if (this.sliceLeft === this.sliceBytes) {
        // The first bytes of a slice: the next one starts once the thread has done other work.
        this.yieldTo(() => {
          this.sliceLeft = this.sliceBytes;
          if (this.queuedBytes > 0) this.pump();
        });
      }
      this.sliceLeft -= frame.byteLength;
    }
    this.channel.send(frame);
  }

  /** Writes queued frames while the channel has room; otherwise waits for it to drain. */
  private pump(): void {
    if (this.closed && !this.closeWhenDrained) return;
    while (this.queueHead < this.queue.length) {
      const frame = this.queue[this.queueHead]!;
      if (!this.hasRoom(frame)) break;
      this.queue[this.queueHead++] = undefined as unknown as Uint8Array;
      this.queuedBytes -= frame.byteLength;
      this.handOver(frame);
    }
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
      if (this.closeWhenDrained) {
        const { reason } = this.closeWhenDrained;
        this.closeWhenDrained = null;
        this.channel.close(reason);
      }
      return;
    }
    // Out of slice: the slice's end (scheduled when it began) resumes.
    if (this.sliceLeft < this.queue[this.queueHead]!.byteLength && this.sliceLeft < this.sliceBytes) return;
    if (this.awaitingDrain) return;
    this.awaitingDrain = true;
    const resume = () => {
      if (!this.awaitingDrain) return;
      this.awaitingDrain = false;
      this.pump();
    };
    if (this.channel.onceDrained) {
      this.channel.onceDrained(this.lowWater, resume);
      // Drained before the handler was in place: its event may never come.
      if (this.channel.bufferedAmount() <= this.lowWater) queueMicrotask(resume);
    } else {
      setTimeout(resume, 2);
    }
  }

  private receive(frame: Uint8Array): void {
    if (this.closed) return;
    try {
      if (frame.byteLength === 0) throw new Error('empty frame');
      const kind = frame[0];
      if (kind === WHOLE) {
        if (this.chunks.length > 0) throw new Error('a whole message arrived inside a chunked one');
        const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
        let at = 1;
        const messages: unknown[] = [];
        while (at < frame.byteLength) {
          if (at + 4 > frame.byteLength) throw new Error('truncated message length');
          const length = view.getUint32(at);
          if (length > this.maxMessageBytes) throw new Error(`a message larger than the ${this.maxMessageBytes}-byte limit`);
          if (at + 4 + length > frame.byteLength) throw new Error('message longer than its frame');
          messages.push(decodeValue(frame.subarray(at + 4, at + 4 + length)));
          at += 4 + length;
        }
        for (const m of messages) this.deliver(m);
      } else if (kind === CHUNK || kind === LAST) {
        this.chunkBytes += frame.byteLength - 1;
        if (this.chunkBytes > this.maxMessageBytes) throw new Error(`a message larger than the ${this.maxMessageBytes}-byte limit`);
        // The frame may be a view into a buffer the channel reuses: keep a copy.
        this.chunks.push(frame.slice(1));
        if (kind === LAST) {
          const whole = concatBytes(this.chunks);
          this.chunks = [];
          this.chunkBytes = 0;
          this.deliver(decodeValue(whole));
        } else {
          for (const h of this.progressHandlers) h();
        }
      } else {
        throw new Error(`unknown frame kind ${kind}`);
      }
    } catch (err) {
      const reason = `malformed data from ${this.label}: ${(err as Error).message}`;
      this.end(new FlintError('PROTOCOL_ERROR', reason));
      this.channel.close(reason);
    }
  }

  private deliver(message: unknown): void {
    if (this.closed) return;
    if (this.handler) this.handler(message);
    else this.inbox.push(message);
  }

  onMessage(handler: (message: unknown) => void): void {
    this.handler = handler;
    for (const m of this.inbox.splice(0)) {
      if (this.closed) break;
      handler(m);
    }
  }

  onClose(handler: (reason?: Error) => void): void {
    if (this.closed) queueMicrotask(() => handler(this.closeReason));
    else this.closeHandlers.push(handler);
  }

  onProgress(handler: () => void): void {
    this.progressHandlers.push(handler);
  }

  private end(reason?: Error): void {
    if (this.closed) return;
    this.closed = true;
    if (reason || !this.closeWhenDrained) {
      // The link is gone (or closed before anything was queued): queued frames have nowhere to go.
      this.closeWhenDrained = null;
      this.queue = [];
      this.queueHead = 0;
      this.queuedBytes = 0;
    }
    this.closeReason = reason;
    for (const h of this.closeHandlers.splice(0)) h(reason);
  }

  close(reason?: string): void {
    if (this.closed) return;
    // Messages not flushed yet still go out before the close frame, those waiting for the channel
    // to drain too: the channel closes once they are written.
    if (this.outbox.length > 0) this.flush();
    if (this.queuedBytes > 0) {
      this.closeWhenDrained = { reason };
      this.end();
      return;
    }
    this.channel.close(reason);
    this.end();
  }

  bufferedAmount(): number {
    return this.channel.bufferedAmount() + this.outboxBytes + this.queuedBytes;
  }

  async writable(): Promise<void> {
    // WebSockets and data channels in every environment expose bufferedAmount; only data channels
    // have an event for it, so poll: a few milliseconds are nothing next to the bytes waiting.
    while (!this.closed && this.bufferedAmount() >= this.lowWater) await new Promise((r) => setTimeout(r, 2));
  }
}
