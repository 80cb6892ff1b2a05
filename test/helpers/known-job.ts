/**
 * A job whose every number is known in advance, for checking what the dashboard and the REST API
 * report against counts computed here, independently of Flint: a word count over generated lines,
 * parallelized into SLICES slices, reduced into REDUCERS partitions and cached, then counted again
 * (the second job skips the map stage and reads the cache).
 */
import type { Flint, RDD } from 'flint';

export const LINES = 3000;
export const SLICES = 6;
export const REDUCERS = 4;

export function knownLines(): string[] {
  const vocab = Array.from({ length: 60 }, (_, i) => `w${i}`);
  let s = 7;
  const next = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: LINES }, () => Array.from({ length: 1 + Math.floor(next() * 8) }, () => vocab[Math.floor(next() ** 2 * vocab.length)]!).join(' '));
}

export interface Expected {
  lines: number;
  words: number;
  distinct: number;
  /** Map output records: distinct words per slice (map-side combine), summed. */
  combinedRecords: number;
  counts: Map<string, number>;
}

export function expected(lines: string[]): Expected {
  const counts = new Map<string, number>();
  let words = 0;
  let combined = 0;
  for (let i = 0; i < SLICES; i++) {
    const slice = lines.slice(Math.floor((i * lines.length) / SLICES), Math.floor(((i + 1) * lines.length) / SLICES));
    const seen = new Set<string>();
    for (const l of slice)
      for (const w of l.split(' ')) {
        words++;
        seen.add(w);
        counts.set(w, (counts.get(w) ?? 0) + 1);
      }
    combined += seen.size;
  }
  return { lines: lines.length, words, distinct: counts.size, combinedRecords: combined, counts };
}

/** Job 0: collect of the cached word counts (stages 0 and 1); job 1: count of them (stage 2 skipped, stage 3). */
/**
 * `rdd` is returned for the caller to hold: an RDD the program can no longer reach has its cached
 * blocks dropped by the context cleaner, and the storage views would rightly show nothing.
 */
export async function runKnownJob(fl: Flint, lines: string[]): Promise<{ counts: Map<string, number>; cachedRddId: number; total: number; rdd: RDD<[string, number]> }> {
  const counts = fl
    .parallelize(lines, SLICES)
    .flatMap((l) => l.split(' '))
    .map((w) => [w, 1] as [string, number])
    .reduceByKey('sum', REDUCERS)
    .setName('word counts')
    .cache();
  const collected = new Map(await counts.collect());
  const total = await counts.count();
  return { counts: collected, cachedRddId: counts.id, total, rdd: counts };
}
