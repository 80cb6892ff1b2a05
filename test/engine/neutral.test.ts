// The executor core (and the operators it loads) must run in a browser Web Worker as it runs in a
// worker thread: bundled for the browser it resolves no Node built-in, and the bundle still loads the
// WebAssembly operators from the bytes embedded in it.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('the executor, its operators and its remote file access bundle for the browser without Node built-ins, and the bundle loads the WebAssembly module', async () => {
  const result = await build({
    absWorkingDir: root,
    stdin: {
      contents:
        "export { Executor } from './host/exec/executor.ts';\nexport { executorOps } from './host/ops/executor-ops.ts';\n" +
        "export { remoteExecutorPlatform } from './host/exec/remote-platform.ts';\n",
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'esm',
    write: false,
    metafile: true,
    loader: { '.wasm': 'binary' },
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs.filter((i) => i.startsWith('node:') || /(^|\/)node_modules\/@types\//.test(i))).toEqual([]);
  expect(inputs.some((i) => i.endsWith('build/flint.wasm'))).toBe(true);
  const code = result.outputFiles[0]!.text;
  const mod = (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as {
    executorOps(useWasm: boolean): { impl: string; wordCount(text: Uint8Array): Map<string, number> };
  };
  const ops = mod.executorOps(true);
  expect(ops.impl).toBe('wasm');
  expect([...ops.wordCount(new TextEncoder().encode('a b\u3000a\nc a'))]).toEqual([['a', 3], ['b', 1], ['c', 1]]);
  expect(mod.executorOps(false).impl).toBe('js');
});

// 160 KB until executors learned to keep within a memory budget: the memory manager, frames, the
// spilling operators and the disk-backed block store are executor code (about 25 KB minified).
// 184 KB until sorts of numbers stayed columns from the map side to the result (range writer,
// sorted columns as the result block, the WebAssembly f64 sort: about 7.5 KB minified).
// 188 KB until lambda aggregators combined straight from the generated loop into typed-array tables
// and wrote column blocks (string and dense-integer slot tables, pair columns: about 4 KB minified).
// 192 KB until output digests took WebCrypto's native SHA-256 for outputs up to 8 MiB (half a KB).
test('the executor bundle stays lean: no closure parser, no driver or dashboard code, under 200 KB minified with the WebAssembly module', async () => {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['host/exec/executor.ts'],
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'esm',
    minify: true,
    write: false,
    metafile: true,
    loader: { '.wasm': 'binary' },
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  const packages = new Set(inputs.filter((i) => i.includes('node_modules/')).map((i) => i.split('node_modules/')[1]!.split('/')[0]));
  expect([...packages].sort()).toEqual(['@noble', 'msgpackr']);
  expect(inputs.filter((i) => /host\/(api|schedule|node|ui)\/|closure-capture/.test(i))).toEqual([]);
  expect(result.outputFiles[0]!.contents.byteLength).toBeLessThan(200 * 1024);
});
