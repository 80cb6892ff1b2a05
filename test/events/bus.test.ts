import { describe, expect, it } from 'vitest';
import { EventBus } from '../../host/events/bus.js';
import type { FlintEvent } from '../../host/events/events.js';

const jobStart = (jobId: number): FlintEvent => ({ type: 'jobStart', time: jobId, jobId, description: `job ${jobId}`, stageIds: [], stages: [] });
const heartbeat = (executorId: string, time: number): FlintEvent => ({ type: 'blockUpdated', time, executorId, blockId: 'b', bytes: time, removed: false });

describe('EventBus', () => {
  it('returns from emit before any listener runs, then delivers every event in order', async () => {
    const bus = new EventBus();
    const seen: number[] = [];
    bus.on('jobStart', (e) => seen.push(e.jobId));
    for (let i = 0; i < 20_000; i++) bus.emit(jobStart(i));
    expect(seen).toEqual([]);
    await bus.delivered();
    expect(seen).toEqual(Array.from({ length: 20_000 }, (_, i) => i));
  });

  it('a slow listener does not delay another one or the emitter, and loses nothing', async () => {
    const bus = new EventBus();
    const fast: number[] = [];
    const slow: number[] = [];
    bus.on('*', (e) => fast.push(e.time));
    bus.on('*', (e) => {
      const until = performance.now() + 0.01;
      while (performance.now() < until);
      slow.push(e.time);
    });
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) bus.emit(jobStart(i));
    expect(performance.now() - started).toBeLessThan(200);
    await bus.delivered();
    expect(fast).toHaveLength(10_000);
    expect(slow).toHaveLength(10_000);
  });

  it('past its bound, a queue merges coalescible events (newest wins) and keeps every other one', async () => {
    const bus = new EventBus();
    const seen: FlintEvent[] = [];
    bus.on('*', (e) => seen.push(e), { maxQueue: 10, coalesceKey: (e) => (e.type === 'blockUpdated' ? e.executorId : null) });
    for (let i = 0; i < 10; i++) bus.emit(jobStart(i));
    for (let i = 0; i < 1000; i++) bus.emit(heartbeat(`e${i % 3}`, i));
    bus.emit(jobStart(99));
    await bus.delivered();
    expect(seen.filter((e) => e.type === 'jobStart').map((e) => (e as { jobId: number }).jobId)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 99]);
    const updates = seen.filter((e) => e.type === 'blockUpdated');
    expect(updates).toHaveLength(3);
    expect(updates.map((e) => e.time).sort((a, b) => a - b)).toEqual([997, 998, 999]);
  });

  it('a listener that throws is reported and the others still get the event', async () => {
    const bus = new EventBus();
    const seen: number[] = [];
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      bus.on('jobStart', () => {
        throw new Error('listener bug');
      });
      bus.on('jobStart', (e) => seen.push(e.jobId));
      bus.emit(jobStart(1));
      await bus.delivered();
    } finally {
      console.error = original;
    }
    expect(seen).toEqual([1]);
    expect(errors).toHaveLength(1);
  });
});
