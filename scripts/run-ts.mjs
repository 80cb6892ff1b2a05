// Runs a TypeScript entry (a bench or a script) by bundling it with esbuild into a temporary ESM
// file; npm packages stay external so they resolve from this repository's node_modules.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve, basename } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run-ts.mjs <file.ts> [args...]');
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Inside the package (not node_modules) so that `import ... from 'flint'` resolves by self-reference.
const outDir = join(root, '.cache', 'flint-run');
mkdirSync(outDir, { recursive: true });
const outfile = join(outDir, basename(entry).replace(/\.[cm]?tsx?$/, '') + '.mjs');
await build({
  entryPoints: [resolve(entry)],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  // node20, not esnext: esnext decodes embedded .wasm with Uint8Array.fromBase64, absent in Node 20.
  target: 'node20',
  packages: 'external',
  loader: { '.wasm': 'binary' },
  sourcemap: 'inline',
  logLevel: 'warning',
});
process.argv = [process.argv[0], resolve(entry), ...rest];
await import(pathToFileURL(outfile).href);
