import { describe, expect, it } from 'vitest';
import { ExecutorMemory, type MemoryConsumer, type TaskMemory } from '../../host/memory/memory-manager.js';

/** A consumer that holds what it was granted and gives it all back when spilled, logging spills. */
class Holder implements MemoryConsumer {
  spills = 0;
  constructor(
    readonly label: string,
    private readonly task: TaskMemory,
    private readonly log: string[],
    private readonly spillable = true,
  ) {}
  spill(): number {
    const n = this.task.usedBy(this);
    if (!this.spillable || n === 0) return 0;
    this.spills++;
    this.log.push(this.label);
    this.task.release(this, n);
    return n;
  }
}

describe('ExecutorMemory and TaskMemory', () => {
  it('grants within the budget and refuses the largest consumer its own request', () => {
    const pool = new ExecutorMemory(1000, true);
    const task = pool.task(1);
    const log: string[] = [];
    const a = new Holder('a', task, log);
    expect(task.acquire(a, 600)).toBe(true);
    expect(task.acquire(a, 600)).toBe(false);
    expect(log).toEqual([]);
    expect(task.usedBy(a)).toBe(600);
    expect(pool.executionUsed).toBe(600);
  });

  it('spills the largest consumer first, until the request fits; the asker itself when it is the largest', () => {
    const pool = new ExecutorMemory(1000, true);
    const task = pool.task(1);
    const log: string[] = [];
    const small = new Holder('small', task, log);
    const big = new Holder('big', task, log);
    const mid = new Holder('mid', task, log);
    const asker = new Holder('asker', task, log);
    task.acquire(small, 100);
    task.acquire(big, 500);
    task.acquire(mid, 250);
    expect(task.acquire(asker, 700)).toBe(true);
    expect(log).toEqual(['big', 'mid']);
    expect(task.held).toBe(100 + 700);
    // Now the asker is the largest: it is told to spill itself.
    expect(task.acquire(asker, 300)).toBe(false);
    expect(log).toEqual(['big', 'mid']);
    expect(task.spilled).toBe(750);
    expect(task.peak).toBe(850);
  });

  it('reserve spills the asker itself when it is the largest, then takes the memory', () => {
    const pool = new ExecutorMemory(1000, true);
    const task = pool.task(1);
    const log: string[] = [];
    const other = new Holder('other', task, log);
    const asker = new Holder('asker', task, log);
    task.acquire(other, 200);
    task.acquire(asker, 700);
    task.reserve(asker, 300);
    expect(log).toEqual(['asker']);
    expect(task.usedBy(asker)).toBe(300);
    expect(task.usedBy(other)).toBe(200);
  });

  it('a consumer that cannot spill is skipped; force goes over the budget when nothing can give way', () => {
    const pool = new ExecutorMemory(1000, true);
    const task = pool.task(1);
    const log: string[] = [];
    const pinned = new Holder('pinned', task, log, false);
    const asker = new Holder('asker', task, log);
    task.acquire(pinned, 900);
    expect(task.acquire(asker, 200)).toBe(false);
    task.force(asker, 200);
    expect(pool.executionUsed).toBe(1100);
  });

  it('without a disk every request is granted (a browser keeps going in memory)', () => {
    const pool = new ExecutorMemory(100, false);
    const task = pool.task(1);
    const a = new Holder('a', task, []);
    expect(task.acquire(a, 1000)).toBe(true);
    expect(a.spills).toBe(0);
  });

  it('running tasks share the execution memory equally', () => {
    const pool = new ExecutorMemory(1000, true);
    const t1 = pool.task(1);
    const t2 = pool.task(2);
    const a = new Holder('a', t1, []);
    const b = new Holder('b', t2, []);
    expect(t1.acquire(a, 500)).toBe(true);
    expect(t1.acquire(a, 1)).toBe(false);
    expect(t2.acquire(b, 500)).toBe(true);
    t2.close();
    expect(pool.executionUsed).toBe(500);
    expect(t1.acquire(a, 400)).toBe(true);
  });

  it('storage gives way to execution down to its protected half, and no further', () => {
    const pool = new ExecutorMemory(1000, true);
    let stored = 0;
    const evicted: number[] = [];
    pool.evictor = {
      evict(bytes) {
        const n = Math.min(bytes, stored);
        stored -= n;
        pool.releaseStorage(n);
        evicted.push(n);
        return n;
      },
    };
    expect(pool.acquireStorage(800)).toBe(true);
    stored = 800;
    const task = pool.task(1);
    const a = new Holder('a', task, []);
    expect(task.acquire(a, 400)).toBe(true);
    expect(evicted).toEqual([200]);
    expect(pool.storageUsed).toBe(600);
    // 100 more comes from storage above its protected 500; beyond that the task must spill.
    expect(task.acquire(a, 100)).toBe(true);
    expect(evicted).toEqual([200, 100]);
    expect(pool.storageUsed).toBe(500);
    expect(task.acquire(a, 1)).toBe(false);
    expect(pool.storageUsed).toBe(500);
  });

  it('a consumer in the middle of a spill is not asked to spill again by what it writes out', () => {
    const pool = new ExecutorMemory(1000, true);
    const task = pool.task(1);
    const log: string[] = [];
    const out = new Holder('out', task, log);
    const table: MemoryConsumer = {
      label: 'table',
      spill() {
        log.push('table');
        // Writing the table out asks memory for the output while the table still holds its own.
        task.reserve(out, 300);
        const n = task.usedBy(table);
        task.release(table, n);
        return n;
      },
    };
    task.acquire(table, 900);
    task.reserve(out, 200);
    expect(log).toEqual(['table']);
    expect(task.usedBy(table)).toBe(0);
  });
});
