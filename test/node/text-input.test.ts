import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync, openSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlintError } from '../../host/errors.js';
import { httpSplitSource } from '../../host/exec/http-source.js';
import * as lineReader from '../../host/exec/line-reader.js';
import { fileByteSource } from '../../host/node/file-source.js';
import { serveDriverFiles, type FileServer } from '../../host/node/file-server.js';
import { FileGrants } from '../../host/node/file-grants.js';
import {
  planTextSplits,
  planWholeTextFiles,
  readTextSplit,
  readWholeTextFile,
} from '../../host/node/text-input.js';
import type { FileSplit } from '../../host/plan/sources.js';
import { startStaticServer, type StaticServer } from '../helpers/static-server.js';

let root: string;
let fileServer: FileServer;
let staticServer: StaticServer;
const grants = new FileGrants();
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'flint-text-input-'));
  fileServer = await serveDriverFiles(grants, { log: () => undefined });
  staticServer = await startStaticServer(root);
});
afterAll(async () => {
  await fileServer.close();
  await staticServer.close();
  rmSync(root, { recursive: true, force: true });
});

let fileCounter = 0;
function writeTemp(bytes: Uint8Array | string, name = `f${fileCounter++}.txt`): string {
  const path = join(root, name);
  writeFileSync(path, bytes);
  return path;
}

/**
 * The same split read three ways: from the local file, through the driver's file server (what a
 * remote executor does), and from another HTTP server honouring `Range` (a textFile URL).
 */
interface Reader {
  name: string;
  read(split: FileSplit, opts: lineReader.ReadTextSplitOptions): AsyncIterable<string[]>;
}
const readers: Reader[] = [
  { name: 'local file', read: (split, opts) => readTextSplit(split, opts) },
  {
    name: "driver's file server",
    read(split, opts) {
      grants.grantInput(split.path);
      const via = { url: `${fileServer.url}/file?path=${encodeURIComponent(split.path)}`, headers: { authorization: `Bearer ${fileServer.secret}` } };
      return lineReader.readTextSplit(httpSplitSource(split, via), split, opts);
    },
  },
  { name: 'HTTP server with Range', read: (split, opts) => readUrl('r', split, opts) },
  // Every split is read from byte 0 of the response, skipping to its start.
  { name: 'HTTP server ignoring Range', read: (split, opts) => readUrl('n', split, opts) },
  // A source may hand over fewer bytes than asked anywhere (an HTTP response ending at its window).
  { name: 'source giving short reads', read: (split, opts) => lineReader.readTextSplit(shortReads(fileByteSource(split.path)), split, opts) },
];

/** `source`, each read cut to a pseudo-random 1..asked bytes. */
function shortReads(source: lineReader.ByteSource): lineReader.ByteSource {
  let state = 7;
  return {
    size: () => source.size(),
    close: () => source.close(),
    read(into, position) {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return source.read(into.subarray(0, 1 + (state % into.length)), position);
    },
  };
}

function readUrl(mode: 'r' | 'n', split: FileSplit, opts: lineReader.ReadTextSplitOptions): AsyncIterable<string[]> {
  const url = `${staticServer.base}/${mode}/${encodeURIComponent(basename(split.path))}`;
  // Errors name the URL, as they do for textFile('http://…').
  return lineReader.readTextSplit(httpSplitSource({ ...split, path: url }), { ...split, path: url }, opts);
}

/** What the file means as lines, computed the obvious (whole-file) way. */
function referenceLines(bytes: Uint8Array): string[] {
  const text = new TextDecoder().decode(bytes);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

const paths = (groups: FileSplit[][]): string[][] => groups.map((g) => g.map((f) => f.path));

function expectFlintError(fn: () => unknown, code: string, messagePart?: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(FlintError);
  expect((thrown as FlintError).code).toBe(code);
  if (messagePart !== undefined) expect((thrown as FlintError).message).toContain(messagePart);
}

const enc = new TextEncoder();
const piece = fc.oneof(
  fc.string({ maxLength: 8 }).map((s) => enc.encode(s)),
  fc.constantFrom('é', '€', '😀', 'ß', '日本', '\r', '\r\r', '\uFEFF').map((s) => enc.encode(s)),
  // Invalid UTF-8: stray continuation, truncated sequences, bytes never valid, a bare BOM.
  fc.constantFrom([0xff], [0x80], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xef, 0xbb, 0xbf]).map(
    (b) => Uint8Array.from(b),
  ),
  fc.uint8Array({ maxLength: 6 }),
);
const fileBytes = fc
  .tuple(
    fc.array(
      fc.tuple(fc.array(piece, { maxLength: 6 }), fc.constantFrom('\n', '\r\n')),
      { maxLength: 25 },
    ),
    fc.boolean(),
  )
  .map(([lines, finalNewline]) => {
    const parts: Uint8Array[] = [];
    lines.forEach(([pieces, eol], i) => {
      parts.push(...pieces);
      if (i < lines.length - 1 || finalNewline) parts.push(enc.encode(eol));
    });
    return Buffer.concat(parts);
  });

