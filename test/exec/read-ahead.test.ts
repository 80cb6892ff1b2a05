/**
 * A response body read ahead of its consumer (host/exec/read-ahead.ts): the same bytes in the same
 * order whatever the pace of either side, the body's failure reaches the consumer, at most the bound
 * is held ahead, and a cancel stops the pulling.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReadAhead } from '../../host/exec/read-ahead.js';

/** A body of `chunks`, counting the chunks pulled from it; fails after them when `failWith` is set. */
function body(chunks: Uint8Array[], failWith?: Error) {
  let next = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (next < chunks.length) controller.enqueue(chunks[next++]!);
        else if (failWith) controller.error(failWith);
        else controller.close();
      },
    },
    { highWaterMark: 0 },
  );
  return { reader: stream.getReader(), pulled: () => next };
}

async function drain(r: ReadAhead, pauseEvery: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; ; i++) {
    if (pauseEvery > 0 && i % pauseEvery === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    const c = await r.read();
    if (c.done) return out;
    out.push(...c.value);
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('ReadAhead', () => {
  it('gives every byte once, in order, at any pace and bound (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 30 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 3 }), async (chunks, bound, pauseEvery) => {
        const { reader } = body(chunks);
        const got = await drain(new ReadAhead(reader, bound), pauseEvery);
        expect(got).toEqual(chunks.flatMap((c) => [...c]));
      }),
      { numRuns: 150 },
    );
  });

  it('pulls ahead while the consumer is away, but no further than the bound', async () => {
    const chunks = Array.from({ length: 20 }, () => new Uint8Array(10));
    const { reader, pulled } = body(chunks);
    const r = new ReadAhead(reader, 35);
    await settle();
    // 4 chunks make 40 bytes, the first at or past 35: the pump waits there.
    expect(pulled()).toBe(4);
    await r.read();
    await settle();
    expect(pulled()).toBe(5);
  });

  it("hands the body's failure to the consumer after the bytes before it", async () => {
    const { reader } = body([new Uint8Array([1, 2]), new Uint8Array([3])], new Error('connection reset'));
    const r = new ReadAhead(reader, 1 << 20);
    expect(await r.read()).toEqual({ done: false, value: new Uint8Array([1, 2]) });
    expect(await r.read()).toEqual({ done: false, value: new Uint8Array([3]) });
    await expect(r.read()).rejects.toThrow('connection reset');
  });

  it('stops pulling once cancelled', async () => {
    const chunks = Array.from({ length: 50 }, () => new Uint8Array(10));
    const { reader, pulled } = body(chunks);
    const r = new ReadAhead(reader, 30);
    await settle();
    const before = pulled();
    await r.cancel();
    await settle();
    expect(pulled()).toBe(before);
  });
});
