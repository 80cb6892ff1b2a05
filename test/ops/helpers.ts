// Loads build/flint.wasm for the operator tests, building it first when it is missing (a fresh
// clone that runs vitest without `npm run build`).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PackedBytes } from '../../host/ops/types.js';
import { instantiateOps, type WasmOps, type WasmOpsOptions } from '../../host/ops/wasm-ops.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const wasmPath = join(root, 'build', 'flint.wasm');

export function wasmBytes(): Uint8Array {
  if (!existsSync(wasmPath)) {
    execFileSync(join(root, 'node_modules', '.bin', 'asc'), ['assembly/index.ts', '--config', 'asconfig.json', '--target', 'release'], {
      cwd: root,
      stdio: 'inherit',
    });
  }
  return new Uint8Array(readFileSync(wasmPath));
}

export function loadWasmOps(options?: WasmOpsOptions): Promise<WasmOps> {
  return instantiateOps(wasmBytes(), options);
}

/** Object.is on every element: NaN equals NaN, -0 differs from +0. */
export function sameFloats(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** Byte equality without vitest's deep-equality walk, which is slow on megabyte arrays. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Byte keys packed into one buffer with offsets, as the operators take them. */
export function packed(keys: Uint8Array[]): PackedBytes {
  const offsets = new Uint32Array(keys.length + 1);
  let total = 0;
  keys.forEach((k, i) => (offsets[i + 1] = total += k.length));
  const bytes = new Uint8Array(total);
  keys.forEach((k, i) => bytes.set(k, offsets[i]!));
  return { bytes, offsets };
}
