/**
 * Random bytes into a framed endpoint (host/transport/framing.ts), fuzzed with fast-check: the
 * endpoint either delivers whole messages or closes with PROTOCOL_ERROR, never throws into the
 * channel, and delivers nothing after its close; and garbage decoded on one connection leaves no
 * trace in the shared codec that another connection could trip over.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlintError } from '../../host/errors.js';
import { framedEndpoint, type ByteChannel } from '../../host/transport/framing.js';

/** A byte channel the test feeds by hand. */
function scriptedChannel() {
  let onFrame: ((frame: Uint8Array) => void) | null = null;
  let closedWith: string | undefined | null = null;
  const channel: ByteChannel = {
    send: () => undefined,
    onFrame: (h) => (onFrame = h),
    onClose: () => undefined,
    close: (reason) => {
      closedWith = reason;
    },
    bufferedAmount: () => 0,
  };
  return { channel, feed: (frame: Uint8Array) => onFrame!(frame), closed: () => closedWith !== null };
}

const MAX = 4096;

describe('a framed endpoint fed random frames', () => {
  it('delivers whole messages or closes with PROTOCOL_ERROR, and never after its close', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { minLength: 1, maxLength: 8 }), (frames) => {
        const { channel, feed, closed } = scriptedChannel();
        const endpoint = framedEndpoint(channel, { maxMessageBytes: MAX });
        const delivered: unknown[] = [];
        let reason: Error | undefined;
        let closes = 0;
        endpoint.onMessage((m) => delivered.push(m));
        endpoint.onClose((r) => {
          closes++;
          reason = r;
        });
        for (const frame of frames) {
          const before = delivered.length;
          const wasClosed = closes > 0;
          expect(() => feed(frame)).not.toThrow();
          if (wasClosed) expect(delivered.length).toBe(before);
        }
        expect(closes).toBeLessThanOrEqual(1);
        if (closes === 1) {
          expect(reason).toBeInstanceOf(FlintError);
          expect((reason as FlintError).code).toBe('PROTOCOL_ERROR');
          expect(closed()).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves the codec as it was: a good message after garbage on another endpoint decodes exactly', async () => {
    const good = { t: 'heartbeat', stats: { 'e-1': { running: 1, completed: 2, failed: 0 } }, n: -0, big: 2n ** 70n, bytes: new Uint8Array([1, 2, 3]) };
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 400 }), async (garbage) => {
        const bad = scriptedChannel();
        framedEndpoint(bad.channel, { maxMessageBytes: MAX }).onMessage(() => undefined);
        bad.feed(Uint8Array.of(0x03, ...garbage));
        const sender = scriptedChannel();
        const frames: Uint8Array[] = [];
        sender.channel.send = (f) => frames.push(f);
        const out = framedEndpoint(sender.channel);
        out.send(good);
        // Sends of one tick are framed together in a microtask.
        await Promise.resolve();
        const receiver = scriptedChannel();
        const got: unknown[] = [];
        framedEndpoint(receiver.channel).onMessage((m) => got.push(m));
        for (const f of frames) receiver.feed(f);
        expect(got).toEqual([good]);
        expect(Object.is((got[0] as { n: number }).n, -0)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
