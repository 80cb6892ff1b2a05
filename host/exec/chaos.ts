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
 * A wrong answer that still decodes: one record, chosen at random, changed by a random amount (a
 * number moved, a string lengthened, a pair's value changed; a record of another kind left out).
 * Each liar's lie is its own, as independent faulty or malicious machines' would be: leaving a
 * record out made liars agree whenever a partition's first batch held one record, and two liars
 * that agree outvote the truth. A coordinated majority of liars is beyond what replication by two
 * can catch (docs/API.md says so).
 */
export async function* lieInStream<T>(stream: AsyncIterable<T[]>, random: () => number = Math.random): AsyncGenerator<T[]> {
  let lied = false;
  for await (const batch of stream) {
    if (!lied && batch.length > 0) {
      lied = true;
      const out = [...batch];
      const i = Math.floor(random() * out.length);
      const changed = perturbed(out[i], random);
      if (changed === DROP) out.splice(i, 1);
      else out[i] = changed as T;
      yield out;
      continue;
    }
    yield batch;
  }
}

const DROP = Symbol('drop');

function perturbed(record: unknown, random: () => number): unknown {
  const salt = 1 + Math.floor(random() * 2 ** 30);
  if (typeof record === 'number') return record + salt;
  if (typeof record === 'bigint') return record + BigInt(salt);
  if (typeof record === 'string') return record + salt.toString(36);
  if (Array.isArray(record) && record.length > 0) {
    const last = perturbed(record[record.length - 1], random);
    return last === DROP ? record.slice(0, -1) : [...record.slice(0, -1), last];
  }
  return DROP;
}
