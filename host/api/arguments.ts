/**
 * PySpark passes optional arguments positionally (`sortByKey(False, 4)`) or by keyword
 * (`sortByKey(numPartitions=4)`); Flint accepts both, as PySpark's positional order or as one
 * trailing options object (or positional ones followed by an options object, as Python allows).
 * Every method declares its parameters once as a `Signature` and parses its arguments through it,
 * so a wrong type, an unknown option key or an extra argument fails the same way everywhere — a
 * FlintError INVALID_ARGUMENT naming the method and the argument — instead of being ignored.
 */
import { describeType } from '../codec/records.js';
import { FlintError } from '../errors.js';

/** What an argument must be. */
export interface Kind<T> {
  /** For messages: "a positive integer". */
  readonly what: string;
  accepts(value: unknown): value is T;
}

export function kind<T>(what: string, test: (value: unknown) => boolean): Kind<T> {
  return { what, accepts: (value: unknown): value is T => test(value) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFunction = (...args: any[]) => any;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export const kinds = {
  any: kind<unknown>('any value', () => true),
  boolean: kind<boolean>('a boolean', (v) => typeof v === 'boolean'),
  function: kind<AnyFunction>('a function', (v) => typeof v === 'function'),
  string: kind<string>('a string', (v) => typeof v === 'string'),
  path: kind<string>('a non-empty string', (v) => typeof v === 'string' && v.length > 0),
  number: kind<number>('a number', (v) => typeof v === 'number' && !Number.isNaN(v)),
  positiveInteger: kind<number>('a positive integer', (v) => Number.isInteger(v) && (v as number) >= 1),
  count: kind<number>('a non-negative integer', (v) => Number.isInteger(v) && (v as number) >= 0),
  /** Seeds are integers, as in Python; any safe integer is accepted. */
  seed: kind<number>('an integer', (v) => Number.isSafeInteger(v)),
  plainObject: kind<Record<string, unknown>>('a plain object', isPlainObject),
};

export interface Param<N extends string = string, T = unknown> {
  readonly name: N;
  readonly kind: Kind<T>;
}

export function param<N extends string, T>(name: N, kind: Kind<T>): Param<N, T> {
  return { name, kind };
}

type ValueOf<E> = E extends Param<string, infer T> ? T : never;
type RequiredArgs<P extends readonly Param[]> = { [E in P[number] as E['name']]: ValueOf<E> };
type OptionalArgs<P extends readonly Param[]> = { [E in P[number] as E['name']]?: ValueOf<E> };
export type ParsedArgs<R extends readonly Param[], O extends readonly Param[], X extends readonly Param[]> = RequiredArgs<R> &
  OptionalArgs<O> &
  OptionalArgs<X>;

const ENV = param('env', kinds.plainObject);

function describeValue(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v)}`;
    case 'number':
    case 'boolean':
      return `${typeof v} ${String(v)}`;
    case 'bigint':
      return `the bigint ${v}n`;
    default:
      return Array.isArray(v) ? 'an array' : describeType(v);
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

function closest(name: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return bestDistance <= Math.max(1, Math.floor(name.length / 4)) ? best : null;
}

/**
 * One method's parameters: `required` ones always positional, then the `optional` ones in
 * PySpark's order, then an options object that may hold any optional parameter not given
 * positionally and the `keywordOnly` ones (such as `env`). `undefined` and `null` stand for an
 * omitted optional argument, as Python's `None` does for `numPartitions`.
 */
export class Signature<R extends readonly Param[], O extends readonly Param[], X extends readonly Param[]> {
  private readonly optionNames: string[];

  constructor(
    /** As the user writes it: 'rdd.sortByKey', 'fl.textFile'. */
    readonly label: string,
    readonly required: R,
    readonly optional: O,
    readonly keywordOnly: X,
  ) {
    this.optionNames = [...optional, ...keywordOnly].map((p) => p.name);
  }

  parse(args: ArrayLike<unknown>): ParsedArgs<R, O, X> {
    const out: Record<string, unknown> = {};
    const n = args.length;
    for (let i = 0; i < this.required.length; i++) {
      const p = this.required[i]!;
      if (i >= n) throw this.error(`missing argument ${i + 1} (${p.name}), which must be ${p.kind.what}; ${this.usage()}`);
      this.check(p, args[i], `${p.name} (argument ${i + 1})`);
      out[p.name] = args[i];
    }
    let i = this.required.length;
    for (const p of this.optional) {
      if (i >= n) break;
      const v = args[i];
      if (isPlainObject(v) && !p.kind.accepts(v)) break; // the options object
      i++;
      if (v === undefined || v === null) continue;
      this.check(p, v, `${p.name} (argument ${i})`);
      out[p.name] = v;
    }
    if (i < n) {
      const options = args[i];
      if (!isPlainObject(options) || this.optionNames.length === 0) {
        if (options === undefined && i === n - 1) return out as ParsedArgs<R, O, X>;
        throw this.error(`unexpected argument ${i + 1} (${describeValue(options)}); ${this.usage()}`);
      }
      if (i < n - 1) throw this.error(`the options object must be the last argument; ${this.usage()}`);
      this.parseOptions(options, out);
    }
    return out as ParsedArgs<R, O, X>;
  }

  private parseOptions(options: Record<string, unknown>, out: Record<string, unknown>): void {
    for (const key of Object.keys(options)) {
      const p = [...this.optional, ...this.keywordOnly].find((q) => q.name === key);
      if (!p) {
        const hint = closest(key, this.optionNames);
        throw this.error(
          `unknown option ${JSON.stringify(key)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}; ` +
            `the options are ${this.optionNames.join(', ')}`,
        );
      }
      const v = options[key];
      if (v === undefined) continue;
      if (key in out) throw this.error(`${key} is given both as an argument and as an option`);
      if (v === null && this.optional.includes(p)) continue;
      this.check(p, v, `option ${key}`);
      out[key] = v;
    }
  }

  private check(p: Param, v: unknown, where: string): void {
    if (!p.kind.accepts(v)) throw this.error(`${where} must be ${p.kind.what}, got ${describeValue(v)}`);
  }

  /** "takes (num, key?) and an options object { key, env }". */
  usage(): string {
    const positional = [...this.required.map((p) => p.name), ...this.optional.map((p) => `${p.name}?`)];
    const options = this.optionNames.length > 0 ? ` and an options object { ${this.optionNames.join(', ')} }` : '';
    return `${this.label} takes (${positional.join(', ')})${options}`;
  }

  private error(message: string): FlintError {
    return new FlintError('INVALID_ARGUMENT', `${this.label}: ${message}`);
  }
}

/** A signature whose options object also takes `env` (methods that take functions). */
export function signature<const R extends readonly Param[], const O extends readonly Param[]>(
  label: string,
  required: R,
  optional: O,
): Signature<R, O, readonly []>;
export function signature<const R extends readonly Param[], const O extends readonly Param[], const X extends readonly Param[]>(
  label: string,
  required: R,
  optional: O,
  keywordOnly: X,
): Signature<R, O, X>;
export function signature(label: string, required: readonly Param[], optional: readonly Param[], keywordOnly: readonly Param[] = []) {
  return new Signature(label, required, optional, keywordOnly);
}

/** The keyword-only `env` of methods that take functions. */
export const envOption = [ENV] as const;

/** For methods without parameters: an extra argument is a mistake worth reporting, not ignoring. */
export function noArguments(label: string, args: ArrayLike<unknown>): void {
  const extra = Array.from(args).findIndex((a) => a !== undefined);
  if (extra >= 0) {
    throw new FlintError('INVALID_ARGUMENT', `${label}: takes no arguments, got ${describeValue(args[extra])} as argument ${extra + 1}`);
  }
}
