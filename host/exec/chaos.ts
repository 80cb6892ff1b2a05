/**
 * Deliberate misbehaviour of one executor, for tests and demonstrations (API.md: `flint worker
 * --chaos`, `&chaos=` on the volunteer URL): `lie=F` corrupts the output of a fraction F of its
 * tasks, `slow=K` makes it K times slower, `crash=F` makes it die during a fraction F of its tasks
 * (the host does that part: a thread or a tab dies, not a function). Lies stay well-formed (the
 * output decodes) so that only verification can catch them, as it must catch a real liar.
 */
import { FlintError } from '../errors.js';

export interface ChaosSpec {
  lie: number;
  slow: number;
  crash: number;
}

export function parseChaos(text: string): ChaosSpec {
  const spec: ChaosSpec = { lie: 0, slow: 1, crash: 0 };
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(lie|slow|crash)=([0-9]*\.?[0-9]+)$/.exec(part);
    if (!m) throw new FlintError('INVALID_ARGUMENT', `chaos: "${part}" is not one of lie=F, slow=K, crash=F (e.g. --chaos lie=0.5,slow=10)`);
    const value = Number(m[2]);
    const key = m[1] as keyof ChaosSpec;
    if (key === 'slow' ? value < 1 : value > 1) {
      throw new FlintError('INVALID_ARGUMENT', `chaos: ${key} must be ${key === 'slow' ? 'at least 1 (a slowdown factor)' : 'a fraction between 0 and 1'}, got ${m[2]}`);
    }
    spec[key] = value;
  }
  return spec;
}

/**
 * A wrong answer that still decodes: one record, chosen at random, left out. Each liar's lie is its
 * own (two liars seldom agree), as independent faulty or malicious machines would be; a coordinated
 * majority of liars is beyond what replication by two can catch (docs/API.md says so).
 */
export async function* lieInStream<T>(stream: AsyncIterable<T[]>, random: () => number = Math.random): AsyncGenerator<T[]> {
  let lied = false;
  for await (const batch of stream) {
    if (!lied && batch.length > 0) {
      lied = true;
      const out = [...batch];
      out.splice(Math.floor(random() * out.length), 1);
      yield out;
      continue;
    }
    yield batch;
  }
}

/** Wrong shuffle output that still decodes, for writers that never see records: which non-empty bucket to empty (-1: none). */
export function bucketToEmpty(sizes: readonly number[], random: () => number = Math.random): number {
  const nonEmpty = sizes.map((b, i) => (b > 0 ? i : -1)).filter((i) => i >= 0);
  if (nonEmpty.length === 0) return -1;
  return nonEmpty[Math.floor(random() * nonEmpty.length)]!;
}
