/**
 * The operators of this executor: the WebAssembly module is compiled and instantiated once per
 * executor (per worker thread, or per process for the in-process executor), on first use, and the
 * twins serve when a job runs with `wasm: false` (FLINT_WASM=0) or WebAssembly is missing.
 * Environment-neutral: the module bytes are embedded in the bundle by wasm-bytes.ts.
 */
import { createTwinOps } from './twins.js';
import type { FlintOps } from './types.js';
import wasmBytes from './wasm-bytes.js';
import { instantiateOpsSync, isWasmAvailable } from './wasm-ops.js';

let wasmOps: FlintOps | undefined;
let twinOps: FlintOps | undefined;

export function executorOps(useWasm: boolean): FlintOps {
  if (useWasm && isWasmAvailable()) return (wasmOps ??= instantiateOpsSync(wasmBytes));
  return (twinOps ??= createTwinOps());
}
