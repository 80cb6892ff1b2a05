/**
 * What a fresh executor does before it says it is ready (issue 11: the first job of a process should
 * cost about what the same job costs again): it compiles and instantiates the WebAssembly operators,
 * which the first task that needed them did before. Threads start in parallel, so Flint.start pays
 * this once, a few milliseconds.
 *
 * Measured and left out: running the codec, KeyMap, hash aggregation and sorts on synthetic records
 * (40 ms a thread), and a whole lambda job's path (generated stage, combining shuffle writer, reduce,
 * sample, range shuffle, column sort: 60 ms a thread) before saying ready. Neither changed what the
 * first job's stages cost over the same stages warm (the reduce side of a first lambda reduceByKey
 * stays ~130 ms against ~40 ms): the generated stage code and the engine's hot functions are
 * optimized for the call targets and types the job itself brings (--trace-deopt: a later job's
 * closures deoptimize them again), which no warm-up can do ahead of the job.
 */
import { executorOps } from '../ops/executor-ops.js';
import { isWasmAvailable } from '../ops/wasm-ops.js';

export function warmUp(): void {
  if (isWasmAvailable()) executorOps(true);
}
