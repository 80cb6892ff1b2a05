// Spark's StatCounter over f64 values (Welford's update): state is six f64s at `state`,
// [count, mean, m2, sum, min, max]. The operations and their order are exactly those of the host's
// exec/stats.ts addValue, so both give bit-identical results (WebAssembly never fuses multiply-add,
// and its min/max are JavaScript's Math.min/Math.max).
export function statsF64(state: usize, values: usize, n: u32): void {
  let count = load<f64>(state, 0);
  let mean = load<f64>(state, 8);
  let m2 = load<f64>(state, 16);
  let sum = load<f64>(state, 24);
  let mn = load<f64>(state, 32);
  let mx = load<f64>(state, 40);
  for (let i: u32 = 0; i < n; i++) {
    const x = load<f64>(values + (<usize>i << 3));
    const delta = x - mean;
    count += 1.0;
    mean += delta / count;
    m2 += delta * (x - mean);
    sum += x;
    // f64.min/max are Math.min/max: NaN propagates and -0 < +0, as in Spark's StatCounter.
    mn = min<f64>(mn, x);
    mx = max<f64>(mx, x);
  }
  store<f64>(state, count, 0);
  store<f64>(state, mean, 8);
  store<f64>(state, m2, 16);
  store<f64>(state, sum, 24);
  store<f64>(state, mn, 32);
  store<f64>(state, mx, 40);
}
