/**
 * Flint's built-in functions. They behave exactly like the lambdas they stand for, but travel by
 * name (FLINT_BUILTIN) instead of as source, so the planner can recognise them: a `textFile`
 * followed by `flatMap(words)` becomes one WebAssembly scan of the split's bytes, and
 * `map(pairWith(1))` before `reduceByKey('sum')` or `countByValue()` folds into that scan.
 * Registered on import, which both the driver and every executor do.
 */
import { registerBuiltin } from './codec/closure-runtime.js';
import { FLINT_BUILTIN } from './codec/closure-spec.js';
import { describeType, encodeValue } from './codec/records.js';
import { FlintError } from './errors.js';

const WHITESPACE = /\s+/;

function splitWords(line: string): string[] {
  if (typeof line !== 'string') {
    throw new TypeError(`words expects string records (lines of text), got ${describeType(line)}`);
  }
  // split(/\s+/) yields an empty string only before leading or after trailing whitespace.
  const parts = line.split(WHITESPACE);
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length > 0 && parts[0] === '') parts.shift();
  return parts;
}

function pairWithFactory(value: unknown): (x: unknown) => [unknown, unknown] {
  return (x) => [x, value];
}

registerBuiltin('words', () => splitWords);
registerBuiltin('pairWith', pairWithFactory);

/**
 * The words of a line: `line.split(/\s+/)` without empty strings, splitting on JavaScript's `\s`
 * (Unicode spaces such as U+00A0 and U+3000 included). Use it as `flatMap(words)`.
 */
export const words: (line: string) => string[] = Object.assign((line: string) => splitWords(line), {
  [FLINT_BUILTIN]: { name: 'words', args: [] },
});

/** `pairWith(v)` is `x => [x, v]`; `v` must be a record value (it travels with the task). */
export function pairWith<V>(value: V): <T>(x: T) => [T, V] {
  try {
    encodeValue(value);
  } catch (err) {
    throw new FlintError('INVALID_ARGUMENT', `pairWith: the value must be a record value: ${(err as Error).message}`, { cause: err });
  }
  return Object.assign(pairWithFactory(value) as <T>(x: T) => [T, V], {
    [FLINT_BUILTIN]: { name: 'pairWith', args: [value] },
  });
}
