/**
 * `withEnv(env, factory)`: a closure whose captured names TypeScript can check. The option
 * `{ env: { min: 3 } }` makes `min` visible inside the function at run time, but the type checker
 * cannot know that and reports `min` as undeclared; here the names are the factory's parameters:
 *
 *   rdd.filter(withEnv({ min: 3 }, ({ min }) => (w: string) => w.length >= min))
 *
 * The factory itself travels as source text with the env entries (any env value: data, broadcasts,
 * functions) and is called on each executor; on the driver the result is the function it returns.
 */
import { FLINT_WITH_ENV, IDENTIFIER, RESERVED, type WithEnvRef } from '../codec/closure-spec.js';
import { describeType } from '../codec/records.js';
import { FlintError } from '../errors.js';

export function withEnv<E extends Record<string, unknown>, F extends (...args: never[]) => unknown>(env: E, factory: (env: E) => F): F {
  if (env === null || typeof env !== 'object' || ![Object.prototype, null].includes(Object.getPrototypeOf(env))) {
    throw new FlintError('INVALID_ARGUMENT', `withEnv: env must be a plain object, got ${describeType(env)}`);
  }
  for (const k of Object.keys(env)) {
    if (!IDENTIFIER.test(k) || RESERVED.has(k)) {
      throw new FlintError('INVALID_ARGUMENT', `withEnv: env key ${JSON.stringify(k)} is not a valid variable name, so the factory could not receive it.`);
    }
  }
  if (typeof factory !== 'function') {
    throw new FlintError('INVALID_ARGUMENT', `withEnv: the second argument must be a function that returns the closure, got ${describeType(factory)}`);
  }
  const fn = factory(env);
  if (typeof fn !== 'function') {
    throw new FlintError('INVALID_ARGUMENT', `withEnv: the factory must return the function to run, got ${describeType(fn)}`);
  }
  // A wrapper carries the mark, so a function the factory returns as it is stays unmarked.
  const wrapper = function (this: unknown, ...args: unknown[]) {
    return (fn as unknown as (...a: unknown[]) => unknown).apply(this, args);
  };
  const ref: WithEnvRef = { env, factory };
  Object.defineProperty(wrapper, FLINT_WITH_ENV, { value: ref });
  return wrapper as unknown as F;
}
