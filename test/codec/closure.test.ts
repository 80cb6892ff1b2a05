import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { captureClosure } from '../../host/codec/closure-capture.js';
import { closureCompileCount, instantiateClosure, registerBuiltin } from '../../host/codec/closure-runtime.js';
import { BROADCAST_ID, FLINT_BUILTIN, type ClosureSpec } from '../../host/codec/closure-spec.js';
import { LANGUAGE_GLOBALS } from '../../host/codec/globals.js';
import { decodeValue, encodeValue } from '../../host/codec/records.js';
import { FlintError } from '../../host/errors.js';

declare const toBytes: (s: string) => unknown;

const noBroadcasts = (id: number): unknown => {
  throw new Error(`unexpected broadcast ${id}`);
};

/** Capture, send through msgpackr and structured clone like a task message, then rebuild. */
function roundTrip<F extends Function>(fn: unknown, env?: Record<string, unknown>, resolve = noBroadcasts, method = 'map'): F {
  const spec = captureClosure(fn, { method, env });
  const wire = structuredClone(decodeValue(encodeValue(spec as unknown)) as ClosureSpec);
  return instantiateClosure<F>(wire, resolve);
}

/** Free variables of a function, or [] when it is accepted. */
function freeVars(fn: unknown, env?: Record<string, unknown>): string[] {
  try {
    captureClosure(fn, { method: 'map', env });
    return [];
  } catch (err) {
    if (err instanceof FlintError && err.code === 'CLOSURE_FREE_VARIABLE') return (err as unknown as { variables: string[] }).variables;
    throw err;
  }
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return (err as FlintError).code;
  }
  return undefined;
}

describe('LANGUAGE_GLOBALS', () => {
  it('holds the language and shared host globals but no Node- or window-only names', () => {
    for (const n of ['Math', 'JSON', 'AggregateError', 'BigUint64Array', 'WebAssembly', 'console', 'structuredClone', 'crypto', 'undefined']) {
      expect(LANGUAGE_GLOBALS.has(n)).toBe(true);
    }
    for (const n of ['process', 'require', 'Buffer', 'window', 'self', 'document', 'module', 'global']) {
      expect(LANGUAGE_GLOBALS.has(n)).toBe(false);
    }
  });
  it('names only globals that exist here', () => {
    for (const n of LANGUAGE_GLOBALS) expect(n in globalThis, n).toBe(true);
  });
});

