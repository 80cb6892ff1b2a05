import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlintError } from '../../host/errors.js';
import { beginTextOutput, openTextOutput } from '../../host/node/text-output.js';
import { NodeDriverPlatform, nodeExecutorPlatform } from '../../host/node/node-platform.js';
import { planTextSplits, readTextSplit } from '../../host/node/text-input.js';
import type { TextOutputJob } from '../../host/api/platform.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'flint-text-output-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

let dirCounter = 0;
const freshDir = () => join(root, `out${dirCounter++}`);

async function writeAttempt(job: TextOutputJob, partition: number, attempt: number, batches: string[][]): Promise<void> {
  const out = await openTextOutput(job.attemptPath(partition, attempt));
  for (const lines of batches) await out.write(lines);
  await out.close();
}

function thrownBy(fn: () => unknown): FlintError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FlintError);
    return err as FlintError;
  }
  throw new Error('expected a FlintError');
}

describe('saveAsTextFile commit protocol', () => {
  it('commits parts, writes _SUCCESS and removes _temporary', async () => {
    const dir = freshDir();
    const job = beginTextOutput(dir, 'job-1');
    expect(existsSync(join(dir, '_temporary', 'job-1'))).toBe(true);
    expect(job.attemptPath(3, 1)).toBe(join(dir, '_temporary', 'job-1', '_attempt_3_1', 'part-00003'));

    await writeAttempt(job, 0, 0, [['a', 'b'], ['c']]);
    await writeAttempt(job, 1, 0, [['d']]);
    job.commitTask(1, 0);
    job.commitTask(0, 0);
    expect(existsSync(join(dir, 'part-00000'))).toBe(false); // nothing visible before the job commits
    job.commitJob(2);

    expect(readdirSync(dir).sort()).toEqual(['_SUCCESS', 'part-00000', 'part-00001']);
    expect(readFileSync(join(dir, 'part-00000'), 'utf8')).toBe('a\nb\nc\n');
    expect(readFileSync(join(dir, 'part-00001'), 'utf8')).toBe('d\n');
    expect(readFileSync(join(dir, '_SUCCESS'), 'utf8')).toBe('');
  });

  it('gives empty partitions empty part files, written or not', async () => {
    const dir = freshDir();
    const job = beginTextOutput(dir, 'j');
    await writeAttempt(job, 0, 0, []); // opened, wrote nothing
    job.commitTask(0, 0);
    job.commitTask(1, 0); // never opened a file
    await writeAttempt(job, 2, 0, [['x']]);
    job.commitTask(2, 0);
    job.commitJob(3);
    expect(readdirSync(dir).sort()).toEqual(['_SUCCESS', 'part-00000', 'part-00001', 'part-00002']);
    expect(readFileSync(join(dir, 'part-00000'), 'utf8')).toBe('');
    expect(readFileSync(join(dir, 'part-00001'), 'utf8')).toBe('');
  });

  it('keeps the first committed attempt of a partition', async () => {
    const dir = freshDir();
    const job = beginTextOutput(dir, 'j');
    await writeAttempt(job, 0, 0, [['from attempt 0']]);
    await writeAttempt(job, 0, 1, [['from attempt 1']]);
    job.commitTask(0, 1);
    job.commitTask(0, 0);
    job.commitJob(1);
    expect(readFileSync(join(dir, 'part-00000'), 'utf8')).toBe('from attempt 1\n');
    expect(readdirSync(dir).sort()).toEqual(['_SUCCESS', 'part-00000']);
  });

  it('refuses an existing file or directory with OUTPUT_EXISTS and leaves it alone', () => {
    const dir = freshDir();
    mkdirSync(dir);
    writeFileSync(join(dir, 'keep.txt'), 'precious');
    const err = thrownBy(() => beginTextOutput(dir, 'j'));
    expect(err.code).toBe('OUTPUT_EXISTS');
    expect(err.message).toContain(dir);
    expect(err.message).toMatch(/delete|another path/);
    expect(readdirSync(dir)).toEqual(['keep.txt']);

    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    expect(thrownBy(() => beginTextOutput(file, 'j')).code).toBe('OUTPUT_EXISTS');
  });

  it('abortJob removes everything, written and committed alike', async () => {
    const dir = freshDir();
    const job = beginTextOutput(dir, 'j');
    await writeAttempt(job, 0, 0, [['a']]);
    job.commitTask(0, 0);
    const half = await openTextOutput(job.attemptPath(1, 0));
    await half.write(['partial']);
    job.abortJob();
    await half.abort();
    expect(existsSync(dir)).toBe(false);
    job.abortJob(); // idempotent
  });

  it('refuses to commit a job with uncommitted tasks', async () => {
    const dir = freshDir();
    const job = beginTextOutput(dir, 'j');
    job.commitTask(0, 0);
    const err = thrownBy(() => job.commitJob(3));
    expect(err.code).toBe('IO_ERROR');
    expect(err.message).toContain('1, 2');
    expect(existsSync(join(dir, '_SUCCESS'))).toBe(false);
    job.abortJob();
    expect(existsSync(dir)).toBe(false);
  });

  it('does not let abortJob erase a committed output', () => {
    const dir = freshDir();
    const job = beginTextOutput(dir, 'j');
    job.commitTask(0, 0);
    job.commitJob(1);
    job.abortJob();
    expect(readdirSync(dir).sort()).toEqual(['_SUCCESS', 'part-00000']);
  });

  it('round-trips non-ASCII text through textFile', async () => {
    const dir = freshDir();
    const job = beginTextOutput(dir, 'j');
    const lines = ['héllo wörld', '日本語のテキスト', 'emoji 😀 ok', '', 'tab\tand "quotes"'];
    await writeAttempt(job, 0, 0, [lines.slice(0, 2), lines.slice(2)]);
    job.commitTask(0, 0);
    job.commitJob(1);
    const read: string[] = [];
    for (const split of planTextSplits(dir, 3)) for await (const batch of readTextSplit(split, { chunkBytes: 5 })) read.push(...batch);
    expect(read).toEqual(lines);
  });

  it('writes many lines through the buffer in order', async () => {
    const path = join(freshDir(), 'nested', 'part-00000');
    const out = await openTextOutput(path);
    const expected: string[] = [];
    for (let b = 0; b < 20; b++) {
      const lines = Array.from({ length: 10_000 }, (_, i) => `${b}:${i}:${'ü'.repeat(i % 13)}`);
      expected.push(...lines);
      await out.write(lines);
    }
    await out.close();
    await out.close();
    expect(readFileSync(path, 'utf8')).toBe(expected.join('\n') + '\n');
    await expect(out.write(['late'])).rejects.toMatchObject({ code: 'IO_ERROR' });
  });

  it('abort() on a writer closes and deletes its file', async () => {
    const path = join(freshDir(), 'part-00000');
    const out = await openTextOutput(path);
    await out.write(['x']);
    await out.abort();
    expect(existsSync(path)).toBe(false);
  });
});

