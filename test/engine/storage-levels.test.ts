// Storage levels that name the disk are real: DISK_ONLY blocks are written to the executors'
// scratch directories and read back from there; MEMORY_AND_DISK blocks that do not fit move there;
// MEMORY_ONLY blocks that do not fit are dropped and recomputed.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Flint, StorageLevel } from 'flint';
import { threePasses } from '../../bench/lib/spill-jobs.js';

const root = mkdtempSync(join(tmpdir(), 'flint-levels-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let fl: Flint | null = null;
afterEach(async () => {
  await fl?.stop();
  fl = null;
});

const LINES = 50_000;
const input = join(root, 'input.txt');
mkdirSync(root, { recursive: true });
writeFileSync(input, Array.from({ length: LINES }, (_, i) => `line ${i}`).join('\n') + '\n');

const blockFiles = (dir: string) =>
  !existsSync(dir) ? [] : readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile() && d.name.startsWith('rdd_')).map((d) => d.name);


const total = (LINES * (LINES - 1)) / 2;

describe('storage levels', () => {
  for (const master of ['local', 'local[2]']) {
    it(`${master}: DISK_ONLY writes every block to disk and reads it back without recomputing`, async () => {
      const spillDir = join(root, `disk-only-${master}`);
      // Exact counts of reads and files: a speculative copy on a loaded machine would store a fifth block.
      fl = await Flint.start({ master, spillDir, speculation: false });
      const rdd = fl.textFile(input, 4).map((l) => [l, Number(l.slice(5))] as [string, number]).persist(StorageLevel.DISK_ONLY);
      expect(await threePasses(fl, rdd)).toEqual({ sums: [total, total, total], reads: [LINES, 0, 0] });
      expect(blockFiles(spillDir).length).toBe(4);
      rdd.unpersist();
      // The executors drop the blocks (and their files) when told; a job after that recomputes.
      expect(await rdd.count()).toBe(LINES);
      expect(blockFiles(spillDir)).toEqual([]);
    });
  }

  it('MEMORY_AND_DISK keeps what fits in memory and the rest on disk, and reads both back', async () => {
    const spillDir = join(root, 'memory-and-disk');
    fl = await Flint.start({ master: 'local', spillDir, cacheMemoryMb: 1 });
    const rdd = fl.textFile(input, 8).map((l) => [l, Number(l.slice(5))] as [string, number]).persist(StorageLevel.MEMORY_AND_DISK);
    expect(await threePasses(fl, rdd)).toEqual({ sums: [total, total, total], reads: [LINES, 0, 0] });
    const onDisk = blockFiles(spillDir).length;
    expect(onDisk).toBeGreaterThan(0);
    expect(onDisk).toBeLessThan(8);
  });

  it('MEMORY_ONLY drops what does not fit, and recomputes it', async () => {
    const spillDir = join(root, 'memory-only');
    fl = await Flint.start({ master: 'local', spillDir, cacheMemoryMb: 1 });
    let dropped = 0;
    fl.events.on('blockUpdated', (e) => void (e.removed && dropped++));
    const rdd = fl.textFile(input, 8).map((l) => [l, Number(l.slice(5))] as [string, number]).persist(StorageLevel.MEMORY_ONLY);
    const { sums, reads } = await threePasses(fl, rdd);
    expect(sums).toEqual([total, total, total]);
    // Least recently used first: a scan bigger than the cache evicts each block before it is read again.
    expect(reads).toEqual([LINES, LINES, LINES]);
    expect(dropped).toBeGreaterThan(0);
    expect(blockFiles(spillDir)).toEqual([]);
  });
});