describe.each(readers)('readTextSplit ($name)', (reader) => {
  async function readAll(split: FileSplit, chunkBytes?: number): Promise<string[]> {
    const out: string[] = [];
    for await (const batch of reader.read(split, chunkBytes === undefined ? {} : { chunkBytes })) out.push(...batch);
    return out;
  }

  it('splits planned by any size read every line exactly once, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fileBytes,
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 8 }),
        async (bytes, maxSplitBytes, chunkBytes, minPartitions) => {
          const path = writeTemp(bytes, 'prop-planned.txt');
          const splits = planTextSplits(path, minPartitions, { maxSplitBytes });
          const lines: string[] = [];
          for (const split of splits) lines.push(...(await readAll(split, chunkBytes)));
          expect(lines).toEqual(referenceLines(bytes));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('arbitrary cut points (boundaries inside \\r\\n and UTF-8 sequences) read every line once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fileBytes,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
        fc.integer({ min: 1, max: 17 }),
        async (bytes, fractions, chunkBytes) => {
          const path = writeTemp(bytes, 'prop-cuts.txt');
          const size = bytes.length;
          const cuts = [...new Set([0, ...fractions.map((f) => Math.floor(f * size)), size])].sort((a, b) => a - b);
          const lines: string[] = [];
          for (let i = 0; i + 1 < cuts.length; i++) {
            lines.push(...(await readAll({ path, start: cuts[i]!, end: cuts[i + 1]!, fileSize: size }, chunkBytes)));
          }
          expect(lines).toEqual(referenceLines(bytes));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('owns a line that starts exactly at the split start and finishes its last line past end', async () => {
    const path = writeTemp('aa\nbb\ncc\n');
    const fileSize = 9;
    expect(await readAll({ path, start: 0, end: 3, fileSize })).toEqual(['aa']);
    expect(await readAll({ path, start: 3, end: 4, fileSize })).toEqual(['bb']);
    expect(await readAll({ path, start: 4, end: 9, fileSize })).toEqual(['cc']);
    expect(await readAll({ path, start: 0, end: 1, fileSize })).toEqual(['aa']);
    expect(await readAll({ path, start: 1, end: 3, fileSize })).toEqual([]);
  });

  it('handles \\r\\n, a final line without newline, empty lines and a leading BOM', async () => {
    const path = writeTemp(Buffer.from('\uFEFFone\r\n\r\n\ntwo\rx\nlast', 'utf8'));
    const [split] = planTextSplits(path, 1);
    expect(await readAll(split!, 2)).toEqual(['one', '', '', 'two\rx', 'last']);
  });

  it('assembles lines much longer than a chunk and multi-byte characters cut by chunks', async () => {
    const long = '€😀x'.repeat(5000);
    const path = writeTemp(`${long}\nshort\n${long}`);
    const [split] = planTextSplits(path, 1);
    expect(await readAll(split!, 7)).toEqual([long, 'short', long]);
  });

  it('finishes a last line that runs far past the split end (beyond any read-ahead)', async () => {
    const long = 'x'.repeat(300_000);
    const path = writeTemp(`a\n${long}\nb\n`);
    const fileSize = statSync(path).size;
    expect(await readAll({ path, start: 0, end: 3, fileSize }, 4096)).toEqual(['a', long]);
    expect(await readAll({ path, start: 3, end: fileSize, fileSize }, 4096)).toEqual(['b']);
  });

  it('yields batches of bounded size', async () => {
    const path = writeTemp(Array.from({ length: 10_000 }, (_, i) => `line ${i}`).join('\n'));
    const [split] = planTextSplits(path, 1);
    const sizes: number[] = [];
    for await (const batch of reader.read(split!, {})) sizes.push(batch.length);
    expect(sizes.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4096);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10_000);
  });

  it('reports a file that changed size since planning', async () => {
    const path = writeTemp('abc\n');
    const [split] = planTextSplits(path, 1);
    writeFileSync(path, 'abcdef\n');
    await expect(readAll(split!)).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining('changed') });
  });

  it('reports a file that disappeared as IO_ERROR naming it', async () => {
    const path = join(root, 'gone.txt');
    await expect(readAll({ path, start: 0, end: 1, fileSize: 1 })).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: expect.stringContaining(reader.name.startsWith('HTTP server') ? basename(path) : path),
    });
  });

});