describe('node platform', () => {
  const nodeDriverPlatform = new NodeDriverPlatform();
  it('makeCheckpointDir, listDir, removeDir, joinPath', () => {
    const dir = nodeDriverPlatform.makeCheckpointDir(join(freshDir(), 'a', 'b'));
    expect(existsSync(dir)).toBe(true);
    expect(nodeDriverPlatform.makeCheckpointDir(dir)).toBe(dir);
    writeFileSync(join(dir, 'part-00001'), '');
    writeFileSync(join(dir, 'part-00000'), '');
    expect(nodeDriverPlatform.listDir(dir)).toEqual(['part-00000', 'part-00001']);
    expect(nodeDriverPlatform.listDir(join(dir, 'missing'))).toEqual([]);
    nodeDriverPlatform.removeDir(dir);
    expect(existsSync(dir)).toBe(false);
    nodeDriverPlatform.removeDir(dir);
    expect(nodeDriverPlatform.joinPath('a', 'b', '../c')).toBe(join('a', 'c'));
  });

  it('writeFileAtomic and readFile', async () => {
    const dir = freshDir();
    const path = join(dir, 'deep', 'block');
    await nodeExecutorPlatform.writeFileAtomic(path, Uint8Array.from([1, 2, 3]));
    await nodeExecutorPlatform.writeFileAtomic(path, Uint8Array.from([4, 5]));
    const bytes = await nodeExecutorPlatform.readFile(path);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect([...bytes]).toEqual([4, 5]);
    expect(readdirSync(join(dir, 'deep'))).toEqual(['block']); // no temporary files left behind
    const missing = join(dir, 'nope');
    await expect(nodeExecutorPlatform.readFile(missing)).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: expect.stringContaining(missing),
    });
  });

  it('driver and executor platforms read what was planned', async () => {
    const dir = freshDir();
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.txt'), 'one\ntwo\n');
    const splits = nodeDriverPlatform.planTextSplits(dir, 2);
    const lines: string[] = [];
    for (const s of splits) for await (const b of nodeExecutorPlatform.readTextSplit(s)) lines.push(...b);
    expect(lines).toEqual(['one', 'two']);
    const groups = nodeDriverPlatform.planWholeTextFiles(dir, 2);
    expect(groups.map((g) => g.map((f) => f.path))).toEqual([[join(dir, 'a.txt')]]);
    expect(await nodeExecutorPlatform.readWholeTextFile(groups[0]![0]!)).toBe('one\ntwo\n');
  });
});
