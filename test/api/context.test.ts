/** Context methods, text input and output, broadcasts and FlintError codes. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flint, FlintError } from 'flint';
import { RefRDD, canonicalSort } from '../reference/rdd-reference.js';
import { expectSamePartitions, flintErrorOf, startFlint } from './helpers.js';

// Variables that closures receive through `env`, declared for the type checker.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const bv: { value: any };

let fl: Flint;
let dir: string;
beforeAll(async () => {
  fl = await startFlint('local[2]');
  dir = mkdtempSync(join(tmpdir(), 'flint-api-context-'));
});
afterAll(async () => {
  await fl.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('creating RDDs', () => {
  it('defaultParallelism is N for local[N]', () => {
    expect(fl.defaultParallelism).toBe(2);
  });

  it('parallelize slices as Spark does, from arrays and other iterables', async () => {
    for (const k of [1, 2, 3, 5, 8]) {
      const data = Array.from({ length: 13 }, (_, i) => `r${i}`);
      await expectSamePartitions(fl.parallelize(data, k), RefRDD.parallelize(data, k));
    }
    expect(await fl.parallelize(new Set([3, 1, 2]), 2).collect()).toEqual([3, 1, 2]);
    function* gen() {
      for (let i = 0; i < 5; i++) yield i * i;
    }
    expect(await fl.parallelize(gen(), 2).glom().collect()).toEqual([[0, 1], [4, 9, 16]]);
    await expectSamePartitions(fl.parallelize([], 3), RefRDD.parallelize([], 3));
    const values = [null, true, false, 0, -1.5, 'ü', [1, [2]], { a: { b: null } }, new Uint8Array([1, 2])];
    expect(await fl.parallelize(values, 3).collect()).toEqual(values);
  });

  it('range', async () => {
    // sc.range(5).collect() == [0, 1, 2, 3, 4]; sc.range(2, 4).collect() == [2, 3]; sc.range(1, 7, 2).collect() == [1, 3, 5]
    expect(await fl.range(5).collect()).toEqual([0, 1, 2, 3, 4]);
    expect(await fl.range(2, 4).collect()).toEqual([2, 3]);
    expect(await fl.range(1, 7, 2).collect()).toEqual([1, 3, 5]);
    expect(await fl.range(10, 0, -3).collect()).toEqual([10, 7, 4, 1]);
    expect(await fl.range(3, 3).collect()).toEqual([]);
    for (const [s, e, st, k] of [[0, 17, 1, 4], [5, 40, 3, 3], [20, -5, -2, 6], [0, 3, 1, 5]] as const) {
      await expectSamePartitions(fl.range(s, e, st, k), RefRDD.range(s, e, st, k));
    }
    expect(fl.range(100).getNumPartitions()).toBe(fl.defaultParallelism);
  });

  it('union of several RDDs and emptyRDD', async () => {
    const a = fl.parallelize([1, 2, 3], 2);
    const b = fl.range(10, 13, 1, 1);
    const c = fl.parallelize([7], 3);
    await expectSamePartitions(fl.union([a, b, c]), RefRDD.union([RefRDD.parallelize([1, 2, 3], 2), RefRDD.range(10, 13, 1, 1), RefRDD.parallelize([7], 3)]));
    const empty = fl.emptyRDD<number>();
    expect(empty.getNumPartitions()).toBe(0);
    expect(await empty.collect()).toEqual([]);
    expect(await empty.count()).toBe(0);
    expect(await fl.union([empty, a]).collect()).toEqual([1, 2, 3]);
    expect(await empty.map((x) => x + 1).count()).toBe(0);
    expect(await fl.union([empty, empty]).isEmpty()).toBe(true);
  });
});

describe('text files', () => {
  it('saveAsTextFile then textFile round trip', async () => {
    const out = join(dir, 'saved');
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i} ü`);
    await fl.parallelize(lines, 4).saveAsTextFile(out);
    const files = readdirSync(out).sort();
    expect(files).toContain('_SUCCESS');
    expect(files.filter((f) => f.startsWith('part-')).length).toBe(4);
    expect(await fl.textFile(out).collect()).toEqual(lines);
    expect(await fl.textFile(join(out, 'part-*')).count()).toBe(50);
    const byPart = RefRDD.parallelize(lines, 4).partitions;
    expect(readFileSync(join(out, 'part-00001'), 'utf8')).toBe(byPart[1]!.map((l) => `${l}\n`).join(''));
  });

  it('saveAsTextFile writes non-strings with String()', async () => {
    const out = join(dir, 'numbers');
    await fl.parallelize([1, 2.5, 3], 2).saveAsTextFile(out);
    expect(await fl.textFile(out).collect()).toEqual(['1', '2.5', '3']);
  });

  it('saveAsTextFile writes every record type readably (docs/API.md, "Text output")', async () => {
    const out = join(dir, 'typed');
    const records: unknown[] = [
      new Map<unknown, unknown>([['a', 1], ['b', [2, 3]]]),
      new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 6)),
      ['key', new Date(0)],
      new Set(['x', 1]),
      2n ** 64n,
      ['big', 2n ** 64n],
      -0,
      { nested: new Map([[1, new Set([true])]]), missing: undefined },
    ];
    await fl.parallelize(records, 2).saveAsTextFile(out);
    expect(await fl.textFile(out).collect()).toEqual([
      'Map {"a" => 1, "b" => [2,3]}',
      '2030-01-02T03:04:05.006Z',
      '["key",1970-01-01T00:00:00.000Z]',
      'Set {"x", 1}',
      '18446744073709551616',
      '["big",18446744073709551616n]',
      '-0',
      '{"nested":Map {1 => Set {true}},"missing":undefined}',
    ]);
  });

  it('saving to an existing path fails with OUTPUT_EXISTS', async () => {
    const out = join(dir, 'exists');
    mkdirSync(out);
    const err = await flintErrorOf(fl.parallelize(['x']).saveAsTextFile(out));
    expect(err.code).toBe('OUTPUT_EXISTS');
  });

  it('textFile with minPartitions and over a directory', async () => {
    const src = join(dir, 'input');
    mkdirSync(src);
    writeFileSync(join(src, 'a.txt'), 'alpha\nbeta\ngamma\n');
    writeFileSync(join(src, 'b.txt'), 'delta\nepsilon');
    const rdd = fl.textFile(src, 3);
    expect(rdd.getNumPartitions()).toBeGreaterThanOrEqual(2);
    expect(canonicalSort(await rdd.collect())).toEqual(['alpha', 'beta', 'delta', 'epsilon', 'gamma']);
    expect(await fl.textFile(join(src, 'a.txt')).collect()).toEqual(['alpha', 'beta', 'gamma']);
    const wc = fl.textFile(src).flatMap((l) => l.split('')).map((ch) => [ch, 1] as [string, number]).reduceByKey('sum');
    expect(new Map(await wc.collect()).get('a')).toBe(6);
  });

  it('wholeTextFiles yields [path, content]', async () => {
    const src = join(dir, 'whole');
    mkdirSync(src);
    writeFileSync(join(src, '1.txt'), '1');
    writeFileSync(join(src, '2.txt'), 'two\nlines');
    const got = canonicalSort(await fl.wholeTextFiles(src).collect());
    expect(got.map(([p]) => p.endsWith('1.txt') || p.endsWith('2.txt'))).toEqual([true, true]);
    expect(got.map(([, c]) => c)).toEqual(['1', 'two\nlines']);
    expect(got[0]![0]).toContain(src);
  });

  it('a missing input fails with INPUT_NOT_FOUND', async () => {
    const err = await flintErrorOf(async () => fl.textFile(join(dir, 'nope')).collect());
    expect(err.code).toBe('INPUT_NOT_FOUND');
    const err2 = await flintErrorOf(async () => fl.wholeTextFiles(join(dir, 'nope2')).collect());
    expect(err2.code).toBe('INPUT_NOT_FOUND');
  });
});

describe('broadcast', () => {
  it('value is readable on the driver and through env on executors', async () => {
    const b = fl.broadcast({ factor: 3, names: ['x', 'y'] });
    expect(b.value).toEqual({ factor: 3, names: ['x', 'y'] });
    expect(await fl.parallelize([0, 1], 2).map((i) => bv.value.names[i] + bv.value.factor, { env: { bv: b } }).collect()).toEqual(['x3', 'y3']);
    b.unpersist();
    // Unpersisted copies are shipped again when a later task needs them.
    expect(await fl.parallelize([1, 2], 2).map((x) => x * bv.value.factor, { env: { bv: b } }).collect()).toEqual([3, 6]);
    expect(b.value.factor).toBe(3);
  });

  it('destroy makes later use an error', async () => {
    const b = fl.broadcast([1, 2, 3]);
    expect(await fl.parallelize([0, 2]).map((i) => bv.value[i], { env: { bv: b } }).collect()).toEqual([1, 3]);
    b.destroy();
    let thrown: unknown;
    try {
      void b.value;
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(FlintError);
    expect((thrown as FlintError).code).toBe('BROADCAST_DESTROYED');
    const err = await flintErrorOf(fl.parallelize([0, 2]).map((i) => bv.value[i], { env: { bv: b } }).collect());
    expect(err.message).toMatch(/destroyed/);
  });
});

describe('FlintError codes', () => {
  it('CLOSURE_FREE_VARIABLE names the variable when the transformation is created', async () => {
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const outside = 5;
    const err = await flintErrorOf(() => fl.parallelize([1]).map((x) => x + outside));
    expect(err.code).toBe('CLOSURE_FREE_VARIABLE');
    expect(err.message).toContain('outside');
    expect((await flintErrorOf(() => fl.parallelize([['a', 1]] as [string, number][]).reduceByKey((a, b) => a + b + outside))).code).toBe('CLOSURE_FREE_VARIABLE');
    expect((await flintErrorOf(() => fl.parallelize([1]).filter((x) => x > outside))).code).toBe('CLOSURE_FREE_VARIABLE');
  });

  it('a throwing user function fails the job with its message and stack', async () => {
    const err = await flintErrorOf(
      fl.parallelize([1, 2, 3], 3).map(function failingUserFunction(x) {
        if (x === 2) throw new RangeError('user code failed on 2');
        return x;
      }).collect(),
    );
    expect(['TASK_FAILED', 'JOB_ABORTED']).toContain(err.code);
    expect(err.message).toContain('user code failed on 2');
    const cause = err.cause as Error | undefined;
    const stacks = `${err.stack ?? ''}\n${cause?.stack ?? ''}`;
    expect(stacks).toContain('failingUserFunction');
  });

  it('INVALID_ARGUMENT for bad arguments', async () => {
    expect((await flintErrorOf(() => fl.parallelize([1], 0))).code).toBe('INVALID_ARGUMENT');
    expect((await flintErrorOf(() => fl.range(0, 10, 0))).code).toBe('INVALID_ARGUMENT');
    expect((await flintErrorOf(() => fl.parallelize([1]).coalesce(0))).code).toBe('INVALID_ARGUMENT');
    expect((await flintErrorOf(() => fl.parallelize([1]).sample(false, 2))).code).toBe('INVALID_ARGUMENT');
    expect((await flintErrorOf(() => fl.parallelize([1]).take(-1))).code).toBe('INVALID_ARGUMENT');
    expect((await flintErrorOf(() => fl.parallelize([['a', 1]] as [string, number][]).reduceByKey('avg' as never))).code).toBe('INVALID_ARGUMENT');
  });

  it('CHECKPOINT_DIR_NOT_SET and CONTEXT_STOPPED', async () => {
    const own = await Flint.start({ master: 'local' });
    expect(own.defaultParallelism).toBe(1);
    expect((await flintErrorOf(() => own.parallelize([1]).checkpoint())).code).toBe('CHECKPOINT_DIR_NOT_SET');
    const rdd = own.parallelize([1, 2]);
    expect(await rdd.collect()).toEqual([1, 2]);
    await own.stop();
    expect(own.isStopped).toBe(true);
    expect((await flintErrorOf(() => own.parallelize([1]))).code).toBe('CONTEXT_STOPPED');
    expect((await flintErrorOf(rdd.collect())).code).toBe('CONTEXT_STOPPED');
    expect(existsSync(dir)).toBe(true);
  });

  it('an unknown master is INVALID_ARGUMENT', async () => {
    expect((await flintErrorOf(Flint.start({ master: 'spark://x' }))).code).toBe('INVALID_ARGUMENT');
  });
});
