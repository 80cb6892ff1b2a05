/**
 * How framed endpoints gather messages into frames: per tick by default, per event-loop turn where
 * the host schedules flushes with setImmediate (every cluster connection of a Node process).
 */
import { describe, expect, it } from 'vitest';
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
