/**
 * `flint run --typecheck`: esbuild strips types without checking them, so a job with type errors
 * would run anyway. This runs `tsc --noEmit` over the job with strict settings first, with
 * `flint` resolved to the types of this installation (as compile-job.ts resolves the code) and
 * modules resolved as the bundler does (ESM, top-level await, extensionless relative imports).
 * TypeScript and @types come from beside the job, else from Flint's own installation.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlintError } from '../errors.js';

// dist/cli.js sits beside dist/types/.
const flintRoot = fileURLToPath(new URL('..', import.meta.url));
const flintTypes = fileURLToPath(new URL('./types/host/index.d.ts', import.meta.url));

function findTsc(jobPath: string): string {
  for (const from of [jobPath, fileURLToPath(import.meta.url)]) {
    try {
      const pkgPath = createRequire(from).resolve('typescript/package.json');
      const bin = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { bin?: { tsc?: string } }).bin?.tsc;
      if (bin) return join(dirname(pkgPath), bin);
    } catch {
      // not installed there; try the next place
    }
  }
  throw new FlintError('INVALID_ARGUMENT', '--typecheck needs TypeScript: install it beside the job (npm install --save-dev typescript)');
}

/** Every node_modules/@types from the job's folder up, then Flint's own. */
function typeRoots(jobDir: string): string[] {
  const roots: string[] = [];
  for (let dir = jobDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', '@types');
    if (existsSync(candidate)) roots.push(candidate);
    if (dirname(dir) === dir) break;
  }
  const own = join(flintRoot, 'node_modules', '@types');
  if (existsSync(own) && !roots.includes(own)) roots.push(own);
  return roots;
}

/**
 * The settings a job is checked with (the documentation's examples too): strict, ES2022 with
 * top-level await, modules resolved as the bundler resolves them, `flint` from `flintTypes`.
 */
export function strictOptions(roots: string[], flintTypes: string, checkJs = false): Record<string, unknown> {
  return {
    strict: true,
    noEmit: true,
    target: 'es2022',
    lib: ['es2023'],
    module: 'esnext',
    moduleResolution: 'bundler',
    allowImportingTsExtensions: true,
    allowJs: true,
    checkJs,
    skipLibCheck: true,
    typeRoots: roots,
    // TypeScript 6+ includes no @types by default; a job on Node uses Node's (process, console).
    types: roots.some((r) => existsSync(join(r, 'node'))) ? ['node'] : [],
    paths: { flint: [flintTypes] },
  };
}

/** The diagnostics of the job's type errors, or null when it type-checks. */
export async function typecheckJob(jobPath: string, options: { color?: boolean } = {}): Promise<string | null> {
  const job = resolve(jobPath);
  if (!existsSync(job)) throw new FlintError('INPUT_NOT_FOUND', `job file not found: ${jobPath}`);
  const tsc = findTsc(job);
  let dir: string;
  try {
    dir = mkdtempSync(join(dirname(job), '.flint-typecheck-'));
  } catch {
    dir = mkdtempSync(join(tmpdir(), 'flint-typecheck-'));
  }
  const tsconfig = join(dir, 'tsconfig.json');
  writeFileSync(tsconfig, JSON.stringify({ compilerOptions: strictOptions(typeRoots(dirname(job)), flintTypes, /\.[cm]?js$/.test(job)), files: [job] }));
  try {
    return await new Promise<string | null>((done, fail) => {
      execFile(process.execPath, [tsc, '-p', tsconfig, '--pretty', String(options.color ?? false)], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (!err) return done(null);
        const output = `${stdout}${stderr}`.trim();
        if (typeof err.code === 'number' && output) return done(output);
        fail(new FlintError('INTERNAL', `tsc could not check ${jobPath}: ${output || err.message}`, { cause: err }));
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
