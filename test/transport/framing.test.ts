/**
 * How framed endpoints gather messages into frames: per tick by default, per event-loop turn where
 * the host schedules flushes with setImmediate (every cluster connection of a Node process); how
 * they pace frames into a channel that holds a limited amount (a browser's RTCDataChannel refuses a
 * send past 16 MiB queued) and hand a large message over a slice per task (a page's main thread).
 */
import { describe, expect, it } from 'vitest';
import { dataChannelEndpoint } from '../../host/transport/data-channel.js';
import { framedEndpoint, type ByteChannel, type FramingOptions } from '../../host/transport/framing.js';

function recordingChannel(): { channel: ByteChannel; frames: Uint8Array[] } {
  const frames: Uint8Array[] = [];
  const channel: ByteChannel = {
    send: (frame) => void frames.push(frame),
    onFrame: () => undefined,
    onClose: () => undefined,
    close: () => undefined,
    bufferedAmount: () => 0,
  };
  return { channel, frames };
}

/** Sends one message, lets a microtask pass (as between two I/O callbacks), sends another. */
async function twoSends(options: FramingOptions): Promise<Uint8Array[]> {
  const { channel, frames } = recordingChannel();
  const endpoint = framedEndpoint(channel, options);
  endpoint.send({ n: 1 });
  await Promise.resolve();
  endpoint.send({ n: 2 });
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  return frames;
}

describe('framing', () => {
  it('puts the messages of one tick in one frame, and a later tick in another, by default', async () => {
    expect(await twoSends({})).toHaveLength(2);
  });

  it('sends a message larger than a batch but not than a frame whole and alone; batches stay at 1 MiB', async () => {
    const { channel, frames } = recordingChannel();
    const endpoint = framedEndpoint(channel, { frameBytes: 64 << 20 });
    for (const size of [100, 600_000, 600_000, 3_000_000, 100, 100]) endpoint.send(new Uint8Array(size));
    await Promise.resolve();
    expect(frames.map((f) => f[0])).toEqual([0x01, 0x01, 0x01, 0x01]);
    expect(frames.every((f) => f.byteLength <= 3_000_100)).toBe(true);
    expect(frames[2]!.byteLength).toBeGreaterThan(3_000_000);
  });

  it('puts the messages of one event-loop turn in one frame when flushes run on setImmediate', async () => {
    const frames = await twoSends({ schedule: setImmediate });
    expect(frames).toHaveLength(1);
    expect(frames[0]![0]).toBe(0x01);
  });
});

/**
 * A channel with a browser RTCDataChannel's limit: `send` throws once more than `limit` bytes would
 * be queued (Chromium: 16 MiB, "send queue is full"); `drain()` writes out what is queued, as the
 * network does, and fires the bufferedamountlow handlers when the queue falls to their threshold.
 */
function limitedChannel(limit: number) {
  let buffered = 0;
  let peak = 0;
  const frames: Uint8Array[] = [];
  const drained: Array<{ threshold: number; handler: () => void }> = [];
  let closed = false;
  const channel: ByteChannel = {
    send(frame) {
      if (buffered + frame.byteLength > limit) throw new Error('send queue is full');
      buffered += frame.byteLength;
      peak = Math.max(peak, buffered);
      frames.push(frame);
    },
    onFrame: () => undefined,
    onClose: () => undefined,
    close: () => void (closed = true),
    bufferedAmount: () => buffered,
    onceDrained(threshold, handler) {
      drained.push({ threshold, handler });
    },
  };
  return {
    channel,
    frames,
    get peak() {
      return peak;
    },
    get closed() {
      return closed;
    },
    /** The network writes `bytes` out. */
    drain(bytes = Infinity) {
      buffered = Math.max(0, buffered - bytes);
      for (const d of drained.splice(0)) {
        if (buffered <= d.threshold) d.handler();
        else drained.push(d);
      }
    },
  };
}

/** What a receiving endpoint makes of `frames`. */
function decodeFrames(frames: Uint8Array[]): unknown[] {
  const got: unknown[] = [];
  let deliver: ((frame: Uint8Array) => void) | null = null;
  const receiver = framedEndpoint(
    { send: () => undefined, onFrame: (h) => void (deliver = h), onClose: () => undefined, close: () => undefined, bufferedAmount: () => 0 },
    { frameBytes: 64 * 1024 },
  );
  receiver.onMessage((m) => got.push(m));
  for (const f of frames) deliver!(f);
  return got;
}

