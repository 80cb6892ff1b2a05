// Builds everything a fresh clone needs: the WebAssembly operators (when present), the Node bundles
// (library, worker-thread entry, CLI), the dashboard's browser bundle and the type declarations that
// `exports` points at.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

rmSync(join(root, 'dist'), { recursive: true, force: true });

if (existsSync(join(root, 'asconfig.json')) && existsSync(join(root, 'assembly', 'index.ts'))) {
  run(bin('asc'), ['assembly/index.ts', '--config', 'asconfig.json', '--target', 'release']);
}

await build({
  absWorkingDir: root,
  entryPoints: {
    index: 'host/index.ts',
    worker: 'host/node/worker-main.ts',
    cli: 'host/node/cli.ts',
  },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  loader: { '.wasm': 'binary' },
  logLevel: 'warning',
});

// The dashboard (browser/dashboard) as one minified ES module and its stylesheet in browser/build,
// which the Node servers read and serve: offline, no CDN.
rmSync(join(root, 'browser', 'build'), { recursive: true, force: true });
/** What the browser bundles (the dashboard, the volunteer page and its executor) share. */
const browserBundle = {
  absWorkingDir: root,
  outdir: 'browser/build',
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'linked',
  logLevel: 'warning',
};
await build({ ...browserBundle, entryPoints: { dashboard: 'browser/dashboard/main.tsx' } });

// The volunteer page (browser/volunteer) and its executor, a Web Worker carrying the same executor
// and WebAssembly operators as a Node worker thread, beside the dashboard in browser/build.
await build({
  ...browserBundle,
  entryPoints: { volunteer: 'browser/volunteer/main.tsx', 'volunteer-executor': 'browser/volunteer/executor-worker.ts' },
  loader: { '.wasm': 'binary' },
});

run(bin('tsc'), ['-p', 'tsconfig.json']);
await import('./sample-data.mjs');
