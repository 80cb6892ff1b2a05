/**
 * Seeded random numbers for sampling: the same seed and partition give the same sample on every
 * executor and every attempt, which recomputation from lineage depends on.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    // splitmix32 of the seed so that nearby seeds (seed, seed + 1, ...) give unrelated streams.
    let z = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    this.state = (z ^ (z >>> 16)) >>> 0;
  }

  /** Uniform in [0, 1) (mulberry32). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Poisson-distributed count with the given mean (Knuth; means used by sampling are small). */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 30) {
      // Normal approximation keeps large fractions cheap.
      const u = 1 - this.next();
      const v = this.next();
      const n = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      return Math.max(0, Math.round(mean + Math.sqrt(mean) * n));
    }
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }
}

/** Seed of one partition's sampler: Spark also derives per-partition seeds from (seed, index). */
export function partitionSeed(seed: number, partition: number): number {
  return (Math.floor(seed) * 31 + partition * 0x27d4eb2d) | 0;
}