describe('captureClosure: function forms', () => {
  it('arrow functions', () => {
    expect(roundTrip<(x: number) => number>((x: number) => x * 2)(21)).toBe(42);
    expect(roundTrip<(a: number, b: number) => number>((a: number, b: number) => a + b)(1, 2)).toBe(3);
    expect(roundTrip<() => object>(() => ({ a: 1 }))()).toEqual({ a: 1 });
    expect(roundTrip<(x: number) => number>((x: number) => {
      const y = x + 1;
      return y * 2;
    })(1)).toBe(4);
  });

  it('function expressions and declarations, named or not', () => {
    expect(roundTrip<(x: number) => number>(function (x: number) { return x + 1; })(1)).toBe(2);
    function inc(x: number): number {
      return x + 1;
    }
    expect(roundTrip<typeof inc>(inc)(1)).toBe(2);
    // The self-name of a named function expression is in scope (recursion).
    const fact = function f(n: number): number {
      return n <= 1 ? 1 : n * f(n - 1);
    };
    expect(roundTrip<typeof fact>(fact)(5)).toBe(120);
    function fib(n: number): number {
      return n < 2 ? n : fib(n - 1) + fib(n - 2);
    }
    expect(roundTrip<typeof fib>(fib)(10)).toBe(55);
  });

  it('generator functions (mapPartitions)', () => {
    const g = roundTrip<(it: Iterable<number>) => Iterable<number>>(function* (it: Iterable<number>) {
      for (const x of it) yield x * 10;
    });
    expect([...g([1, 2, 3])]).toEqual([10, 20, 30]);
    function* named(it: Iterable<number>) {
      let sum = 0;
      for (const x of it) sum += x;
      yield sum;
    }
    expect([...roundTrip<typeof named>(named)([1, 2, 3])]).toEqual([6]);
  });

  it('method shorthand, generator methods, quoted and computed names, accessors, static methods', () => {
    const obj = {
      double(x: number) {
        return x * 2;
      },
      *pairs(it: Iterable<number>) {
        for (const x of it) yield [x, x];
      },
      'with space'(x: number) {
        return x - 1;
      },
      ['comp' + 'uted'](x: number) {
        return x + 100;
      },
      get answer() {
        return 42;
      },
    };
    expect(roundTrip<(x: number) => number>(obj.double)(4)).toBe(8);
    expect([...roundTrip<(it: number[]) => Iterable<number[]>>(obj.pairs)([1, 2])]).toEqual([[1, 1], [2, 2]]);
    expect(roundTrip<(x: number) => number>(obj['with space'])(4)).toBe(3);
    expect(roundTrip<(x: number) => number>(obj.computed)(1)).toBe(101);
    const getter = Object.getOwnPropertyDescriptor(obj, 'answer')!.get!;
    expect(roundTrip<() => number>(getter)()).toBe(42);
    class K {
      static triple(x: number) {
        return x * 3;
      }
      [Symbol.iterator]() {
        return [1][Symbol.iterator]();
      }
    }
    expect(roundTrip<(x: number) => number>(K.triple)(2)).toBe(6);
    expect([...(roundTrip<() => Iterator<number>>(K.prototype[Symbol.iterator]) as unknown as () => Iterable<number>)()]).toEqual([1]);
  });

  it('native global functions map to expressions', () => {
    expect(roundTrip<(x: unknown) => string>(String)(12)).toBe('12');
    expect(roundTrip<(x: unknown) => number>(Number)('7')).toBe(7);
    expect(roundTrip<(x: unknown) => boolean>(Boolean)(0)).toBe(false);
    expect(roundTrip<(x: number) => number>(Math.abs)(-3)).toBe(3);
    expect(roundTrip<(x: unknown) => string>(JSON.stringify)({ a: 1 })).toBe('{"a":1}');
    expect(roundTrip<(s: string) => number>(parseInt)('42')).toBe(42);
    expect(roundTrip<(x: unknown) => boolean>(Number.isInteger)(3)).toBe(true);
    expect(roundTrip<(x: number) => Promise<number>>(Promise.resolve)(3)).toBeInstanceOf(Promise);
    expect(captureClosure(Math.max, { method: 'reduce' }).src).toBe('Math.max.bind(Math)');
  });

  it('rejects bound and unknown native functions with CLOSURE_INVALID', () => {
    const bound = ((x: number) => x).bind(null);
    expect(() => captureClosure(bound, { method: 'map' })).toThrow(/bound function/);
    expect(codeOf(() => captureClosure(bound, { method: 'map' }))).toBe('CLOSURE_INVALID');
    expect(codeOf(() => captureClosure(String.prototype.trim, { method: 'map' }))).toBe('CLOSURE_INVALID');
  });

  it('rejects async functions and async generators', () => {
    expect(() => captureClosure(async (x: number) => x, { method: 'map' })).toThrow(/async function/);
    expect(codeOf(() => captureClosure(async function (x: number) { return x; }, { method: 'map' }))).toBe('CLOSURE_INVALID');
    expect(() => captureClosure(async function* (it: unknown) { yield it; }, { method: 'mapPartitions' })).toThrow(/async generator/);
    const o = { async m() { return 1; } };
    expect(codeOf(() => captureClosure(o.m, { method: 'map' }))).toBe('CLOSURE_INVALID');
  });

  it('rejects non-functions with INVALID_ARGUMENT', () => {
    let err: FlintError | undefined;
    try {
      captureClosure(42, { method: 'filter' });
    } catch (e) {
      err = e as FlintError;
    }
    expect(err?.code).toBe('INVALID_ARGUMENT');
    expect(err?.message).toBe('rdd.filter: expected a function, got a number');
    expect(codeOf(() => captureClosure(null, { method: 'map' }))).toBe('INVALID_ARGUMENT');
  });

  it('rejects functions that are not valid in strict mode', () => {
    // eslint-disable-next-line no-new-func
    const sloppy = new Function('x', 'with (x) { return y; }');
    expect(codeOf(() => captureClosure(sloppy, { method: 'map' }))).toBe('CLOSURE_INVALID');
  });

  it('built-ins travel by name and are instantiated from the registry', () => {
    registerBuiltin('test.pairWith', (v: unknown) => (x: unknown) => [x, v]);
    const pairWith = Object.assign(() => undefined, { [FLINT_BUILTIN]: { name: 'test.pairWith', args: [1] } });
    const spec = captureClosure(pairWith, { method: 'map' });
    expect(spec.builtin).toEqual({ name: 'test.pairWith', args: [1] });
    expect(spec.src).toBe('');
    expect(roundTrip<(x: unknown) => unknown>(pairWith)('a')).toEqual(['a', 1]);
    const unknown = Object.assign(() => undefined, { [FLINT_BUILTIN]: { name: 'nope', args: [] } });
    expect(codeOf(() => roundTrip(unknown))).toBe('CLOSURE_INVALID');
  });
});

