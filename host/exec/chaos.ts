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

/** A wrong answer that still decodes: the last record dropped, or a made-up one when there is none. */
export function lieAboutRecords(records: unknown[]): unknown[] {
  return records.length > 0 ? records.slice(0, -1) : [0];
}

/** Wrong shuffle output that still decodes: the largest bucket is emptied. */
export function lieAboutBuckets(buckets: Uint8Array[]): Uint8Array[] {
  let largest = -1;
  for (let i = 0; i < buckets.length; i++) if (largest < 0 || buckets[i]!.byteLength > buckets[largest]!.byteLength) largest = i;
  if (largest < 0 || buckets[largest]!.byteLength === 0) return buckets;
  const out = [...buckets];
  out[largest] = new Uint8Array(0);
  return out;
}
