/** Same-run baselines: piscina empty tasks, a bare postMessage round trip, a plain word count. */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';

export function startPiscina(filename: string, threads: number): Piscina {
  return new Piscina({ filename, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
}

/** Submits all `n` empty tasks at once and waits for them. */
export async function piscinaEmptyTasks(pool: Piscina, n: number): Promise<void> {
  const all: Promise<unknown>[] = new Array(n);
  for (let i = 0; i < n; i++) all[i] = pool.run(null);
  await Promise.all(all);
}

/** A raw worker_threads Worker that echoes every message. */
export class PingPong {
  private readonly worker: Worker;
  private resolve: ((v: unknown) => void) | null = null;

  constructor() {
    this.worker = new Worker(
      "const { parentPort } = require('node:worker_threads'); parentPort.on('message', (m) => parentPort.postMessage(m));",
      { eval: true },
    );
    this.worker.on('message', (m) => {
      const r = this.resolve;
      this.resolve = null;
      r?.(m);
    });
  }

  ping(msg: unknown = 0): Promise<unknown> {
    return new Promise((resolve) => {
      this.resolve = resolve;
      this.worker.postMessage(msg);
    });
  }

  /** Milliseconds of each of `n` sequential round trips. */
  async roundTrips(n: number): Promise<number[]> {
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await this.ping(i);
      out[i] = performance.now() - t0;
    }
    return out;
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/** The plain single-threaded word count: readFileSync + split(/\s+/) + Map. */
export function plainWordCount(path: string): { distinct: number; total: number } {
  const text = readFileSync(path, 'utf8');
  const counts = new Map<string, number>();
  for (const w of text.split(/\s+/)) {
    if (w.length === 0) continue;
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  let total = 0;
  for (const n of counts.values()) total += n;
  return { distinct: counts.size, total };
}

/**
 * Machine ceiling for the word count: the same plain algorithm on `k` raw worker threads, each on
 * a contiguous byte range cut at line ends, partial Maps merged on the main thread. Not a Flint
 * target; it shows how much two threads can gain on this machine at this moment.
 */
export class ThreadedPlainWordCount {
  private readonly workers: Worker[];

  constructor(readonly threads: number) {
    const code = `
      const { parentPort } = require('node:worker_threads');
      const fs = require('node:fs');
      parentPort.on('message', ({ path, start, end }) => {
        const fd = fs.openSync(path, 'r');
        const buf = Buffer.allocUnsafe(end - start);
        let off = 0;
        while (off < buf.length) {
          const n = fs.readSync(fd, buf, off, buf.length - off, start + off);
          if (n === 0) break;
          off += n;
        }
        fs.closeSync(fd);
        const counts = new Map();
        for (const w of buf.toString('utf8', 0, off).split(/\\s+/)) {
          if (w.length === 0) continue;
          counts.set(w, (counts.get(w) ?? 0) + 1);
        }
        parentPort.postMessage(counts);
      });`;
    this.workers = Array.from({ length: threads }, () => new Worker(code, { eval: true }));
  }

  async run(path: string): Promise<{ distinct: number; total: number }> {
    const { openSync, readSync, closeSync, fstatSync } = await import('node:fs');
    const fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const cuts = [0];
    const probe = Buffer.allocUnsafe(1 << 16);
    for (let i = 1; i < this.threads; i++) {
      const pos = Math.floor((i * size) / this.threads);
      const n = readSync(fd, probe, 0, probe.length, pos);
      const nl = probe.subarray(0, n).indexOf(0x0a);
      cuts.push(nl < 0 ? pos + n : pos + nl + 1);
    }
    closeSync(fd);
    cuts.push(size);
    const parts = await Promise.all(
      this.workers.map(
        (w, i) =>
          new Promise<Map<string, number>>((resolve) => {
            w.once('message', resolve);
            w.postMessage({ path, start: cuts[i], end: cuts[i + 1] });
          }),
      ),
    );
    const counts = parts[0]!;
    for (const part of parts.slice(1)) for (const [w, n] of part) counts.set(w, (counts.get(w) ?? 0) + n);
    let total = 0;
    for (const n of counts.values()) total += n;
    return { distinct: counts.size, total };
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
