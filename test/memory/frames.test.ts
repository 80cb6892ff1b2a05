import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FrameParser, FrameWriter, frame, framesIn, readFrames } from '../../host/memory/frames.js';
import { concatBytes } from '../../host/codec/bytes.js';
import { nodeScratchDisk } from '../../host/node/scratch-disk.js';

const dir = mkdtempSync(join(tmpdir(), 'flint-frames-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const disk = nodeScratchDisk(join(dir, 'exec'));

const payloads = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 40 });
/** Copies each payload as it comes: a read buffer's views are valid until the next one. */
const plain = (xs: Iterable<Uint8Array>) => {
  const out: number[][] = [];
  for (const x of xs) out.push([...x]);
  return out;
};
const concat = (parts: Uint8Array[]) => (parts.length === 0 ? new Uint8Array(0) : concatBytes(parts).slice());

describe('frames', () => {
  it('a block of frames gives back its payloads, each 8-byte aligned', () => {
    fc.assert(
      fc.property(payloads, (ps) => {
        const block = concat(ps.map(frame));
        const got = [...framesIn(block)];
        expect(plain(got)).toEqual(plain(ps));
        for (const g of got) expect(g.byteOffset % 8).toBe(0);
      }),
    );
  });

  it('a block cut anywhere into pieces parses to the same payloads', () => {
    fc.assert(
      fc.property(payloads, fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }), (ps, cuts) => {
        const block = concat(ps.map(frame));
        const parser = new FrameParser();
        const got: number[][] = [];
        let at = 0;
        for (let i = 0; at < block.byteLength; i++) {
          const n = cuts[i % cuts.length]!;
          for (const p of parser.push(block.slice(at, at + n))) got.push([...p]);
          at += n;
        }
        parser.end();
        expect(got).toEqual(plain(ps));
      }),
    );
  });

  it('frames written through a small buffer read back from any frame boundary, whatever the read buffer size', () => {
    let n = 0;
    fc.assert(
      fc.property(payloads, fc.integer({ min: 16, max: 256 }), fc.integer({ min: 16, max: 512 }), (ps, writeBuf, readBuf) => {
        const writer = new FrameWriter(disk.create(`f${n++}`), writeBuf);
        const starts: number[] = [];
        for (const p of ps) {
          starts.push(writer.offset);
          writer.write(p);
        }
        const end = writer.offset;
        writer.close();
        const reader = disk.open(writer.file.name);
        try {
          expect(reader.size).toBe(end);
          expect(plain(readFrames(reader, 0, end, readBuf))).toEqual(plain(ps));
          const from = Math.floor(ps.length / 2);
          expect(plain(readFrames(reader, starts[from] ?? end, end, readBuf))).toEqual(plain(ps.slice(from)));
        } finally {
          reader.close();
          disk.remove(writer.file.name);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('a truncated block is an error, not fewer records', () => {
    const block = concat([frame(new Uint8Array([1, 2, 3])), frame(new Uint8Array(20))]);
    expect(() => [...framesIn(block.subarray(0, block.byteLength - 8))]).toThrow(/truncated/);
    const parser = new FrameParser();
    [...parser.push(block.subarray(0, 20))];
    expect(() => parser.end()).toThrow(/truncated/);
  });
});
