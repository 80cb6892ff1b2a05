/**
 * Closures travel to executors as source text plus an explicit environment: this is the shape they
 * travel in, shared by the driver (closure-capture.ts, which parses and checks them) and the
 * executors (closure-runtime.ts, which rebuilds them and must not carry the parser).
 */

/** The API's Broadcast object carries its numeric id under this symbol. */
export const BROADCAST_ID: unique symbol = Symbol.for('flint.broadcast.id');
/** `fn[FLINT_BUILTIN] = { name, args }` marks a Flint built-in function (captured by name). */
export const FLINT_BUILTIN: unique symbol = Symbol.for('flint.builtin');
/** `fn[FLINT_WITH_ENV]` marks a function made by withEnv: its factory travels, called with its env. */
export const FLINT_WITH_ENV: unique symbol = Symbol.for('flint.withEnv');

/**
 * Modules made available to closures by `fl.module(...)`: the exports object the driver holds maps
 * to the module's content-addressed id. Executors receive the module's code once and evaluate it
 * once; a closure names the module through env like any other value.
 */
export interface ModuleRef {
  id: string;
  /** The module needs Node's built-ins: closures using it run only on Node executors. */
  nodeOnly: boolean;
  specifier: string;
}

/** Shared through a global symbol, like BROADCAST_ID, so that two copies of Flint agree. */
export const moduleRefs: WeakMap<object, ModuleRef> = ((globalThis as Record<symbol, unknown>)[Symbol.for('flint.moduleRefs')] ??= new WeakMap()) as WeakMap<object, ModuleRef>;

export interface WithEnvRef {
  env: Record<string, unknown>;
  factory: Function;
}

export interface BuiltinRef {
  name: string;
  args: unknown[];
}

/** An env function: compiled in the same scope as the closure so it sees the env and the other env functions. */
export type EnvFunction = { name: string; src: string } | { name: string; builtin: BuiltinRef };

/**
 * The env as bytes (records.ts encoding, msgpackr): an `EnvPayload`. Kept opaque so a task message
 * carries it as one transferable block; `broadcasts` on the spec lists the ids separately.
 */
export type EncodedEnv = Uint8Array;

/** What EncodedEnv decodes to. */
export interface EnvPayload {
  /** Names bound to `values`, in order. */
  names: string[];
  values: unknown[];
  /** Names bound to broadcast placeholders `{ id, value }`. */
  broadcasts: { name: string; id: number }[];
  functions: EnvFunction[];
  /** Names bound to the exports of modules shipped with `fl.module`. */
  modules?: { name: string; id: string }[];
}

export interface ClosureSpec {
  /** An expression that evaluates to the function ('' for a built-in). */
  src: string;
  env: EncodedEnv | null;
  builtin?: BuiltinRef;
  /** Broadcast ids the closure uses, so the scheduler ships them before the task. */
  broadcasts: number[];
  /** Module ids (fl.module) the closure uses, shipped like broadcasts. */
  modules?: string[];
  /** The API method, for messages and stack frame names. */
  method?: string;
  /** What an executor must offer to run it: 'node' when it uses Node's globals (process, Buffer). */
  requires?: 'node'[];
  /** Where the driver found the function's source, so that executor stack frames map back to it. */
  origin?: ClosureOrigin;
}

/**
 * A closure whose source the driver located in the user's script. Executors name its compiled code
 * `flint-closure-<method>-<id>.js`; the driver maps frames of that name back to the user's file
 * (closure-frames.ts keeps, by id, where each source of the closure starts).
 */
export interface ClosureOrigin {
  id: number;
  /** The function's first character in the driver's script (1-based line and column), if it was found. */
  file?: string;
  line?: number;
  column?: number;
}

/** A name a closure may bind: an identifier that is not a reserved word. */
export const IDENTIFIER = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]*$/u;
export const RESERVED = new Set(
  ('break case catch class const continue debugger default delete do else enum export extends false finally ' +
    'for function if import in instanceof new null return super switch this throw true try typeof var void ' +
    'while with yield let static implements interface package private protected public await eval arguments').split(' '),
);