describe('readTextSplit (local file only)', () => {
  it('reads a ~50 MB file with small chunks in bounded memory', async () => {
    const path = join(root, 'big.txt');
    const block = Buffer.from(Array.from({ length: 10_000 }, (_, i) => `row ${i} ünïcödé payload ${'x'.repeat(i % 60)}`).join('\n') + '\n');
    const fd = openSync(path, 'w');
    let size = 0;
    while (size < 50 * 1024 * 1024) size += writeSync(fd, block);
    closeSync(fd);
    const [split] = planTextSplits(path, 1, { maxSplitBytes: size });
    expect(split).toEqual({ path, start: 0, end: size, fileSize: size, mtimeMs: statSync(path).mtimeMs });

    const before = process.memoryUsage();
    let peakArrayBuffers = 0;
    let peakHeap = 0;
    let count = 0;
    for await (const batch of readTextSplit(split!, { chunkBytes: 64 * 1024 })) {
      count += batch.length;
      const now = process.memoryUsage();
      peakArrayBuffers = Math.max(peakArrayBuffers, now.arrayBuffers - before.arrayBuffers);
      peakHeap = Math.max(peakHeap, now.heapUsed - before.heapUsed);
    }
    expect(count).toBe((size / block.length) * 10_000);
    expect(peakArrayBuffers).toBeLessThan(8 * 1024 * 1024);
    expect(peakHeap).toBeLessThan(size / 2);
  });
});

describe('planTextSplits', () => {
  it('counts splits like Hadoop (goal size from minPartitions, 1.1 slop) and cuts them equal', () => {
    const path = writeTemp('x'.repeat(10));
    const ranges = (s: FileSplit[]) => s.map((x) => [x.start, x.end]);
    expect(ranges(planTextSplits(path, 1))).toEqual([[0, 10]]);
    expect(ranges(planTextSplits(path, 2))).toEqual([[0, 5], [5, 10]]);
    // Hadoop would cut 3/3/3/1; equal ranges keep the last executor from idling.
    expect(ranges(planTextSplits(path, 3))).toEqual([[0, 2], [2, 5], [5, 7], [7, 10]]);
    expect(ranges(planTextSplits(path, 0))).toEqual([[0, 10]]);
    // 11 / 10 = 1.1 is within the slop: one split, not a 1-byte tail.
    const eleven = writeTemp('x'.repeat(11));
    expect(ranges(planTextSplits(eleven, 1, { maxSplitBytes: 10 }))).toEqual([[0, 11]]);
    expect(ranges(planTextSplits(eleven, 20))).toHaveLength(11);
  });

  it('gives an empty file one empty split', () => {
    const path = writeTemp('');
    expect(planTextSplits(path, 4)).toEqual([{ path, start: 0, end: 0, fileSize: 0, mtimeMs: statSync(path).mtimeMs }]);
  });

  it('cuts a sparse 1 GiB file into >= 32 contiguous splits covering it', () => {
    const path = join(root, 'sparse.bin');
    writeFileSync(path, '');
    truncateSync(path, 1024 ** 3);
    const splits = planTextSplits(path, 2);
    expect(splits.length).toBeGreaterThanOrEqual(32);
    expect(splits[0]!.start).toBe(0);
    expect(splits[splits.length - 1]!.end).toBe(1024 ** 3);
    for (let i = 0; i < splits.length; i++) {
      expect(splits[i]!.fileSize).toBe(1024 ** 3);
      expect(splits[i]!.end).toBeGreaterThan(splits[i]!.start);
      if (i > 0) expect(splits[i]!.start).toBe(splits[i - 1]!.end);
    }
    rmSync(path);
  });

  it('reads a directory: visible regular files, sorted, not recursive', () => {
    const dir = join(root, 'dir');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'b.txt'), 'b\n');
    writeFileSync(join(dir, 'a.txt'), 'a\n');
    writeFileSync(join(dir, '.hidden'), 'h\n');
    writeFileSync(join(dir, '_SUCCESS'), '');
    writeFileSync(join(dir, 'sub', 'c.txt'), 'c\n');
    expect(planTextSplits(dir, 1).map((s) => s.path)).toEqual([join(dir, 'a.txt'), join(dir, 'b.txt')]);
    expect(paths(planWholeTextFiles(dir, 1))).toEqual([[join(dir, 'a.txt'), join(dir, 'b.txt')]]);
  });

  it('gives an existing empty directory no splits (an empty RDD, as in Spark)', () => {
    const dir = join(root, 'empty-dir');
    mkdirSync(dir);
    expect(planTextSplits(dir, 2)).toEqual([]);
    expect(paths(planWholeTextFiles(dir, 2))).toEqual([]);
  });

  it('expands absolute and relative globs, sorted, skipping hidden names', () => {
    const dir = join(root, 'globbed');
    mkdirSync(dir);
    for (const name of ['p2.log', 'p1.log', 'p10.log', '_p3.log', '.p4.log', 'other.txt']) writeFileSync(join(dir, name), 'x\n');
    const expected = ['p1.log', 'p10.log', 'p2.log'].map((n) => join(dir, n));
    expect(planTextSplits(join(dir, '*.log'), 1).map((s) => s.path)).toEqual(expected);
    const rel = relative(process.cwd(), join(dir, 'p*.log'));
    expect(planTextSplits(rel, 1).map((s) => s.path)).toEqual(expected);
    expectFlintError(() => planTextSplits(join(dir, '*.csv'), 1), 'INPUT_NOT_FOUND', join(dir, '*.csv'));
  });

  it('accepts a comma-separated list, in the order given', () => {
    const a = writeTemp('a\n', 'list-a.txt');
    const b = writeTemp('b\n', 'list-b.txt');
    expect(planTextSplits(`${b},${a}`, 1).map((s) => s.path)).toEqual([b, a]);
    expectFlintError(() => planTextSplits(`${a},${join(root, 'nope.txt')}`, 1), 'INPUT_NOT_FOUND', join(root, 'nope.txt'));
  });

  it('takes a path containing a comma as one path when it exists', () => {
    const path = writeTemp('x\n', 'with,comma.txt');
    expect(planTextSplits(path, 1).map((s) => s.path)).toEqual([path]);
  });

  it('throws INPUT_NOT_FOUND naming a missing path', () => {
    const missing = join(root, 'does-not-exist.txt');
    expectFlintError(() => planTextSplits(missing, 2), 'INPUT_NOT_FOUND', missing);
    expectFlintError(() => planWholeTextFiles(missing, 2), 'INPUT_NOT_FOUND', missing);
  });

  it('rejects bad arguments', () => {
    const path = writeTemp('x\n');
    expectFlintError(() => planTextSplits(path, -1), 'INVALID_ARGUMENT');
    expectFlintError(() => planTextSplits(path, 1.5), 'INVALID_ARGUMENT');
    expectFlintError(() => planTextSplits(path, 1, { maxSplitBytes: 0 }), 'INVALID_ARGUMENT');
    expectFlintError(() => planTextSplits('', 1), 'INVALID_ARGUMENT');
  });
});

