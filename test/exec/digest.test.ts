/**
 * Output digests (host/exec/digest.ts) are SHA-256 of the canonical output bytes whichever way they
 * are computed: gathered and hashed once by WebCrypto, incrementally by @noble/hashes, or switching
 * from one to the other mid-output. Executors taking different paths must agree. The reference is
 * Node's own crypto over the canonical stream built by hand.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutputDigest } from '../../host/exec/digest.js';

type Step = { kind: 'bytes' | 'part'; data: Uint8Array } | { kind: 'partOf'; pieces: Uint8Array[] } | { kind: 'line'; text: string };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constantFrom('bytes' as const, 'part' as const), data: fc.uint8Array({ maxLength: 300 }) }),
  fc.record({ kind: fc.constant('partOf' as const), pieces: fc.array(fc.uint8Array({ maxLength: 120 }), { maxLength: 4 }) }),
  fc.record({ kind: fc.constant('line' as const), text: fc.string({ unit: 'binary', maxLength: 40 }) }),
);

function reference(steps: Step[]): string {
  const h = createHash('sha256');
  const prefix = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    h.update(b);
  };
  for (const s of steps) {
    if (s.kind === 'bytes') h.update(s.data);
    else if (s.kind === 'part') {
      prefix(s.data.byteLength);
      h.update(s.data);
    } else if (s.kind === 'partOf') {
      prefix(s.pieces.reduce((n, p) => n + p.byteLength, 0));
      for (const p of s.pieces) h.update(p);
    } else if (s.kind === 'line') h.update(`${s.text}\n`, 'utf8');
  }
  return h.digest('hex');
}

async function digest(steps: Step[], gatherLimit?: number): Promise<string> {
  const d = gatherLimit === undefined ? new OutputDigest() : new OutputDigest(gatherLimit);
  for (const s of steps) {
    if (s.kind === 'bytes') d.bytes(s.data);
    else if (s.kind === 'part') d.partOf(s.data.byteLength, [s.data]);
    else if (s.kind === 'partOf') d.partOf(s.pieces.reduce((n, p) => n + p.byteLength, 0), s.pieces);
    else if (s.kind === 'line') d.line(s.text);
  }
  return d.hex();
}

describe('OutputDigest', () => {
  it('is SHA-256 of the canonical bytes, gathered for WebCrypto, incremental, or switching mid-way (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 25 }), fc.integer({ min: 0, max: 1000 }), async (steps, limit) => {
        const want = reference(steps);
        expect(await digest(steps)).toBe(want);
        expect(await digest(steps, 0)).toBe(want);
        expect(await digest(steps, limit)).toBe(want);
      }),
      { numRuns: 200 },
    );
  });

  it('copies what it gathers: a caller reusing its buffer does not change the digest', async () => {
    const buf = new Uint8Array([1, 2, 3]);
    const d = new OutputDigest();
    d.partOf(3, [buf]);
    buf.fill(9);
    d.partOf(3, [buf]);
    expect(await d.hex()).toBe(reference([{ kind: 'part', data: new Uint8Array([1, 2, 3]) }, { kind: 'part', data: new Uint8Array([9, 9, 9]) }]));
  });
});
