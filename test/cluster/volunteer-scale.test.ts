/**
 * Issue 9's "Scale, simulated", small enough for CI: 24 simulated browser volunteers (the built
 * browser executor bundle in worker threads, WorkerHosts configured as a tab, real WebSockets to a
 * real `flint serve`, a quarter with real WebRTC) run a 200-task sum-by-key with a shuffle while 30%
 * of them leave at random moments — decommissioned, crashed, or with their whole process SIGKILLed.
 * The answer must be exactly right, every leaver's executors must be declared lost to the driver,
 * and it must end well within a minute on two cores. `npm run bench:volunteer-scale` runs the same
 * scenario (test/helpers/volunteer-scale.ts) with 200 volunteers and 2,000 tasks.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { killAll } from './harness.js';
import { runVolunteerScale } from '../helpers/volunteer-scale.js';

afterAll(() => killAll());

describe('volunteers at scale (simulated)', () => {
  it('24 volunteers run a 200-task job while 30% of them leave: the answer is right and every leaver is declared lost', async () => {
    const lines: string[] = [];
    const r = await runVolunteerScale(
      {
        volunteers: 24,
        processes: 2,
        killedProcessVolunteers: 3,
        webRtcShare: 0.25,
        mapPartitions: 192,
        reducers: 8,
        records: 96_000,
        keys: 500,
        leaveShare: 0.3,
        decommissionShare: 0.5,
        seed: 9,
        joinTimeoutMs: 30_000,
        jobTimeoutMs: 60_000,
      },
      (line) => lines.push(line),
    );
    const why = `${lines.join('\n')}\n${JSON.stringify({ error: r.error, stages: r.stages, tasks: r.tasks, leavers: r.leavers, crashes: r.volunteerProcessCrashes }, null, 1)}`;
    expect(r.error, why).toBeNull();
    expect(r.correct, why).toBe(true);
    expect(r.distinctKeys).toBe(500);
    // 200 tasks: 192 maps and 8 reducers, each run at least twice (copies of untrusted tasks are compared).
    expect(r.stages.filter((s) => s.attempt === 0).reduce((n, s) => n + s.tasks, 0)).toBe(200);
    expect(r.tasks.verified, why).toBeGreaterThanOrEqual(200);
    expect(r.tasks.disputed).toBe(0);
    expect(r.executorsAdded).toBeGreaterThanOrEqual(24);
    // 7 of 24 leave: the 3 of the killed process, 2 decommissioned, 2 crashed.
    const by = (how: string) => r.leavers.filter((l) => l.how === how);
    expect([by('process-kill').length, by('decommission').length, by('crash').length]).toEqual([3, 2, 2]);
    // They left while the job ran, at random points of its progress (map and reduce stages).
    expect(r.leavers.every((l) => l.duringJob), why).toBe(true);
    // Every executor a leaver had was declared lost to the driver: abrupt ends within the 3 s
    // heartbeat timeout (a closed socket is noticed at once), tabs that close once their tasks end.
    expect(r.allLeaversLost, why).toBe(true);
    for (const l of r.leavers) {
      expect(l.executors.length, why).toBeGreaterThanOrEqual(1);
      for (const ms of l.removedAfterMs) {
        expect(ms, why).not.toBeNull();
        expect(ms!, why).toBeLessThan(l.how === 'decommission' ? 15_000 : 5_000);
      }
    }
    expect(r.volunteerProcessCrashes, why).toEqual([]);
    expect(r.jobMs, why).toBeLessThan(45_000);
    // The coordinator reported its health throughout.
    expect(r.coordinator.final?.process?.eventLoopDelayMs.samples).toBeGreaterThan(0);
    expect(r.coordinator.peakRssBytes).toBeGreaterThan(0);
  }, 120_000);
});
