/**
 * Names a closure may use without passing them through `env`: the ECMAScript standard library plus
 * the host globals present in BOTH Node worker threads and browser Web Workers. A name that exists
 * in only one of them (`process`, `Buffer`, `require`, `window`, `self`, `document`) is left out on
 * purpose: a closure that works on a worker thread would then fail on a browser volunteer.
 */
export const LANGUAGE_GLOBALS: ReadonlySet<string> = new Set([
  // Value properties and functions of the global object.
  'globalThis', 'Infinity', 'NaN', 'undefined',
  'isFinite', 'isNaN', 'parseFloat', 'parseInt',
  'decodeURI', 'decodeURIComponent', 'encodeURI', 'encodeURIComponent',
  // Constructors.
  'AggregateError', 'Array', 'ArrayBuffer', 'BigInt', 'BigInt64Array', 'BigUint64Array', 'Boolean',
  'DataView', 'Date', 'Error', 'EvalError', 'FinalizationRegistry', 'Float32Array', 'Float64Array',
  'Function', 'Int8Array', 'Int16Array', 'Int32Array', 'Map', 'Number', 'Object', 'Promise', 'Proxy',
  'RangeError', 'ReferenceError', 'RegExp', 'Set', 'SharedArrayBuffer', 'String', 'Symbol',
  'SyntaxError', 'TypeError', 'Uint8Array', 'Uint8ClampedArray', 'Uint16Array', 'Uint32Array',
  'URIError', 'WeakMap', 'WeakRef', 'WeakSet',
  // Namespace objects.
  'Atomics', 'JSON', 'Math', 'Reflect', 'Intl', 'WebAssembly',
  // Host globals shared by Node worker threads and Web Workers.
  'console', 'TextEncoder', 'TextDecoder', 'URL', 'URLSearchParams', 'atob', 'btoa',
  'structuredClone', 'queueMicrotask', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval',
  'performance', 'crypto',
]);

/**
 * Node's own globals. A closure may use them (API.md: "Node's own globals are accepted"), and its
 * tasks then run only on Node executors (worker threads and `flint worker`), never on a browser tab.
 */
export const NODE_GLOBALS: ReadonlySet<string> = new Set(['process', 'Buffer', 'global', 'setImmediate', 'clearImmediate']);
