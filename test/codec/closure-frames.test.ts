import { afterEach, describe, expect, it } from 'vitest';
import { captureClosure } from '../../host/codec/closure-capture.js';
import { mapClosureFrames, setSourceLocator, type SourcePosition } from '../../host/codec/closure-frames.js';
import { closureCompileCount, instantiateClosure } from '../../host/codec/closure-runtime.js';

/**
 * A user script: its functions are evaluated from its text, so their sources are exact slices of it
 * (as in a real script, and unlike functions of this test file, which vite rewrites). The locator
 * finds sources in it; `original` plays the source map.
 */
function script(text: string, original?: (p: SourcePosition) => SourcePosition | null) {
  setSourceLocator({
    locate(src) {
      const i = text.indexOf(src);
      if (i < 0) return null;
      const before = text.slice(0, i);
      return { file: 'job.mjs', line: before.split('\n').length, column: i - before.lastIndexOf('\n') };
    },
    original: (p) => original?.(p) ?? null,
  });
  const lines = text.split('\n');
  return {
    fn: <F>(src: string): F => (0, eval)(`(${src})`) as F,
    /** line:column (1-based) of the first `needle` in the script. */
    at(needle: string): string {
      const i = lines.findIndex((l) => l.includes(needle));
      return `${i + 1}:${lines[i]!.indexOf(needle) + 1}`;
    },
  };
}

afterEach(() => setSourceLocator(null));

/** The frames of what `fn(arg)` throws after a round trip through its spec, mapped. */
function framesOf(fn: unknown, env: Record<string, unknown> | undefined, arg: unknown): string[] {
  const spec = captureClosure(fn, { method: 'map', env });
  const f = instantiateClosure<(x: unknown) => unknown>(structuredClone(spec), () => undefined);
  try {
    f(arg);
  } catch (err) {
    return mapClosureFrames((err as Error).stack!)
      .split('\n')
      .filter((l) => l.includes('job.') || l.includes('flint-closure-'))
      .map((l) => l.trim());
  }
  throw new Error('did not throw');
}

const FIRST = "(x) => { if (x > 1) throw new Error('first'); return x; }";
const BELOW = "(x) => {\n    const y = x * 2;\n    if (y > 1) throw new Error('below');\n    return y;\n  }";

describe('closure frames', () => {
  it("point at the user's line and column, on the function's first line and below it", () => {
    const s = script(`// job\nrdd.map(${FIRST});\nrdd.map(\n  ${BELOW}\n);\n`);
    expect(framesOf(s.fn(FIRST), undefined, 2)).toEqual([`at <anonymous> (job.mjs:${s.at("new Error('first')")})`]);
    expect(framesOf(s.fn(BELOW), undefined, 2)).toEqual([`at <anonymous> (job.mjs:${s.at("new Error('below')")})`]);
  });

  it('map frames of env functions and of methods (which keep their name), then apply the source map', () => {
    const check = "function check(x) {\n  if (x > 1) throw new RangeError('too big');\n  return x;\n}";
    const fix = 'fix(x) {\n    return check(x);\n  }';
    const s = script(`${check}\nconst o = {\n  ${fix},\n};\n`, (p) => ({ file: 'job.ts', line: p.line + 100, column: p.column }));
    const o = s.fn<{ fix: (x: number) => number }>(`{ ${fix} }`);
    const ts = (needle: string) => s.at(needle).replace(/^\d+/, (l) => String(Number(l) + 100));
    expect(framesOf(o.fix, { check: s.fn(check) }, 2)).toEqual([
      `at check (job.ts:${ts("new RangeError('too big')")})`,
      `at fix (job.ts:${ts('check(x);')})`,
    ]);
  });

  it('give a closure captured again at the same place the same name, so that executors compile it once', () => {
    const src = '(x) => x + 1';
    const s = script(`for (;;) rdd.map(${src});`);
    const specs = [0, 1].map(() => captureClosure(s.fn(src), { method: 'map' }));
    expect(specs[0]!.origin).toEqual(specs[1]!.origin);
    const before = closureCompileCount();
    for (const spec of specs) instantiateClosure(structuredClone(spec), () => undefined);
    expect(closureCompileCount() - before).toBe(1);
  });

  it('leave frames of sources not found alone, and drop those of Flint wrappers around a user function', () => {
    script('nothing to see here');
    expect(framesOf((0, eval)("(x) => { throw new Error('x'); }"), undefined, 1)).toEqual([
      expect.stringMatching(/^at eval \(flint-closure-map\.js:\d+:\d+\)$/),
    ]);

    const user = "(v) => { throw new Error('user'); }";
    const s = script(`rdd.foldByKey(0, ${user});`);
    // foldByKey's own wrapper calls the user's function, passed in env under a name of Flint's.
    const wrapper = (0, eval)('(v) => __flintF(v)');
    expect(framesOf(wrapper, { __flintF: s.fn(user) }, 1)).toEqual([`at <anonymous> (job.mjs:${s.at('new Error')})`]);
  });
});
