import { expect, test } from 'vitest';
import { createOps } from '../../host/ops/index.js';
import { FlintError } from '../../host/errors.js';
import { wasmBytes } from './helpers.js';

test('createOps picks WebAssembly or the twins', async () => {
  const w = await createOps({ wasm: true, wasmBytes: wasmBytes() });
  const js = await createOps({ wasm: false });
  expect(w.impl).toBe('wasm');
  expect(js.impl).toBe('js');
  const text = new TextEncoder().encode('to be or not to be');
  expect([...w.wordCount(text)]).toEqual([...js.wordCount(text)]);
  await expect(createOps({ wasm: true })).rejects.toBeInstanceOf(FlintError);
});

test('a module with another ABI is refused', async () => {
  const bytes = wasmBytes();
  const ops = await createOps({ wasm: true, wasmBytes: bytes });
  expect(ops.memoryBytes()).toBeGreaterThan(0);
  await expect(createOps({ wasm: true, wasmBytes: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]) })).rejects.toThrow();
});
