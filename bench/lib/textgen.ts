/**
 * Deterministic text for the word-count bench: words drawn from a Zipf-like vocabulary (rank r has
 * weight 1/r^s) with a fixed-seed PRNG, lines of 4-19 words. Written once under bench/data/ and
 * reused while its name (size, seed, vocabulary) matches.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** mulberry32: tiny, fast, good enough for synthetic data. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TextSpec {
  bytes: number;
  seed: number;
  vocabulary: number;
  zipfS: number;
}

export function textPath(dir: string, spec: TextSpec): string {
  return join(dir, `zipf-${spec.bytes}-v${spec.vocabulary}-s${spec.zipfS}-seed${spec.seed}.txt`);
}

/** Returns the path of the text, generating it first when absent. */
export function ensureText(dir: string, spec: TextSpec, log: (s: string) => void): string {
  const path = textPath(dir, spec);
  if (existsSync(path) && statSync(path).size >= spec.bytes) return path;
  mkdirSync(dir, { recursive: true });
  const t0 = Date.now();
  const rnd = mulberry32(spec.seed);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const vocab: string[] = [];
  const seen = new Set<string>();
  while (vocab.length < spec.vocabulary) {
    // Frequent words tend to be short, as in natural text.
    const len = 1 + Math.floor(rnd() * Math.min(12, 2 + Math.log2(vocab.length + 2)));
    let w = '';
    for (let i = 0; i < len; i++) w += letters[Math.floor(rnd() * 26)];
    if (seen.has(w)) continue;
    seen.add(w);
    vocab.push(w);
  }
  const cdf = new Float64Array(spec.vocabulary);
  let acc = 0;
  for (let r = 0; r < spec.vocabulary; r++) cdf[r] = acc += 1 / Math.pow(r + 1, spec.zipfS);
  for (let r = 0; r < spec.vocabulary; r++) cdf[r]! /= acc;
  const draw = (): string => {
    const u = rnd();
    let lo = 0;
    let hi = spec.vocabulary - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return vocab[lo]!;
  };
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  let written = 0;
  try {
    while (written < spec.bytes) {
      const lines: string[] = [];
      let chunk = 0;
      while (chunk < 1 << 20 && written + chunk < spec.bytes) {
        const n = 4 + Math.floor(rnd() * 16);
        const words: string[] = [];
        for (let i = 0; i < n; i++) words.push(draw());
        const line = words.join(' ') + '\n';
        lines.push(line);
        chunk += line.length; // ASCII: one byte per character
      }
      writeSync(fd, lines.join(''));
      written += chunk;
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  log(`generated ${path} (${(written / 1e6).toFixed(1)} MB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return path;
}
