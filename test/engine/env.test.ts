/**
 * What a closure receives through env on worker-thread executors: values rebuilt as the same types,
 * withEnv closures whose names the type checker sees, and advice that works for Node's globals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flint, FlintError, withEnv } from 'flint';

// Variables that closures receive through `env`, declared for the type checker.
declare const s: Set<string>;
declare const m: Map<string, number>;
declare const d: Date;
declare const re: RegExp;
declare const HOME: string;
declare const k: number;

let fl: Flint;
beforeAll(async () => {
  fl = await Flint.start({ master: 'local[2]', appName: 'env' });
});
afterAll(async () => {
  await fl.stop();
});

function errorOf(f: () => unknown): FlintError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(FlintError);
    return err as FlintError;
  }
  throw new Error('expected a FlintError');
}

describe('env values on executors', () => {
  it('Set, Map, Date and RegExp (source, flags, lastIndex) arrive as the same types', async () => {
    const pattern = /b(\d)/gy;
    pattern.lastIndex = 2;
    const env = { s: new Set(['a', 'c']), m: new Map([['a', 1]]), d: new Date(Date.UTC(2031, 4, 6)), re: pattern };
    const seen = await fl
      .parallelize(['a', 'b'], 2)
      .map(
        (x) => ({
          x,
          types: [s instanceof Set, m instanceof Map, d instanceof Date, re instanceof RegExp],
          inSet: s.has(x),
          fromMap: m.get(x) ?? null,
          year: d.getUTCFullYear(),
          regexp: [re.source, re.flags, re.lastIndex],
        }),
        { env },
      )
      .collect();
    expect(seen).toEqual([
      { x: 'a', types: [true, true, true, true], inSet: true, fromMap: 1, year: 2031, regexp: ['b(\\d)', 'gy', 2] },
      { x: 'b', types: [true, true, true, true], inSet: false, fromMap: null, year: 2031, regexp: ['b(\\d)', 'gy', 2] },
    ]);
    // A sticky match starts at lastIndex: it finds "b7" only if lastIndex came along.
    expect(await fl.parallelize(['xxb7'], 1).map((t) => re.exec(t)?.[1] ?? null, { env: { re: pattern } }).collect()).toEqual(['7']);
  });

  it('what cannot be rebuilt is refused when the transformation is created, listing what can', () => {
    class Point {
      x = 1;
    }
    const err = errorOf(() => fl.parallelize([1]).map((x) => x, { env: { p: new Point() } }));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain('a Point instance');
    expect(err.message).toContain('RegExp');
  });
});

describe('withEnv', () => {
  it('gives the closure its env through the factory parameters, on every executor', async () => {
    const stop = fl.broadcast(new Set(['the', 'and']));
    const shout = (w: string) => w.toUpperCase();
    const rdd = fl.parallelize(['the', 'cat', 'and', 'a', 'horse'], 3);
    const kept = rdd.filter(withEnv({ min: 3, stop }, ({ min, stop }) => (w) => w.length >= min && !stop.value.has(w)));
    expect(await kept.collect()).toEqual(['cat', 'horse']);
    expect(await kept.map(withEnv({ shout }, ({ shout }) => (w) => shout(w))).collect()).toEqual(['CAT', 'HORSE']);
    // Beside the env option, and inside the functions of a per-key shuffle.
    const pairs = rdd.map(withEnv({ n: 1 }, ({ n }) => (w) => [w.length, n * k] as [number, number]), { env: { k: 2 } });
    expect((await pairs.reduceByKey(withEnv({ twice: 2 }, ({ twice }) => (a, b) => a + b * twice / twice)).collect()).sort()).toEqual([[1, 2], [3, 6], [5, 2]]);
    expect(await rdd.fold('', withEnv({ sep: '|' }, ({ sep }) => (a, b) => (a && b ? a + sep + b : a + b)))).toMatch(/^[a-z|]+$/);
  });

  it('is still the function the factory returned, on the driver', () => {
    const f = withEnv({ k: 10 }, ({ k }) => (x: number) => x * k);
    expect(f(4)).toBe(40);
  });

  it('checks names: the factory may use only its parameters, env and globals; two values may not share a name', () => {
    const outside = 5;
    const err = errorOf(() => fl.parallelize([1]).map(withEnv({ k: 1 }, ({ k }) => (x: number) => x * k + outside)));
    expect(err.code).toBe('CLOSURE_FREE_VARIABLE');
    expect(err.message).toContain('"outside"');
    const clash = errorOf(() => fl.parallelize([1]).map(withEnv({ k: 1 }, ({ k }) => (x: number) => x * k), { env: { k: 2 } }));
    expect(clash.code).toBe('INVALID_ARGUMENT');
    expect(clash.message).toContain('"k"');
    expect(errorOf(() => withEnv({ 'not a name': 1 }, () => (x: number) => x)).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => withEnv({ k: 1 }, () => 3 as never)).message).toContain('must return the function');
  });
});

describe("Node's globals in closures", () => {
  it('process and Buffer are accepted (API.md) and run on Node executors; process.env there is the executor\'s', async () => {
    expect(await fl.parallelize(['x']).map(new Function('return (x) => x + typeof process.pid')()).collect()).toEqual(['xnumber']);
    expect(await fl.parallelize(['ab']).map(new Function('return (x) => Buffer.from(x).length')()).collect()).toEqual([2]);
    // The driver's value travels through env, as the docs advise for driver-side settings.
    expect(await fl.parallelize(['x']).map((x) => x + HOME, { env: { HOME: process.env.HOME } }).collect()).toEqual([`x${process.env.HOME}`]);
  });

  it('window, require and document get advice of their own, not an env entry that would be refused', () => {
    expect(errorOf(() => fl.parallelize(['x']).map(new Function('return (x) => window.name')())).message).toContain('globalThis');
    const req = errorOf(() => fl.parallelize(['x']).map(new Function('return (x) => require("fs")')()));
    expect(req.message).toContain('cannot load modules on an executor');
    expect(req.message).not.toContain('{ env: { require } }');
  });
});
