// textFile over HTTP, and executors that cannot see the driver's files, end to end on local[2].
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Flint, FlintError, words } from 'flint';
import { startStaticServer, type StaticServer } from '../helpers/static-server.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flint-remote-files-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Lines of varied length and script; the reference split is the obvious one. */
function sampleText(n: number): { text: string; lines: string[] } {
  const lines = Array.from({ length: n }, (_, i) => `${i} ${'word '.repeat(i % 17)}ünï ${i % 5 === 0 ? '😀 ' : ''}end`);
  return { text: lines.join('\r\n') + '\n', lines };
}

async function flintError(p: Promise<unknown>): Promise<FlintError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FlintError);
  return err as FlintError;
}

describe('textFile(http://…) on local[2]', () => {
  let fl: Flint;
  let web: StaticServer;
  const { text, lines } = sampleText(3000);
  beforeAll(async () => {
    writeFileSync(join(dir, 'big.txt'), text);
    writeFileSync(join(dir, 'small.txt'), 'one\ntwo\n');
    web = await startStaticServer(dir);
    fl = await Flint.start({ master: 'local[2]' });
  });
  afterAll(async () => {
    await fl.stop();
    await web.close();
  });

  it('reads a server that honours Range in line-aligned splits, through the lambda and the fused scans', async () => {
    const rdd = fl.textFile(`${web.base}/r/big.txt`, 4);
    expect(rdd.getNumPartitions()).toBe(4);
    expect(await rdd.collect()).toEqual(lines);
    expect(await rdd.count()).toBe(lines.length);
    const counts = await fl.textFile(`${web.base}/r/big.txt`, 4).flatMap(words).countByValue();
    expect(counts.get('word')).toBe(lines.reduce((n, l) => n + l.split(' ').filter((w) => w === 'word').length, 0));
  });

  it('asks with a one-byte Range GET when HEAD is refused, and still splits', async () => {
    const rdd = fl.textFile(`${web.base}/h/big.txt`, 4);
    expect(rdd.getNumPartitions()).toBe(4);
    expect(await rdd.collect()).toEqual(lines);
  });

  it('reads a server that ignores Range (with or without a length) as one split', async () => {
    for (const mode of ['n', 'c']) {
      const rdd = fl.textFile(`${web.base}/${mode}/big.txt`, 4);
      expect(rdd.getNumPartitions()).toBe(1);
      expect(await rdd.collect()).toEqual(lines);
    }
  });

  it('takes URLs in a comma list with local paths, in order, and wholeTextFiles of a URL', async () => {
    const local = join(dir, 'small.txt');
    expect(await fl.textFile(`${web.base}/n/small.txt,${local},${web.base}/r/small.txt`).collect()).toEqual(['one', 'two', 'one', 'two', 'one', 'two']);
    expect(await fl.wholeTextFiles(`${web.base}/r/small.txt,${web.base}/c/big.txt`).collect()).toEqual([
      [`${web.base}/r/small.txt`, 'one\ntwo\n'],
      [`${web.base}/c/big.txt`, text],
    ]);
  });

  it('names a missing URL in INPUT_NOT_FOUND', () => {
    const missing = `${web.base}/r/nope.txt`;
    let err: unknown;
    try {
      fl.textFile(missing).getNumPartitions();
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'INPUT_NOT_FOUND', message: expect.stringContaining(missing) });
  });

  it('fails with IO_ERROR when the resource changed since planning, even at the same size', async () => {
    const path = join(dir, 'changing.txt');
    writeFileSync(path, 'aaaa\nbbbb\n');
    const rdd = fl.textFile(`${web.base}/r/changing.txt`, 2);
    expect(rdd.getNumPartitions()).toBe(2);
    writeFileSync(path, 'cccc\ndddd\n');
    utimesSync(path, new Date(), new Date(Date.now() + 60_000));
    const err = await flintError(rdd.collect());
    expect(err.code).toBe('JOB_ABORTED');
    expect(`${err.message} ${String((err.cause as Error | undefined)?.message)}`).toContain('changed since planning');
  });
});