describe('free-variable analysis', () => {
  it('accepts parameters, locals and globals', () => {
    expect(freeVars((x: number) => Math.max(x, 0) + parseInt('1') + Number.MAX_SAFE_INTEGER)).toEqual([]);
    expect(freeVars((s: string) => JSON.parse(s) ?? new Map([[1, new Set()]]))).toEqual([]);
    expect(freeVars(() => [undefined, NaN, Infinity, globalThis, console, new TextEncoder(), crypto, performance])).toEqual([]);
  });

  it("accepts Node's globals and marks the closure as needing a Node executor", () => {
    expect(freeVars(new Function('return process.pid'))).toEqual([]);
    expect(captureClosure(new Function('return process.pid'), { method: 'map' }).requires).toEqual(['node']);
    expect(captureClosure(new Function('s', 'return Buffer.from(s)'), { method: 'map' }).requires).toEqual(['node']);
    const viaEnvFunction = captureClosure((s: string) => toBytes(s), { method: 'map', env: { toBytes: new Function('s', 'return Buffer.from(s)') } });
    expect(viaEnvFunction.requires).toEqual(['node']);
    expect(captureClosure((x: number) => x + 1, { method: 'map' }).requires).toBeUndefined();
    // An env entry named like a Node global is the user's value, not Node's.
    expect(captureClosure(new Function('return process.pid'), { method: 'map', env: { process: { pid: 1 } } }).requires).toBeUndefined();
  });

  it('rejects host globals that exist in neither every executor nor Node', () => {
    expect(freeVars(new Function('return window.x'))).toEqual(['window']);
    expect(freeVars(new Function('return require("fs")'))).toEqual(['require']);
  });

  // Sources are built with new Function so the test runner cannot rewrite them.
  const cases: Array<[string, string, string[]]> = [
    ['x', 'return x + y', ['y']],
    ['', 'let a = 1; { let b = a; } return b', ['b']],
    ['', 'var v = 1; if (true) { var w = v; } return w', []],
    ['', 'if (true) { function inner() { return 1; } } return typeof inner', ['inner']],
    ['', 'return hoisted(); function hoisted() { return k; }', ['k']],
    ['{ a, b: [c, ...d], ...rest }', 'return a + c + d.length + Object.keys(rest).length + e', ['e']],
    ['[x = y, { z } = {}]', 'return x + z', ['y']],
    ['x', 'try { throw x } catch ({ message: m }) { return m + q } finally { r }', ['q', 'r']],
    ['x', 'try { throw x } catch (e) { return e } ', []],
    ['', 'try {} catch (e) {} return e', ['e']],
    ['xs', 'let s = 0; for (const x of xs) s += x; for (let i = 0; i < 3; i++) s += i; return s + i', ['i']],
    ['o', 'for (const k in o) {} return k', ['k']],
    ['o', 'for (var k in o) {} return k', []],
    ['o', 'return o.notAVariable.deeper + o[computed]', ['computed']],
    ['o', 'return o?.a?.[key]?.(arg)', ['key', 'arg']],
    ['', 'return { key: 1, [dyn]: 2, short }', ['dyn', 'short']],
    ['', 'return `a${b}c${`${d}`}`', ['b', 'd']],
    ['', 'return tag`x${y}`', ['tag', 'y']],
    ['xs', 'return [...xs, ...ys]', ['ys']],
    ['', 'outer: for (;;) { inner: for (;;) { break outer; continue inner; } }', []],
    ['', 'class A extends Base { static s = helper; #p = 1; m() { return this.#p + A.s + arguments.length; } } return A', ['Base', 'helper']],
    ['', 'const C = class Named { m() { return Named; } }; return Named', ['Named']],
    ['', 'class P { static { var sv = 1; } } return sv', ['sv']],
    ['', 'return function () { return arguments[0]; }', []],
    ['', 'return () => arguments', []],
    ['', 'return new.target', []],
    ['x', 'switch (x) { case 1: let s = 1; return s; case t: return s; } return s', ['t', 's']],
    ['', 'const f = (a, b = a + c) => a + b; return f', ['c']],
    ['x', 'x = 1; y = 2; [z] = [3]; ({ w } = {}); return x', ['y', 'z', 'w']],
    ['x', 'x.count++; counter++; return x', ['counter']],
    ['', 'const inner = (x) => (y) => x + y + z; return inner', ['z']],
    ['', 'let shadow = 1; const f = (shadow) => shadow; return f(2) + shadow', []],
    ['a', 'return typeof notDefined === "undefined"', ['notDefined']],
    ['', 'return eval("1")', ['eval']],
  ];
  for (const [params, body, expected] of cases) {
    it(`(${params}) { ${body} } → [${expected.join(', ')}]`, () => {
      const fn = params ? new Function(params, body) : new Function(body);
      expect(freeVars(fn).sort()).toEqual([...expected].sort());
    });
  }

  it('an arrow at the top level may not use arguments (it would see the factory\'s)', () => {
    expect(freeVars(new Function('return () => arguments')())).toEqual(['arguments']);
  });

  it('names every missing variable and shows the fix', () => {
    let err: (FlintError & { variables: string[] }) | undefined;
    try {
      captureClosure(new Function('return w => w.length >= min')(), { method: 'filter' });
    } catch (e) {
      err = e as typeof err;
    }
    expect(err).toBeInstanceOf(FlintError);
    expect(err!.code).toBe('CLOSURE_FREE_VARIABLE');
    expect(err!.variables).toEqual(['min']);
    expect(err!.message).toBe(
      'rdd.filter: the function uses "min", which is not a parameter, a JavaScript global or an env entry. ' +
        'Functions travel to executors as source text, so captured values must be passed explicitly:\n' +
        '  rdd.filter(w => w.length >= min, { env: { min } })',
    );
    try {
      captureClosure(new Function('return x => x * k + offset + scale')(), { method: 'map', env: { k: 2 } });
    } catch (e) {
      err = e as typeof err;
    }
    expect(err!.variables).toEqual(['offset', 'scale']);
    expect(err!.message).toContain('uses "offset" and "scale", which are not parameters');
    expect(err!.message).toContain('{ env: { k, offset, scale } }');
  });

  it('truncates long sources in the message', () => {
    expect.assertions(2);
    const long = new Function(`return x => ${Array.from({ length: 40 }, (_, i) => `x.p${i}`).join(' + ')} + missing`)();
    try {
      captureClosure(long, { method: 'map' });
    } catch (e) {
      const line = (e as Error).message.split('\n')[1]!;
      expect(line).toMatch(/^ {2}rdd\.map\(x => x\.p0 \+ .*\.\.\., \{ env: \{ missing \} \}\)$/);
      expect(line.length).toBeLessThan(120);
    }
  });

  it('flags names that a test runner or bundler inserted', () => {
    const err = (() => {
      try {
        captureClosure(new Function('return x => __vite_ssr_import_0__.f(x)')(), { method: 'map' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toContain('bundler or test runner');
  });
});

describe('env', () => {
  it('passes values that survive encoding: Map, Set, Date, bigint, Uint8Array, typed arrays, nested', () => {
    const env = {
      m: new Map<unknown, unknown>([['a', 1], [2, [3n]]]),
      s: new Set(['x', 'y']),
      d: new Date(1234567890123),
      big: 2n ** 100n,
      small: 5n,
      bytes: new Uint8Array([1, 2, 255]),
      floats: new Float64Array([1.5, -0]),
      nested: { list: [1, 'two', null, undefined, { deep: true }], neg: -0 },
    };
    const f = roundTrip<() => typeof env>(new Function('return () => ({ m, s, d, big, small, bytes, floats, nested })')(), env);
    const out = f();
    expect(out.m).toEqual(env.m);
    expect(out.m).toBeInstanceOf(Map);
    expect(out.s).toEqual(env.s);
    expect(out.d).toBeInstanceOf(Date);
    expect(out.d.getTime()).toBe(1234567890123);
    expect(out.big).toBe(2n ** 100n);
    expect(out.small).toBe(5n);
    expect(out.bytes).toEqual(env.bytes);
    expect(out.bytes.constructor).toBe(Uint8Array);
    expect(out.floats).toBeInstanceOf(Float64Array);
    expect(Object.is(out.floats[1], -0)).toBe(true);
    expect(out.nested).toEqual(env.nested);
    expect(Object.is(out.nested.neg, -0)).toBe(true);
  });

  it('uses env entries inside the closure', () => {
    const f = roundTrip<(w: string) => boolean>(new Function('return w => w.length >= min')(), { min: 3 }, noBroadcasts, 'filter');
    expect(['a', 'abc', 'abcd'].filter(f)).toEqual(['abc', 'abcd']);
  });

  it('env functions are callable, see other env names and each other', () => {
    const env = {
      factor: 10,
      scale: new Function('return x => x * factor')(),
      twice: new Function('return function twice(x) { return scale(scale(x)); }')(),
      isEven: new Function('return n => n === 0 ? true : isOdd(n - 1)')(),
      isOdd: new Function('return n => n === 0 ? false : isEven(n - 1)')(),
      abs: Math.abs,
    };
    const f = roundTrip<(x: number) => unknown[]>(new Function('return x => [twice(x), isEven(x), abs(-x)]')(), env);
    expect(f(3)).toEqual([300, false, 3]);
  });

  it('env functions are checked for free variables too', () => {
    let err: (FlintError & { variables: string[] }) | undefined;
    try {
      captureClosure(new Function('return x => helper(x)')(), { method: 'map', env: { helper: new Function('return x => x + missing')() } });
    } catch (e) {
      err = e as typeof err;
    }
    expect(err?.code).toBe('CLOSURE_FREE_VARIABLE');
    expect(err?.variables).toEqual(['missing']);
    expect(err?.message).toContain('env function "helper" uses "missing"');
    expect(err?.message).toContain('rdd.map(x => helper(x), { env: { helper, missing } })');
  });

  it('rejects unsupported env values naming the key and the type', () => {
    class Point {
      constructor(readonly x: number) {}
    }
    const bad: Array<[unknown, RegExp]> = [
      [new Point(1), /env\.p is a Point instance/],
      [Symbol('s'), /env\.p is a symbol/],
      [new WeakMap(), /env\.p is a WeakMap instance/],
      [{ inner: [1, new Point(2)] }, /env\.p\.inner\[1\] is a Point instance/],
      [{ f: () => 1 }, /functions are only allowed as top-level/],
    ];
    for (const [value, re] of bad) {
      let err: FlintError | undefined;
      try {
        captureClosure(new Function('return () => p')(), { method: 'map', env: { p: value } });
      } catch (e) {
        err = e as FlintError;
      }
      expect(err?.code).toBe('INVALID_ARGUMENT');
      expect(err?.message).toMatch(re);
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(codeOf(() => captureClosure(new Function('return () => p')(), { method: 'map', env: { p: cyclic } }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => captureClosure((x: number) => x, { method: 'map', env: new Map() as never }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => captureClosure((x: number) => x, { method: 'map', env: { 'not valid': 1 } }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => captureClosure((x: number) => x, { method: 'map', env: { arguments: 1 } }))).toBe('INVALID_ARGUMENT');
  });

  it('broadcasts become placeholders resolved on the executor', () => {
    const b = { [BROADCAST_ID]: 7, get value(): never { throw new Error('driver value must not be read'); } };
    const spec = captureClosure(new Function('return x => x + b.value.offset + k')(), { method: 'map', env: { b, k: 1 } });
    expect(spec.broadcasts).toEqual([7]);
    const seen: number[] = [];
    const f = instantiateClosure<(x: number) => number>(spec, (id) => {
      seen.push(id);
      return { offset: 100 };
    });
    expect(f(1)).toBe(102);
    expect(seen).toEqual([7]);
    expect(captureClosure((x: number) => x, { method: 'map' }).broadcasts).toEqual([]);
  });

  it('without env the spec carries no env bytes', () => {
    const spec = captureClosure((x: number) => x + 1, { method: 'map' });
    expect(spec.env).toBeNull();
    expect(spec.broadcasts).toEqual([]);
  });
});

describe('instantiateClosure', () => {
  it('compiles a stage\'s closure once (cache by source and env names)', () => {
    const fn = new Function('return x => x * k + 0.5')();
    const spec1 = captureClosure(fn, { method: 'map', env: { k: 2 } });
    const before = closureCompileCount();
    const f1 = instantiateClosure<(x: number) => number>(spec1, noBroadcasts);
    const afterFirst = closureCompileCount();
    const spec2 = captureClosure(fn, { method: 'map', env: { k: 3 } });
    const f2 = instantiateClosure<(x: number) => number>(structuredClone(spec2), noBroadcasts);
    const f3 = instantiateClosure<(x: number) => number>(spec1, noBroadcasts);
    expect(afterFirst - before).toBeLessThanOrEqual(1);
    expect(closureCompileCount()).toBe(afterFirst);
    expect([f1(1), f2(1), f3(1)]).toEqual([2.5, 3.5, 2.5]);
    expect(f1).not.toBe(f3); // each task gets its own function (and env values)
  });

  it('errors thrown by the function are the user\'s own, with a readable frame', () => {
    const f = roundTrip<(x: number) => never>(new Function('return x => { throw new RangeError("bad record " + x) }')(), undefined, noBroadcasts, 'flatMap');
    let err: unknown;
    try {
      f(3);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toBe('bad record 3');
    expect((err as Error).stack).toContain('flint-closure-flatMap.js');
  });

  it('a spec that does not compile is CLOSURE_INVALID', () => {
    const spec: ClosureSpec = { src: 'x => x +', env: null, broadcasts: [], method: 'map' };
    expect(codeOf(() => instantiateClosure(spec, noBroadcasts))).toBe('CLOSURE_INVALID');
  });

  it('behaves like the original function (property)', () => {
    const fns: Array<(x: number, y: string) => unknown> = [
      (x) => x * 2,
      (x, y) => `${y}:${x}`,
      (x, y) => [x, y.length, y.toUpperCase()],
      function (x) { return { x, sq: x * x, neg: -x }; },
      (x, y) => { let acc = 0; for (const ch of y) acc = (acc * 31 + ch.charCodeAt(0)) | 0; return acc ^ x; },
      (x, y) => y.split('').reverse().join('') + String(x),
      (x) => [Math.floor(x), Math.sign(x), Number.isFinite(x), Object.is(x, -0)],
      (x, y) => { try { return JSON.parse(y); } catch { return x; } },
      ({ valueOf }: number, y) => typeof valueOf + y,
      (x, y) => { const { length, ...rest } = { length: y.length, x }; return [length, rest]; },
      (x, y) => new Map([[y, x]]).get(y),
      (x) => { class Acc { total = 0; add(v: number) { this.total += v; return this; } } return new Acc().add(x).add(1).total; },
    ];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: fns.length - 1 }), fc.double(), fc.string(), (i, x, y) => {
        const f = fns[i]!;
        const g = roundTrip<typeof f>(f);
        expect(g(x, y)).toEqual(f(x, y));
      }),
      { numRuns: 300 },
    );
  });
});
