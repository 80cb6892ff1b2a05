/**
 * Executor side of closures: rebuilds a function from its spec. It carries no parser; the driver
 * checked the source when the transformation was created (closure-capture.ts).
 */
import { FlintError } from '../errors.js';
import { IDENTIFIER, RESERVED, type BuiltinRef, type ClosureSpec, type EnvPayload } from './closure-spec.js';
import { decodeValue } from './records.js';

type BuiltinFactory = (...args: any[]) => Function; // eslint-disable-line @typescript-eslint/no-explicit-any

const builtins = new Map<string, BuiltinFactory>();

/** Registers the executor-side implementation of a Flint built-in function. */
export function registerBuiltin(name: string, factory: BuiltinFactory): void {
  builtins.set(name, factory);
}

function instantiateBuiltin(b: BuiltinRef): Function {
  const factory = builtins.get(b.name);
  if (!factory) {
    throw new FlintError('CLOSURE_INVALID', `Unknown Flint built-in function "${b.name}" (not registered on this executor).`);
  }
  return factory(...b.args);
}

const factoryCache = new Map<string, Function>();
const FACTORY_CACHE_LIMIT = 500;
let compileCount = 0;

/** How many factories were compiled (cache misses); for tests and metrics. */
export function closureCompileCount(): number {
  return compileCount;
}

function compileFactory(params: string[], body: string, method: string): Function {
  const key = `${params.join(',')}\u0000${body}`;
  let factory = factoryCache.get(key);
  if (factory) return factory;
  for (const p of params) {
    if (!IDENTIFIER.test(p) || RESERVED.has(p)) {
      throw new FlintError('CLOSURE_INVALID', `rdd.${method}: invalid env name ${JSON.stringify(p)} in closure spec`);
    }
  }
  try {
    factory = new Function(...params, body);
  } catch (err) {
    throw new FlintError(
      'CLOSURE_INVALID',
      `rdd.${method}: the function's source does not compile: ${(err as Error).message}`,
      { cause: err },
    );
  }
  compileCount++;
  if (factoryCache.size >= FACTORY_CACHE_LIMIT) factoryCache.clear();
  factoryCache.set(key, factory);
  return factory;
}

/** Lines V8 counts before a `new Function` body: `function anonymous(params` and `) {`. */
export const FACTORY_LINE_OFFSET = 2;

/**
 * The body of a closure's factory: the env functions as constants, then the function. Each source
 * starts a line of its own, at column 1; `starts` gives those body lines (1-based), env functions
 * first, so that the driver can tell which source a stack frame points into.
 */
export function factoryBody(functions: readonly { name: string; src: string }[], main: string): { body: string; starts: number[] } {
  let body = '"use strict";\n';
  let line = 2;
  const starts: number[] = [];
  for (const f of functions) {
    body += `const ${f.name} = (\n${f.src}\n);\n`;
    starts.push(line + 1);
    line += lineCount(f.src) + 2;
  }
  starts.push(line + 1);
  return { body: `${body}return (\n${main}\n);`, starts };
}

export function lineCount(text: string): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** What a closure's compiled code is called in stack traces. */
export function closureSourceName(method: string, originId?: number): string {
  return `flint-closure-${method.replace(/[^\w.]/g, '_')}${originId === undefined ? '' : `-${originId}`}.js`;
}

/**
 * Executor side: rebuilds the function of a spec. The compiled factory is cached by source and env
 * names, so every task of a stage compiles once. Errors thrown by the function itself are never
 * wrapped; `sourceURL` names its stack frames after the method.
 */
export function instantiateClosure<F extends Function>(
  spec: ClosureSpec,
  resolveBroadcast: (id: number) => unknown,
  resolveModule: (id: string) => unknown = (id) => {
    throw new FlintError('INTERNAL', `module ${id} is not available here`);
  },
): F {
  if (spec.builtin) return instantiateBuiltin(spec.builtin) as F;
  const method = spec.method ?? 'closure';
  const sourceURL = `\n//# sourceURL=${closureSourceName(method, spec.origin?.id)}`;
  if (!spec.env) {
    const factory = compileFactory([], factoryBody([], spec.src).body + sourceURL, method);
    return factory() as F;
  }
  const env = decodeValue(spec.env) as EnvPayload;
  if (!env || !Array.isArray(env.names) || !Array.isArray(env.values) || env.values.length !== env.names.length) {
    throw new FlintError('INTERNAL', `rdd.${method}: malformed closure env`);
  }
  const params: string[] = [...env.names];
  const args: unknown[] = env.values;
  for (const b of env.broadcasts) {
    params.push(b.name);
    args.push({ id: b.id, value: resolveBroadcast(b.id) });
  }
  for (const m of env.modules ?? []) {
    params.push(m.name);
    args.push(resolveModule(m.id));
  }
  const decls: { name: string; src: string }[] = [];
  for (const f of env.functions) {
    if ('builtin' in f) {
      params.push(f.name);
      args.push(instantiateBuiltin(f.builtin));
    } else {
      decls.push(f);
    }
  }
  const factory = compileFactory(params, factoryBody(decls, spec.src).body + sourceURL, method);
  return factory(...args) as F;
}
