import { parse } from 'acorn';
import { FlintError } from '../errors.js';
import { recordOrigin, type CapturedSource } from './closure-frames.js';
import { LANGUAGE_GLOBALS, NODE_GLOBALS } from './globals.js';
import { describeType, encodeEnvValue } from './records.js';
import { BROADCAST_ID, FLINT_BUILTIN, FLINT_WITH_ENV, IDENTIFIER, RESERVED, moduleRefs, type BuiltinRef, type ClosureSpec, type EnvFunction, type EnvPayload, type WithEnvRef } from './closure-spec.js';

/**
 * Driver side of closures. The driver checks at definition time that a function uses only its own
 * names, JavaScript globals and `env` entries, because anything else would be a ReferenceError on an
 * executor — possibly minutes later and on a volunteer's browser tab.
 */

export interface CaptureOptions {
  method: string;
  env?: Record<string, unknown>;
}

/** The error of a closure that uses names it cannot have on an executor. */
export type ClosureFreeVariableError = FlintError & { variables: string[] };

// ---------------------------------------------------------------------------------------------
// Source analysis

interface N {
  type: string;
  start: number;
  end: number;
  [key: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

interface Analysis {
  /** Normalized expression evaluating to the function. */
  expr: string;
  /** `expr[at.expr]` is the source's `[at.text]`: a method keeps its source from its parameters on. */
  at: { expr: number; text: number };
  /** Free variable names in order of first use. */
  free: string[];
}

class Scope {
  readonly names = new Set<string>();
  constructor(readonly parent: Scope | null) {}
  has(name: string): boolean {
    for (let s: Scope | null = this; s; s = s.parent) if (s.names.has(name)) return true;
    return false;
  }
}

function patternNames(p: N | null, out: Set<string>): void {
  if (!p) return;
  switch (p.type) {
    case 'Identifier':
      out.add(p.name);
      return;
    case 'ObjectPattern':
      for (const prop of p.properties) patternNames(prop.type === 'RestElement' ? prop : prop.value, out);
      return;
    case 'ArrayPattern':
      for (const el of p.elements) patternNames(el, out);
      return;
    case 'AssignmentPattern':
      patternNames(p.left, out);
      return;
    case 'RestElement':
      patternNames(p.argument, out);
      return;
  }
}

/** `var` declarations hoist to the function (or static block) scope through nested statements. */
function hoistVars(stmts: N[], into: Set<string>): void {
  for (const s of stmts) hoistVarsIn(s, into);
}

function hoistVarsIn(s: N | null, into: Set<string>): void {
  if (!s) return;
  switch (s.type) {
    case 'VariableDeclaration':
      if (s.kind === 'var') for (const d of s.declarations) patternNames(d.id, into);
      return;
    case 'BlockStatement':
      hoistVars(s.body, into);
      return;
    case 'IfStatement':
      hoistVarsIn(s.consequent, into);
      hoistVarsIn(s.alternate, into);
      return;
    case 'ForStatement':
      hoistVarsIn(s.init, into);
      hoistVarsIn(s.body, into);
      return;
    case 'ForInStatement':
    case 'ForOfStatement':
      hoistVarsIn(s.left, into);
      hoistVarsIn(s.body, into);
      return;
    case 'WhileStatement':
    case 'DoWhileStatement':
    case 'LabeledStatement':
    case 'WithStatement':
      hoistVarsIn(s.body, into);
      return;
    case 'TryStatement':
      hoistVarsIn(s.block, into);
      if (s.handler) hoistVarsIn(s.handler.body, into);
      hoistVarsIn(s.finalizer, into);
      return;
    case 'SwitchStatement':
      for (const c of s.cases) hoistVars(c.consequent, into);
      return;
  }
}

/** let/const/class and (strict mode: block-scoped) function declarations of one statement list. */
function declareLexical(stmts: N[], into: Set<string>): void {
  for (const s of stmts) {
    if (s.type === 'VariableDeclaration' && s.kind !== 'var') {
      for (const d of s.declarations) patternNames(d.id, into);
    } else if ((s.type === 'ClassDeclaration' || s.type === 'FunctionDeclaration') && s.id) {
      into.add(s.id.name);
    }
  }
}

class FreeVariableCollector {
  readonly free = new Set<string>();

  ref(name: string, scope: Scope): void {
    if (!scope.has(name)) this.free.add(name);
  }

  fn(node: N, outer: Scope): void {
    let scope = outer;
    if (node.type === 'FunctionExpression' && node.id) {
      scope = new Scope(scope);
      scope.names.add(node.id.name);
    }
    const fs = new Scope(scope);
    for (const p of node.params) patternNames(p, fs.names);
    if (node.type !== 'ArrowFunctionExpression') fs.names.add('arguments');
    const body = node.body as N;
    if (body.type === 'BlockStatement') {
      hoistVars(body.body, fs.names);
      declareLexical(body.body, fs.names);
    }
    for (const p of node.params) this.pattern(p, fs);
    if (body.type === 'BlockStatement') for (const s of body.body) this.visit(s, fs);
    else this.visit(body, fs);
  }

  cls(node: N, outer: Scope): void {
    let scope = outer;
    if (node.id) {
      scope = new Scope(scope);
      scope.names.add(node.id.name);
    }
    if (node.superClass) this.visit(node.superClass, scope);
    for (const el of node.body.body) this.visit(el, scope);
  }

  /** A binding pattern: its names are declared elsewhere; defaults and computed keys are references. */
  pattern(p: N | null, scope: Scope): void {
    if (!p) return;
    switch (p.type) {
      case 'Identifier':
        return;
      case 'ObjectPattern':
        for (const prop of p.properties) {
          if (prop.type === 'RestElement') this.pattern(prop.argument, scope);
          else {
            if (prop.computed) this.visit(prop.key, scope);
            this.pattern(prop.value, scope);
          }
        }
        return;
      case 'ArrayPattern':
        for (const el of p.elements) this.pattern(el, scope);
        return;
      case 'AssignmentPattern':
        this.pattern(p.left, scope);
        this.visit(p.right, scope);
        return;
      case 'RestElement':
        this.pattern(p.argument, scope);
        return;
      default:
        this.visit(p, scope);
    }
  }

  block(stmts: N[], outer: Scope, varScope: boolean): void {
    const s = new Scope(outer);
    if (varScope) hoistVars(stmts, s.names);
    declareLexical(stmts, s.names);
    for (const st of stmts) this.visit(st, s);
  }

  visit(node: N | null | undefined, scope: Scope): void {
    if (!node) return;
    switch (node.type) {
      case 'Identifier':
        this.ref(node.name, scope);
        return;
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        this.fn(node, scope);
        return;
      case 'ClassDeclaration':
      case 'ClassExpression':
        this.cls(node, scope);
        return;
      case 'VariableDeclaration':
        for (const d of node.declarations) {
          this.pattern(d.id, scope);
          this.visit(d.init, scope);
        }
        return;
      case 'BlockStatement':
        this.block(node.body, scope, false);
        return;
      case 'StaticBlock':
        this.block(node.body, scope, true);
        return;
      case 'ForStatement':
      case 'ForInStatement':
      case 'ForOfStatement': {
        const head = node.type === 'ForStatement' ? node.init : node.left;
        const s = new Scope(scope);
        if (head && head.type === 'VariableDeclaration' && head.kind !== 'var') {
          for (const d of head.declarations) patternNames(d.id, s.names);
        }
        this.visit(head, s);
        this.visit(node.test, s);
        this.visit(node.update, s);
        this.visit(node.right, s);
        this.visit(node.body, s);
        return;
      }
      case 'CatchClause': {
        const s = new Scope(scope);
        if (node.param) {
          patternNames(node.param, s.names);
          this.pattern(node.param, s);
        }
        this.visit(node.body, s);
        return;
      }
      case 'SwitchStatement': {
        this.visit(node.discriminant, scope);
        const s = new Scope(scope);
        for (const c of node.cases) declareLexical(c.consequent, s.names);
        for (const c of node.cases) {
          this.visit(c.test, s);
          for (const st of c.consequent) this.visit(st, s);
        }
        return;
      }
      case 'LabeledStatement':
        this.visit(node.body, scope);
        return;
      case 'BreakStatement':
      case 'ContinueStatement':
      case 'MetaProperty':
      case 'ThisExpression':
      case 'Super':
      case 'Literal':
      case 'TemplateElement':
      case 'PrivateIdentifier':
      case 'EmptyStatement':
      case 'DebuggerStatement':
        return;
      case 'MemberExpression':
        this.visit(node.object, scope);
        if (node.computed) this.visit(node.property, scope);
        return;
      case 'Property':
      case 'MethodDefinition':
      case 'PropertyDefinition':
        if (node.computed) this.visit(node.key, scope);
        this.visit(node.value, scope);
        return;
      default:
        for (const key of Object.keys(node)) {
          if (key === 'type' || key === 'start' || key === 'end' || key === 'loc' || key === 'range') continue;
          const child = node[key];
          if (Array.isArray(child)) {
            for (const c of child) if (c && typeof c.type === 'string') this.visit(c, scope);
          } else if (child && typeof child === 'object' && typeof child.type === 'string') {
            this.visit(child, scope);
          }
        }
    }
  }
}

const PREFIX = '"use strict";(\n';
const SUFFIX = '\n)';

function parseExpression(expr: string): N | null {
  let program: N;
  try {
    program = parse(PREFIX + expr + SUFFIX, { ecmaVersion: 'latest', sourceType: 'script' }) as unknown as N;
  } catch {
    return null;
  }
  const stmt = program.body[1] as N | undefined;
  if (program.body.length !== 2 || !stmt || stmt.type !== 'ExpressionStatement') return null;
  const e = stmt.expression as N;
  if (e.start !== PREFIX.length || e.end !== PREFIX.length + expr.length) return null;
  return e;
}

function strictModeProblem(expr: string): string {
  try {
    parse(PREFIX + expr + SUFFIX, { ecmaVersion: 'latest', sourceType: 'script' });
    return '';
  } catch (err) {
    return err instanceof Error ? err.message.replace(/\s*\(\d+:\d+\)$/, '') : String(err);
  }
}

/** Turns a function's source text into an expression; a method with a computed key is renamed m. */
function normalize(src: string, label: string, method: string): { expr: string; node: N; at: Analysis['at'] } {
  let node = parseExpression(src);
  if (node) {
    if (node.type === 'FunctionExpression' || node.type === 'ArrowFunctionExpression' || node.type === 'ClassExpression') {
      return { expr: src, node, at: { expr: 0, text: 0 } };
    }
    node = null;
  }
  const wrapped = parseExpression(`{${src}}`);
  if (wrapped && wrapped.type === 'ObjectExpression' && wrapped.properties.length === 1) {
    const prop = wrapped.properties[0] as N;
    if (prop.type === 'Property' && prop.value.type === 'FunctionExpression') {
      const offset = PREFIX.length + 1; // the "{" we added
      const restStart = prop.value.start - offset;
      const star = prop.value.generator ? '*' : '';
      const asyncKw = prop.value.async ? 'async ' : '';
      // The method keeps its name where it can (stack frames show it); a computed key becomes m.
      const key = !prop.computed && prop.key.type === 'Identifier' && prop.key.name !== '__proto__' ? (prop.key.name as string) : 'm';
      const head = `({ ${asyncKw}${star}${key}`;
      const expr = `${head}${src.slice(restStart)} }).${key}`;
      const reparsed = parseExpression(expr);
      if (reparsed) {
        const fnNode = reparsed.object.properties[0].value as N;
        return { expr, node: fnNode, at: { expr: head.length, text: restStart } };
      }
    }
  }
  const problem = strictModeProblem(src);
  throw new FlintError(
    'CLOSURE_INVALID',
    `rdd.${method}: ${label} could not be parsed as a function expression in strict mode` +
      (problem ? ` (${problem})` : '') +
      `. Functions travel to executors as source text; the source was: ${truncate(src)}`,
  );
}

const analysisCache = new Map<string, Analysis>();
const ANALYSIS_CACHE_LIMIT = 1000;

function analyze(src: string, label: string, method: string): Analysis {
  const cached = analysisCache.get(src);
  if (cached) return cached;
  const { expr, node, at } = normalize(src, label, method);
  if (node.async) {
    throw new FlintError(
      'CLOSURE_INVALID',
      `rdd.${method}: ${label} is ${node.generator ? 'an async generator' : 'an async function'}; ` +
        'Flint functions must return their result synchronously (use a plain function or a generator).',
    );
  }
  const collector = new FreeVariableCollector();
  if (node.type === 'ClassExpression') collector.cls(node, new Scope(null));
  else collector.fn(node, new Scope(null));
  const result: Analysis = { expr, at, free: [...collector.free] };
  if (analysisCache.size >= ANALYSIS_CACHE_LIMIT) analysisCache.clear();
  analysisCache.set(src, result);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Native functions

let nativeTable: Map<unknown, string> | null = null;

/** Well-known native functions → an expression that yields them on any executor. */
function nativeExpressions(): Map<unknown, string> {
  if (nativeTable) return nativeTable;
  const table = new Map<unknown, string>();
  const g = globalThis as Record<string, unknown>;
  for (const name of LANGUAGE_GLOBALS) {
    const v = g[name];
    if (typeof v === 'function' && !table.has(v)) table.set(v, name);
  }
  for (const name of LANGUAGE_GLOBALS) {
    if (name === 'globalThis') continue;
    const v = g[name];
    if (v === null || (typeof v !== 'function' && typeof v !== 'object')) continue;
    for (const prop of Object.getOwnPropertyNames(v)) {
      const d = Object.getOwnPropertyDescriptor(v, prop);
      if (!d || typeof d.value !== 'function' || table.has(d.value)) continue;
      const access = IDENTIFIER.test(prop) ? `${name}.${prop}` : `${name}[${JSON.stringify(prop)}]`;
      // Methods of namespaces (crypto.getRandomValues, Promise.resolve) need their receiver;
      // capitalized members are constructors (Intl.Collator) and must stay constructible as-is.
      const isCtor = /^[A-Z]/.test(prop);
      table.set(d.value, isCtor ? access : `${access}.bind(${name})`);
    }
  }
  nativeTable = table;
  return table;
}

const NATIVE_CODE = /\{\s*\[native code\]\s*\}\s*$/;

function nativeExpr(fn: Function, src: string, label: string, method: string): string | null {
  if (!NATIVE_CODE.test(src)) return null;
  const known = nativeExpressions().get(fn);
  if (known) return known;
  const name = typeof fn.name === 'string' ? fn.name : '';
  if (name.startsWith('bound ')) {
    throw new FlintError(
      'CLOSURE_INVALID',
      `rdd.${method}: ${label} is a bound function (${name}). Binding hides the function's source text, ` +
        'which is what travels to executors. Pass a plain or arrow function instead and give it what ' +
        `it needs through env, e.g. rdd.${method}(x => f(x, y), { env: { f, y } }).`,
    );
  }
  throw new FlintError(
    'CLOSURE_INVALID',
    `rdd.${method}: ${label} is a native function${name ? ` (${name})` : ''} that is not a JavaScript ` +
      'global, so it has no source text to send to executors. Wrap it in a function that executors can ' +
      'rebuild from its source.',
  );
}

// ---------------------------------------------------------------------------------------------
// Capture (driver side)

function truncate(src: string, max = 80): string {
  const flat = src.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

function quoteList(names: string[]): string {
  const q = names.map((n) => `"${n}"`);
  return q.length === 1 ? q[0]! : `${q.slice(0, -1).join(', ')} and ${q[q.length - 1]}`;
}

/**
 * Names some runtime provides but not every executor: passing them through env cannot work either
 * (they are not values env can carry), so each gets advice of its own.
 */
const HOST_ONLY: Record<string, string> = {
  require: 'cannot load modules on an executor; pass the functions and values the closure needs through env',
  module: 'is not available on executors; pass the values the closure needs through env',
  exports: 'is not available on executors; pass the values the closure needs through env',
  __dirname: 'is not available on executors; pass the path as a value through env',
  __filename: 'is not available on executors; pass the path as a value through env',
  window: "is the browser's name for globalThis, missing in workers and Node; use globalThis",
  self: 'is missing in Node; use globalThis',
  document: 'exists only in a browser page, never in a worker',
};

function freeVariableError(
  method: string,
  label: string,
  missing: string[],
  mainSrc: string,
  envKeys: string[],
): ClosureFreeVariableError {
  const one = missing.length === 1;
  const passable = missing.filter((n) => !(n in HOST_ONLY));
  const hostOnly = missing.filter((n) => n in HOST_ONLY);
  let message =
    `rdd.${method}: ${label} uses ${quoteList(missing)}, which ${one ? 'is not a parameter, a JavaScript global or an env entry' : 'are not parameters, JavaScript globals or env entries'}. ` +
    'Functions travel to executors as source text, so captured values must be passed explicitly';
  const fixShown = hostOnly.length === 0;
  const env = [...envKeys, ...passable];
  if (fixShown || passable.length > 0) {
    message += `:\n  rdd.${method}(${truncate(mainSrc)}, { env: { ${env.join(', ')} } })`;
  } else {
    message += '.';
  }
  for (const name of hostOnly) message += `\n"${name}" ${HOST_ONLY[name]}.`;
  if (missing.some((n) => n.startsWith('__vite_ssr_') || n === '__name' || n.startsWith('__spread'))) {
    message +=
      '\n(Names such as __vite_ssr_import_0__ or __name are inserted by a bundler or test runner that ' +
      'rewrote the function; pass imported values through env and compile job files without minification or keepNames.)';
  }
  const err = new FlintError('CLOSURE_FREE_VARIABLE', message) as ClosureFreeVariableError;
  err.variables = missing;
  return err;
}

function builtinOf(fn: Function): BuiltinRef | null {
  const b = (fn as unknown as Record<symbol, unknown>)[FLINT_BUILTIN];
  if (!b || typeof b !== 'object') return null;
  const { name, args } = b as { name?: unknown; args?: unknown };
  if (typeof name !== 'string' || !Array.isArray(args)) {
    throw new FlintError('INVALID_ARGUMENT', 'Malformed Flint built-in: expected { name: string, args: unknown[] }');
  }
  return { name, args: [...args] };
}

function withEnvOf(fn: Function): WithEnvRef | null {
  const ref = (fn as unknown as Record<symbol, unknown>)[FLINT_WITH_ENV];
  return ref && typeof ref === 'object' ? (ref as WithEnvRef) : null;
}

/**
 * The env a closure is compiled with: the method's `env` option plus the env of every withEnv
 * function among the closure and its env functions (those may bring withEnv functions in turn).
 */
function expandWithEnv(method: string, main: Function, env: Record<string, unknown> | undefined | null): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...env };
  const queue: unknown[] = [main, ...Object.values(merged)];
  while (queue.length > 0) {
    const fn = queue.pop();
    const ref = typeof fn === 'function' ? withEnvOf(fn) : null;
    if (!ref) continue;
    for (const [k, v] of Object.entries(ref.env)) {
      if (!Object.prototype.hasOwnProperty.call(merged, k)) {
        merged[k] = v;
        queue.push(v);
      } else if (merged[k] !== v) {
        throw new FlintError('INVALID_ARGUMENT', `rdd.${method}: two different values are named "${k}" (in env and in withEnv); rename one of them.`);
      }
    }
  }
  return merged;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function broadcastIdOf(v: unknown): number | null {
  if (v === null || typeof v !== 'object') return null;
  const id = (v as Record<symbol, unknown>)[BROADCAST_ID];
  return typeof id === 'number' ? id : null;
}

const ENV_TYPES =
  'env values must be JSON-like values (numbers, strings, booleans, null, arrays, plain objects), ' +
  'undefined, bigint, typed arrays such as Uint8Array, Map, Set, Date, RegExp, broadcasts or functions';

function invalidEnv(method: string, path: string, what: string): FlintError {
  return new FlintError('INVALID_ARGUMENT', `rdd.${method}: ${path} is ${what}; ${ENV_TYPES}.`);
}

function validateEnvData(method: string, v: unknown, path: string, stack: Set<object>, depth: number): void {
  switch (typeof v) {
    case 'number':
    case 'string':
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return;
    case 'function':
      throw invalidEnv(method, path, `${describeType(v)} nested inside an env value (functions are only allowed as top-level env entries)`);
    case 'object': {
      if (v === null) return;
      if (broadcastIdOf(v) !== null) {
        throw invalidEnv(method, path, 'a broadcast nested inside an env value (broadcasts are only allowed as top-level env entries)');
      }
      if (stack.has(v)) throw invalidEnv(method, path, 'a cyclic reference');
      if (depth > 256) throw invalidEnv(method, path, 'nested too deeply');
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return;
      if (v instanceof Date || v instanceof RegExp) return;
      stack.add(v);
      try {
        if (Array.isArray(v)) {
          v.forEach((x, i) => validateEnvData(method, x, `${path}[${i}]`, stack, depth + 1));
        } else if (isPlainObject(v)) {
          for (const k of Object.keys(v)) {
            const seg = IDENTIFIER.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
            validateEnvData(method, v[k], path + seg, stack, depth + 1);
          }
        } else if (v instanceof Map) {
          for (const [k, x] of v) {
            validateEnvData(method, k, `${path} (a Map key)`, stack, depth + 1);
            validateEnvData(method, x, `${path}.get(${typeof k === 'string' ? JSON.stringify(k) : String(k)})`, stack, depth + 1);
          }
        } else if (v instanceof Set) {
          for (const x of v) validateEnvData(method, x, `${path} (a Set element)`, stack, depth + 1);
        } else {
          throw invalidEnv(method, path, describeType(v));
        }
      } finally {
        stack.delete(v);
      }
      return;
    }
    default:
      throw invalidEnv(method, path, describeType(v));
  }
}

/** Resolves a function value to an expression (source, normalized) or a built-in; checks its free variables. */
function captureFunction(
  fn: Function,
  label: string,
  method: string,
  allowed: (name: string) => boolean,
  mainSrcForMessage: () => string,
  envKeys: string[],
): { src: string; source?: CapturedSource } | { builtin: BuiltinRef } {
  const builtin = builtinOf(fn);
  if (builtin) return { builtin };
  const withEnv = withEnvOf(fn);
  if (withEnv) {
    // The factory runs on the executor with the env entries it destructures: it stays source text.
    const factory = captureFunction(withEnv.factory, label, method, allowed, mainSrcForMessage, envKeys);
    if (!('src' in factory)) throw new FlintError('INVALID_ARGUMENT', `rdd.${method}: a withEnv factory must be a function written in the job, not a built-in`);
    return { src: `(${factory.src})({ ${Object.keys(withEnv.env).join(', ')} })` };
  }
  let src: string;
  try {
    src = Function.prototype.toString.call(fn);
  } catch {
    throw new FlintError('CLOSURE_INVALID', `rdd.${method}: ${label} has no readable source text.`);
  }
  const native = nativeExpr(fn, src, label, method);
  if (native !== null) return { src: native };
  const { expr, at, free } = analyze(src, label, method);
  const missing = free.filter((n) => !allowed(n));
  if (missing.length > 0) {
    throw freeVariableError(method, label, missing, mainSrcForMessage() || src, envKeys);
  }
  return { src: expr, source: { expr, text: src, at } };
}

/** Driver side: checks `fn` and its env and turns them into a serializable spec. */
export function captureClosure(fn: unknown, opts: CaptureOptions): ClosureSpec {
  const method = opts.method;
  if (typeof fn !== 'function') {
    throw new FlintError('INVALID_ARGUMENT', `rdd.${method}: expected a function, got ${describeType(fn)}`);
  }
  const f = fn as Function;
  const builtin = builtinOf(f);
  if (builtin) return { src: '', env: null, builtin, broadcasts: [], method };

  if (opts.env !== undefined && opts.env !== null && !isPlainObject(opts.env)) {
    throw new FlintError('INVALID_ARGUMENT', `rdd.${method}: env must be a plain object, got ${describeType(opts.env)}`);
  }
  const env = expandWithEnv(method, f, opts.env);
  const envKeys = env ? Object.keys(env) : [];
  for (const k of envKeys) {
    if (!IDENTIFIER.test(k) || RESERVED.has(k)) {
      throw new FlintError(
        'INVALID_ARGUMENT',
        `rdd.${method}: env key ${JSON.stringify(k)} is not a valid variable name, so the function could not refer to it.`,
      );
    }
  }
  const envSet = new Set(envKeys);
  let usesNode = false;
  const allowed = (name: string): boolean => {
    if (LANGUAGE_GLOBALS.has(name) || envSet.has(name)) return true;
    if (!NODE_GLOBALS.has(name)) return false;
    usesNode = true;
    return true;
  };

  const main = captureFunction(f, 'the function', method, allowed, () => '', envKeys) as { src: string; source?: CapturedSource };
  const mainSrc = main.src;
  const requires = (): Pick<ClosureSpec, 'requires'> => (usesNode ? { requires: ['node'] } : {});
  if (!env || envKeys.length === 0) return withOrigin({ src: mainSrc, env: null, broadcasts: [], method, ...requires() }, [], main.source);

  const names: string[] = [];
  const values: unknown[] = [];
  const broadcasts: { name: string; id: number }[] = [];
  const functions: EnvFunction[] = [];
  const modules: { name: string; id: string }[] = [];
  const located: CapturedSource[] = [];
  for (const k of envKeys) {
    const v = env[k];
    const mod = (typeof v === 'object' && v !== null) || typeof v === 'function' ? moduleRefs.get(v as object) : undefined;
    if (mod) {
      modules.push({ name: k, id: mod.id });
      if (mod.nodeOnly) usesNode = true;
      continue;
    }
    if (typeof v === 'function') {
      const { source, ...captured } = captureFunction(v as Function, `env function "${k}"`, method, allowed, () => mainSrc, envKeys) as {
        src: string;
        source?: CapturedSource;
      };
      functions.push({ name: k, ...captured } as EnvFunction);
      // Native functions (Math.max) are compiled in too, but have no source to find.
      if ('src' in captured) located.push({ ...(source ?? withoutSource(captured.src)), name: k });
      continue;
    }
    const id = broadcastIdOf(v);
    if (id !== null) {
      broadcasts.push({ name: k, id });
      continue;
    }
    validateEnvData(method, v, `env.${k}`, new Set(), 0);
    names.push(k);
    values.push(v);
  }
  for (const fnEntry of functions) {
    if ('builtin' in fnEntry) validateEnvData(method, fnEntry.builtin.args, `env.${fnEntry.name} (built-in arguments)`, new Set(), 0);
  }
  const payload: EnvPayload = { names, values, broadcasts, functions, ...(modules.length > 0 ? { modules } : {}) };
  let bytes: Uint8Array;
  try {
    bytes = encodeEnvValue(payload);
  } catch (err) {
    throw new FlintError('INVALID_ARGUMENT', `rdd.${method}: env could not be encoded: ${(err as Error).message}`, { cause: err });
  }
  return withOrigin(
    {
      src: mainSrc,
      env: bytes,
      broadcasts: [...new Set(broadcasts.map((b) => b.id))],
      ...(modules.length > 0 ? { modules: [...new Set(modules.map((m) => m.id))] } : {}),
      method,
      ...requires(),
    },
    located,
    main.source,
  );
}

/** A compiled expression with no source text to look for (a native function). */
function withoutSource(expr: string): CapturedSource {
  return { expr, text: '', at: { expr: 0, text: 0 } };
}

/** Adds where the closure's sources are in the user's script, when they can be found there. */
function withOrigin(spec: ClosureSpec, functions: CapturedSource[], main: CapturedSource | undefined): ClosureSpec {
  const origin = recordOrigin(functions, main ?? withoutSource(spec.src));
  return origin ? { ...spec, origin } : spec;
}
