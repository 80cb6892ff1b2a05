import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flint, FlintError } from 'flint';

let fl: Flint;
let dir: string;
beforeAll(async () => {
  fl = await Flint.start({ master: 'local[2]' });
  dir = mkdtempSync(join(tmpdir(), 'flint-files-'));
});
afterAll(async () => {
  await fl.stop();
});

describe('textFile', () => {
  it('reads a file, a directory and a glob', async () => {
    const d = join(dir, 'many');
    mkdirSync(d);
    writeFileSync(join(d, 'a.txt'), 'one\ntwo\n');
    writeFileSync(join(d, 'b.txt'), 'three\r\nfour');
    writeFileSync(join(d, '_hidden'), 'skipped\n');
    writeFileSync(join(d, 'c.log'), 'five\n');
    expect(await fl.textFile(join(d, 'a.txt')).collect()).toEqual(['one', 'two']);
    expect((await fl.textFile(d).collect()).sort()).toEqual(['five', 'four', 'one', 'three', 'two']);
    expect((await fl.textFile(join(d, '*.txt')).collect()).sort()).toEqual(['four', 'one', 'three', 'two']);
  });

  it('splits a large file into line-aligned byte ranges: every line exactly once', async () => {
    const lines = Array.from({ length: 60_000 }, (_, i) => `line ${i} ${'é'.repeat(i % 7)}${i % 5 === 0 ? '\r' : ''}`);
    const path = join(dir, 'big.txt');
    writeFileSync(path, lines.join('\n') + '\n');
    const rdd = fl.textFile(path, 9);
    expect(rdd.getNumPartitions()).toBeGreaterThanOrEqual(9);
    const got = await rdd.collect();
    expect(got).toEqual(lines.map((l) => l.replace(/\r$/, '')));
  });

  it('decodes invalid UTF-8 as U+FFFD', async () => {
    const path = join(dir, 'bad.txt');
    writeFileSync(path, Buffer.from([0x61, 0xff, 0x62, 0x0a, 0xc3, 0x28, 0x0a]));
    expect(await fl.textFile(path).collect()).toEqual(['a\uFFFDb', '\uFFFD(']);
  });

  it('reports a missing path as INPUT_NOT_FOUND naming it', async () => {
    const missing = join(dir, 'nope', '*.txt');
    const err = (await fl.textFile(missing).count().catch((e: unknown) => e)) as FlintError;
    expect(err).toBeInstanceOf(FlintError);
    expect(err.code).toBe('INPUT_NOT_FOUND');
    expect(err.message).toContain(missing);
  });

  it('wholeTextFiles yields [path, content]', async () => {
    const d = join(dir, 'whole');
    mkdirSync(d);
    writeFileSync(join(d, 'x.txt'), 'hello\nworld\n');
    writeFileSync(join(d, 'y.txt'), 'ünïcode');
    const got = new Map(await fl.wholeTextFiles(d).collect());
    expect(got).toEqual(new Map([[join(d, 'x.txt'), 'hello\nworld\n'], [join(d, 'y.txt'), 'ünïcode']]));
  });
});

describe('saveAsTextFile', () => {
  it('writes part files and _SUCCESS, readable again by textFile', async () => {
    const out = join(dir, 'out1');
    await fl.parallelize(['a', 'b', 'c', 'd', 'e'], 3).saveAsTextFile(out);
    expect(readdirSync(out).sort()).toEqual(['_SUCCESS', 'part-00000', 'part-00001', 'part-00002']);
    expect(readFileSync(join(out, 'part-00000'), 'utf8')).toBe('a\n');
    expect((await fl.textFile(out).collect()).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('writes non-string records as JSON lines', async () => {
    const out = join(dir, 'out-json');
    await fl.parallelize([['k', 1], { a: [true, null] }, 7], 1).saveAsTextFile(out);
    expect(readFileSync(join(out, 'part-00000'), 'utf8')).toBe('["k",1]\n{"a":[true,null]}\n7\n');
  });

  it('refuses an existing directory with OUTPUT_EXISTS', async () => {
    const out = join(dir, 'exists');
    mkdirSync(out);
    const err = (await fl.parallelize([1]).saveAsTextFile(out).catch((e: unknown) => e)) as FlintError;
    expect(err.code).toBe('OUTPUT_EXISTS');
    expect(err.message).toContain(out);
  });

  it('leaves no output behind when the job fails', async () => {
    const out = join(dir, 'failed');
    const err = (await fl
      .parallelize([1, 2, 3, 4, 5, 6], 3)
      .map((x) => {
        if (x === 6) throw new Error('no six');
        return x;
      })
      .saveAsTextFile(out)
      .catch((e: unknown) => e)) as FlintError;
    expect(err.code).toBe('JOB_ABORTED');
    expect(existsSync(out)).toBe(false);
  });
});
