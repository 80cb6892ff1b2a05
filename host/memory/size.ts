/**
 * How much memory JavaScript records take, roughly: enough to keep a budget, never exact (V8 does
 * not say). Strings count 2 bytes a character, numbers 8, arrays and objects a header plus 8 bytes a
 * slot. Long arrays are sampled, so that measuring a group of five million values costs what
 * measuring a short one does.
 */

/** Bytes of a batch of records, from up to 64 evenly spaced samples. */
export function estimateBytes(records: readonly unknown[]): number {
  const total = 16 + records.length * 8;
  const n = Math.min(records.length, 64);
  if (n === 0) return total;
  let sample = 0;
  for (let i = 0; i < n; i++) sample += sizeOf(records[Math.floor((i * records.length) / n)]);
  return total + Math.ceil((sample / n) * records.length);
}

const SAMPLED = 16;

/** Bytes of one value (arrays longer than 16 elements estimated from 16 of them). */
export function sizeOf(v: unknown, depth = 0): number {
  switch (typeof v) {
    case 'string':
      return 16 + v.length * 2;
    case 'number':
    case 'boolean':
    case 'undefined':
      return 8;
    case 'bigint':
      return 24;
    case 'object': {
      if (v === null) return 8;
      if (depth > 4) return 64;
      if (ArrayBuffer.isView(v)) return 64 + v.byteLength;
      if (Array.isArray(v)) {
        const n = v.length;
        if (n <= SAMPLED) {
          let s = 32;
          for (let i = 0; i < n; i++) s += 8 + sizeOf(v[i], depth + 1);
          return s;
        }
        let sample = 0;
        for (let i = 0; i < SAMPLED; i++) sample += sizeOf(v[Math.floor((i * n) / SAMPLED)], depth + 1);
        return 32 + n * 8 + Math.ceil((sample / SAMPLED) * n);
      }
      if (v instanceof Map || v instanceof Set) return 64 + v.size * 48;
      let s = 48;
      for (const k in v) s += 16 + k.length * 2 + sizeOf((v as Record<string, unknown>)[k], depth + 1);
      return s;
    }
    default:
      return 8;
  }
}