describe('wholeTextFiles', () => {
  it('groups files contiguously, balanced by size, never more groups than files', () => {
    const dir = join(root, 'whole');
    mkdirSync(dir);
    const sizes = [100, 1, 1, 1, 100, 50, 50];
    sizes.forEach((n, i) => writeFileSync(join(dir, `f${i}`), 'x'.repeat(n)));
    const p = (i: number) => join(dir, `f${i}`);
    // Byte totals 101, 102, 100.
    expect(paths(planWholeTextFiles(dir, 3))).toEqual([[p(0), p(1)], [p(2), p(3), p(4)], [p(5), p(6)]]);
    expect(paths(planWholeTextFiles(dir, 0))).toEqual([sizes.map((_, i) => p(i))]);
    const many = paths(planWholeTextFiles(dir, 100));
    expect(many).toEqual(sizes.map((_, i) => [p(i)]));
  });

  it('spreads empty files by count', () => {
    const dir = join(root, 'whole-empty');
    mkdirSync(dir);
    for (let i = 0; i < 6; i++) writeFileSync(join(dir, `e${i}`), '');
    expect(planWholeTextFiles(dir, 3).map((g) => g.length)).toEqual([2, 2, 2]);
  });

  it('property: groups are non-empty, contiguous and cover all files', () => {
    const dir = join(root, 'whole-prop');
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 50 }), { minLength: 1, maxLength: 12 }), fc.nat({ max: 15 }), (sizes, minP) => {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir);
        const names = sizes.map((_, i) => `w${String(i).padStart(2, '0')}`);
        sizes.forEach((n, i) => writeFileSync(join(dir, names[i]!), 'x'.repeat(n)));
        const groups = paths(planWholeTextFiles(dir, minP));
        expect(groups).toHaveLength(Math.min(sizes.length, Math.max(minP, 1)));
        for (const g of groups) expect(g.length).toBeGreaterThan(0);
        expect(groups.flat()).toEqual(names.map((n) => join(dir, n)));
      }),
      { numRuns: 60 },
    );
  });

  it('reads a whole file as UTF-8 with replacement characters', async () => {
    const path = writeTemp(Buffer.concat([Buffer.from('héllo\r\nwörld\n'), Buffer.from([0xff, 0x41])]));
    const [[file]] = planWholeTextFiles(path, 1);
    expect(await readWholeTextFile(file!)).toBe('héllo\r\nwörld\n\uFFFDA');
    await expect(readWholeTextFile({ path: join(root, 'nope'), start: 0, end: 1, fileSize: 1 })).rejects.toMatchObject({ code: 'IO_ERROR' });
    writeFileSync(path, 'longer now');
    await expect(readWholeTextFile(file!)).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining('changed since planning') });
  });
});
