/**
 * Tasks with a memory budget and a scratch disk for the spilling operators' tests, each checking at
 * its end that it left no file behind.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { ExecutorMemory } from '../../host/memory/memory-manager.js';
import { TaskScratch } from '../../host/memory/scratch.js';
import { nodeScratchDisk } from '../../host/node/scratch-disk.js';

/** A scratch disk removed after the test file; `task(budget)` makes tasks on it. */
export function scratchTasks(name: string) {
  const dir = mkdtempSync(join(tmpdir(), `flint-${name}-test-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const disk = nodeScratchDisk(join(dir, 'exec'));
  let taskId = 0;
  /** A task with `budget` bytes, and a check that it left no file behind. */
  function task(budget: number) {
    const id = ++taskId;
    const memory = new ExecutorMemory(budget, true).task(id);
    const scratch = new TaskScratch(disk, id);
    return {
      memory,
      scratch,
      done() {
        memory.close();
        const left = existsSync(disk.dir) ? readdirSync(disk.dir).filter((f) => f.startsWith(`t${id}-`)) : [];
        expect(left).toEqual([]);
      },
    };
  }
  return { disk, task };
}
