// The two operator entry points the engine added: addWords (the fused word scan feeding an
// aggregator) and statsF64 (StatCounter's Welford update), each against an independent reference.
import { beforeAll, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { decodeAggBatch } from '../../host/ops/batch.js';
import { packStrings } from '../../host/ops/text.js';
import { createTwinOps } from '../../host/ops/twins.js';
import type { FlintOps, PackedBytes } from '../../host/ops/types.js';
import type { WasmOps } from '../../host/ops/wasm-ops.js';
import { loadWasmOps, sameBytes, sameFloats } from './helpers.js';

let wasm: WasmOps;
let colliding: WasmOps;
const twin = createTwinOps();
const impls = () => [wasm, colliding, twin] as FlintOps[];
const enc = new TextEncoder();
const dec = new TextDecoder();

beforeAll(async () => {
  wasm = await loadWasmOps();
  colliding = await loadWasmOps({ hashMask: 0 });
});

const pieces = fc.oneof(
  fc.constantFrom(' ', '\n', '\r\n', '\t', '\u00a0', '\u3000', '\ufeff', '\u2028', 'a', 'bb', 'é', '😀', '\u200b'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }),
);
/** UTF-8 text, sometimes with invalid bytes spliced in. */
const textBytes = fc
  .tuple(fc.array(pieces, { maxLength: 60 }), fc.array(fc.tuple(fc.nat(), fc.constantFrom(0xff, 0xc3, 0xe3, 0x80, 0xf0)), { maxLength: 3 }))
  .map(([parts, bad]) => {
    const clean = enc.encode(parts.join(''));
    const out = Array.from(clean);
    for (const [at, b] of bad) out.splice(out.length === 0 ? 0 : at % (out.length + 1), 0, b);
    return new Uint8Array(out);
  });

/** The lambda path's answer: decode, split(/\s+/), count in a Map. */
function referenceCounts(text: Uint8Array): Map<string, number> {
  const m = new Map<string, number>();
  for (const w of dec.decode(text).split(/\s+/)) if (w) m.set(w, (m.get(w) ?? 0) + 1);
  return m;
}

function decodedCounts(batch: Uint8Array): Map<string, number> {
  const d = decodeAggBatch(batch);
  const { bytes, offsets } = d.keys as PackedBytes;
  const m = new Map<string, number>();
  for (let i = 0; i < d.rows; i++) {
    const k = dec.decode(bytes.subarray(offsets[i]!, offsets[i + 1]!));
    m.set(k, (m.get(k) ?? 0) + d.state[i]!);
  }
  return m;
}

describe('HashAggregator.addWords', () => {
  test('counts the words of split(/\\s+/) per key, identically in every implementation, in one call or many', () => {
    fc.assert(
      fc.property(textBytes, fc.nat(), (text, cut) => {
        const ref = referenceCounts(text);
        const batches = impls().map((ops) => {
          const agg = ops.createAggregator('bytes', 'sum');
          // Regions cut at a line end, as the text reader hands them over.
          const nl = text.indexOf(10, text.length === 0 ? 0 : cut % text.length);
          if (nl === -1) agg.addWords(text);
          else {
            agg.addWords(text.subarray(0, nl));
            agg.addWords(text.subarray(nl + 1));
          }
          return agg.finish();
        });
        expect([...decodedCounts(batches[0]!)]).toEqual([...ref]);
        for (const b of batches.slice(1)) expect(sameBytes(b, batches[0]!)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  test('words, then byte keys and a merged batch, then words again: the same rows in every implementation', () => {
    fc.assert(
      fc.property(textBytes, fc.array(fc.string({ maxLength: 20 }), { maxLength: 20 }), textBytes, (first, extra, last) => {
        const other = twin.hashAggStrings(extra, new Float64Array(extra.length).fill(2), 'sum').batch;
        const batches = impls().map((ops) => {
          const agg = ops.createAggregator('bytes', 'sum');
          agg.addWords(first);
          if (extra.length > 0) agg.addBytes(packStrings(extra), new Float64Array(extra.length).fill(1));
          agg.merge(other);
          agg.addWords(last);
          return agg.finish();
        });
        for (const b of batches.slice(1)) expect(sameBytes(b, batches[0]!)).toBe(true);
        const counts = decodedCounts(batches[0]!);
        const ref = referenceCounts(first);
        for (const w of extra) ref.set(w, (ref.get(w) ?? 0) + 3);
        for (const [w, n] of referenceCounts(last)) ref.set(w, (ref.get(w) ?? 0) + n);
        expect(new Map([...counts].sort())).toEqual(new Map([...ref].sort()));
      }),
      { numRuns: 200 },
    );
  });

  test('rejects aggregators it cannot feed', () => {
    for (const ops of impls()) {
      expect(() => ops.createAggregator('f64', 'sum').addWords(new Uint8Array(1))).toThrow(/addWords needs a bytes\/sum or bytes\/count/);
      expect(() => ops.createAggregator('bytes', 'max').addWords(new Uint8Array(1))).toThrow(/addWords/);
    }
  });
});

/** Spark's StatCounter.merge(value), written out independently of the engine. */
function referenceStats(xs: number[]): number[] {
  let n = 0, mu = 0, m2 = 0, sum = 0, min = Infinity, max = -Infinity;
  for (const x of xs) {
    const d = x - mu;
    n += 1;
    mu += d / n;
    m2 += d * (x - mu);
    sum += x;
    // java.lang.Math.min/max (Scala's math.min/max) behave as JavaScript's: NaN wins, -0 < +0.
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  return [n, mu, m2, sum, min, max];
}

describe('statsF64', () => {
  const values = fc.array(
    fc.oneof({ weight: 8, arbitrary: fc.double() }, { weight: 1, arbitrary: fc.constantFrom(-0, 0, Infinity, -Infinity, NaN, 1e308, -1e-308) }),
    { maxLength: 200 },
  );
  test('bit-identical to the JavaScript Welford update, in one call or in chunks', () => {
    fc.assert(
      fc.property(values, fc.nat(), (xs, cut) => {
        const ref = referenceStats(xs);
        for (const ops of impls()) {
          const state = new Float64Array([0, 0, 0, 0, Infinity, -Infinity]);
          const at = xs.length === 0 ? 0 : cut % xs.length;
          ops.statsF64(state, Float64Array.from(xs.slice(0, at)));
          ops.statsF64(state, Float64Array.from(xs.slice(at)));
          expect(sameFloats(state, ref), `${ops.impl}: ${state} vs ${ref}`).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('one million values cross many staging chunks', () => {
    const xs = Float64Array.from({ length: 1_000_000 }, (_, i) => Math.sin(i) * 1e6);
    const ref = referenceStats(Array.from(xs));
    for (const ops of impls()) {
      const state = new Float64Array([0, 0, 0, 0, Infinity, -Infinity]);
      ops.statsF64(state, xs);
      expect(sameFloats(state, ref)).toBe(true);
    }
  });
});

describe('countByte', () => {
  test('counts a byte across SIMD steps and the tail, like a plain loop', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 255 }), (bytes, b) => {
        let expected = 0;
        for (const x of bytes) if (x === b) expected++;
        for (const ops of impls()) expect(ops.countByte(bytes, b)).toBe(expected);
      }),
      { numRuns: 300 },
    );
    const big = new Uint8Array(3_000_001).fill(10);
    for (const ops of impls()) expect(ops.countByte(big, 10)).toBe(3_000_001);
  });
});