describe('executors that cannot see the driver files (FLINT_LOCAL_FILES=0)', () => {
  let remote: Flint;
  let local: Flint;
  const { text, lines } = sampleText(20_000);
  const input = () => join(dir, 'remote-input.txt');
  beforeAll(async () => {
    writeFileSync(input(), text);
    process.env.FLINT_LOCAL_FILES = '0';
    try {
      remote = await Flint.start({ master: 'local[2]', appName: 'through-the-file-server' });
    } finally {
      delete process.env.FLINT_LOCAL_FILES;
    }
    local = await Flint.start({ master: 'local[2]', appName: 'local-files' });
  });
  afterAll(async () => {
    await remote.stop();
    await local.stop();
  });

  it('reads a local textFile and commits saveAsTextFile output exactly as a local run does', async () => {
    const outs: string[] = [];
    for (const fl of [remote, local]) {
      const out = join(dir, `upper-${fl.appName}`);
      await fl.textFile(input(), 4).map((l) => l.toUpperCase()).saveAsTextFile(out);
      outs.push(out);
    }
    const [viaServer, direct] = outs as [string, string];
    const names = readdirSync(viaServer).sort();
    expect(names).toEqual(['_SUCCESS', 'part-00000', 'part-00001', 'part-00002', 'part-00003']);
    expect(readdirSync(direct).sort()).toEqual(names);
    for (const name of names) expect(readFileSync(join(viaServer, name))).toEqual(readFileSync(join(direct, name)));
    const written = names.filter((n) => n.startsWith('part-')).map((n) => readFileSync(join(viaServer, n), 'utf8')).join('');
    expect(written).toBe(lines.map((l) => l.toUpperCase()).join('\n') + '\n');
  });

  it('gives the same word counts, whole files and checkpoints', async () => {
    const job = (fl: Flint) =>
      fl
        .textFile(input(), 3)
        .flatMap((l) => l.split(' '))
        .map((w) => [w, 1] as [string, number])
        .reduceByKey((a, b) => a + b)
        .collectAsMap();
    expect(await job(remote)).toEqual(await job(local));

    const wholeDir = join(dir, 'whole');
    mkdirSync(wholeDir);
    writeFileSync(join(wholeDir, 'a.txt'), 'ä\nb\n');
    writeFileSync(join(wholeDir, 'b.txt'), '');
    expect(await remote.wholeTextFiles(wholeDir).collect()).toEqual([
      [join(wholeDir, 'a.txt'), 'ä\nb\n'],
      [join(wholeDir, 'b.txt'), ''],
    ]);

    remote.setCheckpointDir(join(dir, 'checkpoints'));
    const lengths = remote.textFile(input(), 2).map((l) => l.length);
    lengths.checkpoint();
    expect(await lengths.count()).toBe(lines.length);
    expect(lengths.isCheckpointed).toBe(true);
    expect(await lengths.collect()).toEqual(lines.map((l) => l.length));
  });

  it('leaves no output when the job fails', async () => {
    const out = join(dir, 'failed-remote');
    const err = await flintError(
      remote
        .textFile(input(), 4)
        .map((l) => {
          if (l.startsWith('19999 ')) throw new Error('no last line');
          return l;
        })
        .saveAsTextFile(out),
    );
    expect(err.code).toBe('JOB_ABORTED');
    expect(existsSync(out)).toBe(false);
  });

  it('really goes through the file server: an input swapped for a link after planning is refused there, not read', async () => {
    const path = join(dir, 'swapped.txt');
    writeFileSync(path, 'kept\n');
    copyFileSync(path, join(dir, 'swapped-copy.txt'));
    const viaServer = remote.textFile(path);
    const direct = local.textFile(path);
    expect(viaServer.getNumPartitions()).toBe(direct.getNumPartitions());
    rmSync(path);
    symlinkSync(join(dir, 'swapped-copy.txt'), path);
    // A reader of the local file system follows the link (same size); the file server does not
    // serve a path that now resolves elsewhere than the file that was planned.
    expect(await direct.collect()).toEqual(['kept']);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const err = await flintError(viaServer.collect());
      expect(err.code).toBe('JOB_ABORTED');
      expect(`${err.message} ${String((err.cause as Error | undefined)?.message)}`).toContain('HTTP 403');
      expect(warn.mock.calls.some(([line]) => String(line).includes(`refused GET /file?path=${encodeURIComponent(path)}`) && String(line).includes('now resolves to'))).toBe(true);
    } finally {
      warn.mockRestore();
    }
  });
});
