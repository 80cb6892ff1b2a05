/**
 * Spark's StatCounter: count, mean and variance merged across partitions (Chan et al.). Values
 * enter through the operators' Welford kernel (`FlintOps.statsF64`, exec/ops.ts).
 */
export interface Stats {
  count: number;
  mean: number;
  m2: number;
  sum: number;
  min: number;
  max: number;
}

export function emptyStats(): Stats {
  return { count: 0, mean: 0, m2: 0, sum: 0, min: Infinity, max: -Infinity };
}

export function mergeStats(a: Stats, b: Stats): Stats {
  if (b.count === 0) return { ...a };
  if (a.count === 0) return { ...b };
  const count = a.count + b.count;
  const delta = b.mean - a.mean;
  let mean: number;
  if (b.count * 10 < a.count) mean = a.mean + (delta * b.count) / count;
  else if (a.count * 10 < b.count) mean = b.mean - (delta * a.count) / count;
  else mean = (a.mean * a.count + b.mean * b.count) / count;
  return {
    count,
    mean,
    // Spark's `m2 += other.m2 + ...`: the parenthesization changes the rounding.
    m2: a.m2 + (b.m2 + (delta * delta * a.count * b.count) / count),
    sum: a.sum + b.sum,
    min: Number.isNaN(a.min) || Number.isNaN(b.min) ? NaN : Math.min(a.min, b.min),
    max: Number.isNaN(a.max) || Number.isNaN(b.max) ? NaN : Math.max(a.max, b.max),
  };
}

/** The public shape of `rdd.stats()`: population variance and stdev, as Spark's StatCounter. */
export interface StatCounter {
  count: number;
  mean: number;
  stdev: number;
  sum: number;
  min: number;
  max: number;
  variance: number;
  sampleVariance: number;
  sampleStdev: number;
}

export function toStatCounter(s: Stats): StatCounter {
  const variance = s.count === 0 ? NaN : s.m2 / s.count;
  const sampleVariance = s.count <= 1 ? NaN : s.m2 / (s.count - 1);
  return {
    count: s.count,
    // Spark's StatCounter: the mean of no values is its initial 0.0 (variance and stdev are NaN).
    mean: s.mean,
    stdev: Math.sqrt(variance),
    sum: s.sum,
    min: s.min,
    max: s.max,
    variance,
    sampleVariance,
    sampleStdev: Math.sqrt(sampleVariance),
  };
}