describe('framing over a channel that holds a limited amount (RTCDataChannel)', () => {
  it('writes a message larger than the channel holds as it drains, in order, without ever overfilling it', async () => {
    const limit = 1024 * 1024;
    const c = limitedChannel(limit);
    const endpoint = framedEndpoint(c.channel, { frameBytes: 64 * 1024, lowWaterBytes: 128 * 1024, highWaterBytes: 512 * 1024 });
    const big = new Uint8Array(5 * 1024 * 1024).map((_, i) => (i * 7) & 255);
    endpoint.send({ n: 1 });
    endpoint.send({ big });
    endpoint.send({ n: 2 });
    await Promise.resolve();
    expect(endpoint.bufferedAmount!()).toBeGreaterThan(4 * 1024 * 1024);
    // Sent after the flush: still behind the big one's chunks.
    endpoint.send({ n: 3 });
    await Promise.resolve();
    for (let i = 0; i < 200 && endpoint.bufferedAmount!() > 0; i++) {
      c.drain(200 * 1024);
      await Promise.resolve();
    }
    expect(endpoint.bufferedAmount!()).toBe(0);
    expect(c.peak).toBeLessThanOrEqual(512 * 1024);
    const got = decodeFrames(c.frames) as Array<Record<string, unknown>>;
    expect(got.map((m) => Object.keys(m)[0])).toEqual(['n', 'big', 'n', 'n']);
    expect(Buffer.compare(got[1]!.big as Uint8Array, big)).toBe(0);
    expect([got[0]!.n, got[2]!.n, got[3]!.n]).toEqual([1, 2, 3]);
  });

  it('closed by its side with frames still waiting, writes them first, then closes the channel', async () => {
    const c = limitedChannel(1024 * 1024);
    const endpoint = framedEndpoint(c.channel, { frameBytes: 64 * 1024, lowWaterBytes: 0, highWaterBytes: 256 * 1024 });
    endpoint.send(new Uint8Array(1024 * 1024));
    endpoint.close();
    expect(c.closed).toBe(false);
    while (!c.closed) {
      c.drain();
      await Promise.resolve();
    }
    expect(decodeFrames(c.frames)).toHaveLength(1);
  });

  it('hands a large message to the channel a slice per task when asked to, letting other work run in between', async () => {
    const c = limitedChannel(Infinity);
    const resumes: Array<() => void> = [];
    const endpoint = framedEndpoint(c.channel, { frameBytes: 64 * 1024, sliceBytes: 1024 * 1024, yieldTo: (r) => void resumes.push(r) });
    endpoint.send(new Uint8Array(5 * 1024 * 1024));
    await Promise.resolve();
    const handed = () => c.frames.reduce((n, f) => n + f.byteLength, 0);
    expect(handed()).toBeLessThanOrEqual(1024 * 1024 + 64 * 1024);
    expect(handed()).toBeGreaterThan(900 * 1024);
    endpoint.send({ after: true });
    let slices = 1;
    while (resumes.length > 0) {
      resumes.shift()!();
      await Promise.resolve();
      slices++;
    }
    expect(slices).toBeGreaterThanOrEqual(5);
    const got = decodeFrames(c.frames);
    expect(got).toHaveLength(2);
    expect(got[1]).toEqual({ after: true });
  });
});

describe('dataChannelEndpoint', () => {
  /** A W3C data channel that refuses sends past 16 MiB queued, as Chromium does. */
  function chromiumLikeChannel() {
    const listeners = new Map<string, Array<(e: unknown) => void>>();
    const channel = {
      binaryType: 'blob',
      readyState: 'open',
      bufferedAmount: 0,
      bufferedAmountLowThreshold: 0,
      sent: 0,
      send(data: Uint8Array) {
        if (this.bufferedAmount + data.byteLength > 16 * 1024 * 1024) throw new Error("Failed to execute 'send' on 'RTCDataChannel': RTCDataChannel send queue is full");
        this.bufferedAmount += data.byteLength;
        this.sent += data.byteLength;
      },
      close() {
        this.readyState = 'closed';
      },
      addEventListener(type: string, l: (e: never) => void) {
        listeners.set(type, [...(listeners.get(type) ?? []), l as (e: unknown) => void]);
      },
      /** The network writes everything out. */
      drain() {
        const was = this.bufferedAmount;
        this.bufferedAmount = 0;
        if (was > this.bufferedAmountLowThreshold) for (const l of listeners.get('bufferedamountlow') ?? []) l({});
      },
    };
    return channel;
  }

  it('keeps a block of more than 16 MiB under the browser’s send-queue limit and sends it whole', async () => {
    const channel = chromiumLikeChannel();
    const endpoint = dataChannelEndpoint(channel);
    const closed: Array<Error | undefined> = [];
    endpoint.onClose((r) => closed.push(r));
    endpoint.send({ block: new Uint8Array(40 * 1024 * 1024) });
    for (let i = 0; i < 100 && endpoint.bufferedAmount!() > 0; i++) {
      await Promise.resolve();
      channel.drain();
    }
    expect(closed).toEqual([]);
    expect(channel.sent).toBeGreaterThan(40 * 1024 * 1024);
  });

  it('reports a send the browser refuses as a broken link at once, not as a fetch that never ends', async () => {
    const channel = chromiumLikeChannel();
    // Beyond the browser's limit in one go: a framing without a high-water mark.
    const endpoint = dataChannelEndpoint(channel, { highWaterBytes: Infinity });
    const closed = new Promise<Error | undefined>((r) => endpoint.onClose(r));
    endpoint.send({ block: new Uint8Array(20 * 1024 * 1024) });
    expect((await closed)?.message).toMatch(/refused a message: .*send queue is full/);
    expect(channel.readyState).toBe('closed');
  });
});
