/**
 * Operator selection: the WebAssembly operators, or their TypeScript twins when WebAssembly is
 * disabled (the engine maps FLINT_WASM=0 to `wasm: false`) or unavailable.
 */
import { FlintError } from '../errors.js';
import { createTwinOps } from './twins.js';
import { instantiateOps, isWasmAvailable, type WasmOpsOptions } from './wasm-ops.js';
import type { FlintOps } from './types.js';

export interface CreateOpsOptions extends WasmOpsOptions {
  wasm: boolean;
  /** Module bytes (from wasm-bytes.ts in bundles, or read from build/flint.wasm). */
  wasmBytes?: Uint8Array;
}

export async function createOps(options: CreateOpsOptions): Promise<FlintOps> {
  if (!options.wasm || !isWasmAvailable()) return createTwinOps();
  if (!options.wasmBytes) throw new FlintError('INVALID_ARGUMENT', 'createOps({ wasm: true }) needs wasmBytes');
  return instantiateOps(options.wasmBytes, options);
}

export { createTwinOps } from './twins.js';
export { instantiateOps, instantiateOpsSync, isWasmAvailable, type WasmOps, type WasmOpsOptions } from './wasm-ops.js';
export { decodeAggBatch, encodeAggBatch, finalValues, stateWidth, type DecodedBatch } from './batch.js';
export { f64Prefix, bytesPrefix, numberPrefixes, bytesPrefixes } from './prefix.js';
export { packStrings, unpackStrings } from './text.js';
export type * from './types.js';
