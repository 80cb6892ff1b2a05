import { describe, expect, test, beforeAll } from 'vitest';
import fc from 'fast-check';
import { createTwinOps } from '../../host/ops/twins.js';
import type { FlintOps } from '../../host/ops/types.js';
import type { WasmOps } from '../../host/ops/wasm-ops.js';
import { loadWasmOps } from './helpers.js';

let wasm: WasmOps;
let colliding: WasmOps;
const twin = createTwinOps();
const impls = () => [wasm, colliding, twin] as FlintOps[];
const enc = new TextEncoder();

beforeAll(async () => {
  wasm = await loadWasmOps();
  colliding = await loadWasmOps({ hashMask: 0 });
});

// Every character JavaScript's \s matches, plus near misses: U+180E (was whitespace in old
// Unicode), U+200B (zero-width space, not \s), U+0085 (NEL, not \s), U+2027.
const SPACES = ['\t', '\n', '\v', '\f', '\r', ' ', '\u00a0', '\u1680', '\u2000', '\u2005', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff'];
const NEAR = ['\u180e', '\u200b', '\u0085', '\u2027', '\u2030', '\u3001', '\ufefe', '\u00a1', '\u1681', '\u205e'];
const textArb = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...SPACES) },
      { weight: 2, arbitrary: fc.constantFrom(...NEAR) },
      { weight: 6, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }) },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }) },
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

function refCount(s: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const w of s.split(/\s+/)) if (w) m.set(w, (m.get(w) ?? 0) + 1);
  return m;
}

describe('words', () => {
  test('split exactly like s.split(/\\s+/).filter(Boolean) on random Unicode text', () => {
    fc.assert(
      fc.property(textArb, (s) => {
        const bytes = enc.encode(s);
        const decoded = new TextDecoder().decode(bytes); // lone surrogates became U+FFFD
        const ref = decoded.split(/\s+/).filter(Boolean);
        for (const ops of impls()) {
          expect(ops.words(bytes)).toEqual(ref);
          expect([...ops.wordCount(bytes)]).toEqual([...refCount(decoded)]);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('invalid UTF-8 behaves like TextDecoder (fatal: false) then split', () => {
    const byte = fc.oneof(
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(0x20, 0x0a, 0xc2, 0xa0, 0xe3, 0x80, 0xef, 0xbb, 0xbf, 0xe2, 0x81, 0x9f, 0xa8, 0xe1, 0x9a, 0xff, 0x61),
    );
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 60 }), (xs) => {
        const bytes = Uint8Array.from(xs);
        const decoded = new TextDecoder().decode(bytes);
        const ref = decoded.split(/\s+/).filter(Boolean);
        for (const ops of impls()) {
          expect(ops.words(bytes)).toEqual(ref);
          expect([...ops.wordCount(bytes)]).toEqual([...refCount(decoded)]);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('different invalid byte sequences that decode alike are merged', () => {
    const bytes = Uint8Array.from([0x61, 0xff, 0x20, 0x62, 0x20, 0x61, 0xfe, 0x20, 0x61, 0xc3, 0x20, 0x61, 0xff]);
    for (const ops of impls()) {
      expect([...ops.wordCount(bytes)]).toEqual([['a\ufffd', 4], ['b', 1]]);
    }
  });

  test('text larger than a chunk, with a word longer than a chunk', () => {
    const vocab = ['alpha', 'beta', 'gamma', 'δέλτα', '日本', 'x'];
    const parts: string[] = [];
    for (let i = 0; i < 400_000; i++) parts.push(vocab[(i * 31) % vocab.length]!, i % 9 === 0 ? '\u3000' : i % 7 === 0 ? '\n' : ' ');
    parts.push('w'.repeat(3 << 20), ' tail\u00a0end');
    const s = parts.join('');
    const bytes = enc.encode(s);
    const ref = refCount(s);
    for (const ops of [wasm, twin]) expect([...ops.wordCount(bytes)]).toEqual([...ref]);
  });

  test('empty and whitespace-only text', () => {
    for (const ops of impls()) {
      expect(ops.words(new Uint8Array(0))).toEqual([]);
      expect(ops.wordCount(enc.encode(' \u3000\n\ufeff')).size).toBe(0);
      expect(ops.wordSpans(enc.encode(' ab  c'))).toEqual(Uint32Array.from([1, 3, 5, 6]));
    }
  });
});

describe('lines', () => {
  test('split at \\n with an optional \\r, no empty line after a final \\n', () => {
    const lineText = fc.string({ unit: fc.constantFrom('a', 'é', '\r', '\n', '\r\n', ' ', '\u2028'), maxLength: 30 });
    fc.assert(
      fc.property(lineText, (s) => {
        const ref = s === '' ? [] : s.split('\n').map((l) => l.replace(/\r$/, ''));
        if (s.endsWith('\n')) ref.pop();
        for (const ops of impls()) expect(ops.lines(enc.encode(s))).toEqual(ref);
      }),
      { numRuns: 200 },
    );
  });
});
