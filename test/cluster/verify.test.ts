/**
 * Untrusted workers cannot lie: with one of three workers corrupting every output it computes, the
 * results are exactly right and the liar is excluded from the application.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Flint, type FlintEvent } from 'flint';
import { killAll, startCluster } from './harness.js';

afterAll(() => killAll());

describe('verification by replication', () => {
  it('a lying untrusted worker is caught: the word count and the sorted result are exactly right, the liar excluded', async () => {
    const cluster = await startCluster({ workers: 0 });
    try {
      await Promise.all([
        cluster.addWorker({ args: ['--untrusted'] }),
        cluster.addWorker({ args: ['--untrusted'] }),
        cluster.addWorker({ args: ['--untrusted', '--chaos', 'lie=1'] }),
      ]);
      await cluster.waitForSlots(3);
      const fl = await Flint.start({ master: cluster.url, token: cluster.token });
      const events: FlintEvent[] = [];
      fl.events.on('*', (e) => events.push(e));
      const words = Array.from({ length: 3000 }, (_, i) => `w${(i * 7919) % 211}`);
      const counts = await fl.parallelize(words, 9).map((w) => [w, 1] as [string, number]).reduceByKey((a, b) => a + b, 3).sortByKey().collect();
      const expected = new Map<string, number>();
      for (const w of words) expected.set(w, (expected.get(w) ?? 0) + 1);
      expect(counts).toEqual([...expected].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
      await fl.events.delivered();
      const liarSlots = (await cluster.executors()).filter((e) => cluster.workers[2]!.output().includes(e.workerId));
      const excluded = events.filter((e): e is Extract<FlintEvent, { type: 'executorExcluded' }> => e.type === 'executorExcluded');
      expect(excluded.length).toBeGreaterThanOrEqual(1);
      for (const e of excluded) expect(liarSlots.map((s) => s.id)).toContain(e.executorId);
      await fl.stop();
    } finally {
      await cluster.stop();
    }
  });
});
