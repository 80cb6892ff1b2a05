/**
 * Modules shipped by `fl.module(...)`: CommonJS bundles (esbuild) evaluated once per executor. A
 * bundle built for Node may still `require` Node's built-ins; the executor's platform lends its
 * `require` for those, and a browser has none (such modules never reach a browser executor: their
 * closures need the 'node' capability).
 */
import { FlintError } from '../errors.js';

export function evaluateModule(id: string, code: string, requireBuiltin: ((name: string) => unknown) | null): unknown {
  const module: { exports: unknown } = { exports: {} };
  const require = (name: string): unknown => {
    if (!requireBuiltin) throw new FlintError('CAPABILITY_MISSING', `module ${id.slice(0, 12)} needs "${name}", which this executor cannot load`);
    return requireBuiltin(name);
  };
  try {
    new Function('module', 'exports', 'require', `${code}\n//# sourceURL=flint-module-${id.slice(0, 12)}.js`)(module, module.exports, require);
  } catch (err) {
    throw new FlintError('CLOSURE_INVALID', `a module given with fl.module failed to load on this executor: ${(err as Error).message}`, { cause: err });
  }
  return module.exports;
}
