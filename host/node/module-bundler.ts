/**
 * `fl.module(specifier)` on Node: the module (an npm package, or a local .js/.ts file) is bundled
 * by esbuild into one CommonJS script per executor platform, so that executors need nothing
 * installed: once for Node executors (Node's built-ins stay `require` calls), once for browsers (a
 * module that needs Node's built-ins cannot be bundled for them, and its closures need the 'node'
 * capability). The id is the SHA-256 of the Node bundle: the same code is shipped and evaluated once
 * per executor however often it is named.
 */
import { buildSync, type BuildFailure } from 'esbuild';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { FlintError } from '../errors.js';
import { evaluateModule } from '../exec/modules.js';

export interface LoadedModule {
  id: string;
  /** The module's exports on the driver, evaluated from the same bundle executors get. */
  exports: unknown;
  node: string;
  browser: string | null;
}

function bundle(specifier: string, fromDir: string, platform: 'node' | 'browser'): string {
  const result = buildSync({
    stdin: { contents: `module.exports = require(${JSON.stringify(specifier)});`, resolveDir: fromDir, sourcefile: 'flint-module-entry.js', loader: 'js' },
    bundle: true,
    platform,
    format: 'cjs',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    // Closures receive the module as a value; its own code needs no minification or renaming.
    minify: false,
  });
  return result.outputFiles[0]!.text;
}

function describeFailure(err: unknown): string {
  const failure = err as Partial<BuildFailure>;
  const first = failure.errors?.[0];
  return first ? `${first.text}${first.location ? ` (${first.location.file}:${first.location.line})` : ''}` : (err as Error).message;
}

export function loadModule(specifier: string, fromDir: string): LoadedModule {
  let node: string;
  try {
    node = bundle(specifier, fromDir, 'node');
  } catch (err) {
    throw new FlintError('INVALID_ARGUMENT', `fl.module(${JSON.stringify(specifier)}): cannot bundle it from ${fromDir}: ${describeFailure(err)}`, { cause: err });
  }
  let browser: string | null;
  try {
    browser = bundle(specifier, fromDir, 'browser');
  } catch {
    // It needs Node's built-ins: Node executors only.
    browser = null;
  }
  const id = createHash('sha256').update(node).digest('hex');
  const exports = evaluateModule(id, node, createRequire(join(fromDir, 'flint-module.js')));
  return { id, exports, node, browser };
}
