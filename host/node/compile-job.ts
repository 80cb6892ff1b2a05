/**
 * Job files run as written: TypeScript (or JavaScript) is bundled by esbuild into one ESM file whose
 * `flint` import points at this installation. Closures travel as source text, so the output keeps
 * names and modern syntax (no minification, no keepNames helpers, target esnext).
 */
import { build } from 'esbuild';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FlintError } from '../errors.js';

export interface CompiledJob {
  url: string;
  cleanup(): void;
}

function libraryEntry(): string {
  // dist/cli.js sits beside dist/index.js.
  return fileURLToPath(new URL('./index.js', import.meta.url));
}

export async function compileJob(jobPath: string): Promise<CompiledJob> {
  const entry = resolve(jobPath);
  if (!existsSync(entry)) throw new FlintError('INPUT_NOT_FOUND', `job file not found: ${jobPath}`);
  // The bundle sits beside the job so that its other bare imports resolve from the job's folder.
  let outDir: string;
  try {
    outDir = mkdtempSync(join(dirname(entry), '.flint-job-'));
  } catch {
    outDir = mkdtempSync(join(tmpdir(), 'flint-job-'));
  }
  const outfile = join(outDir, basename(entry).replace(/\.[cm]?[jt]sx?$/, '') + '.mjs');
  const library = libraryEntry();
  try {
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'esnext',
      packages: 'external',
      sourcemap: 'inline',
      logLevel: 'silent',
      plugins: [
        {
          name: 'flint-self',
          setup(b) {
            b.onResolve({ filter: /^flint$/ }, () => ({ path: pathToFileURL(library).href, external: true }));
          },
        },
      ],
    });
  } catch (err) {
    rmSync(outDir, { recursive: true, force: true });
    const errors = (err as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } }> }).errors ?? [];
    const detail = errors
      .map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text))
      .join('\n  ');
    throw new FlintError('INVALID_ARGUMENT', `could not compile ${jobPath}:\n  ${detail || (err as Error).message}`);
  }
  return { url: pathToFileURL(outfile).href, cleanup: () => rmSync(outDir, { recursive: true, force: true }) };
}
