/**
 * Handing on a leaving executor's shuffle outputs, against scripted executors and a manual clock:
 * to whom they go, when the leaving executor is let go, and what is recomputed when the hand-off
 * fails, times out, or would hand unverified output to an untrusted executor.
 */
import { describe, expect, it } from 'vitest';
import type { FlintEvent } from '../../host/events/events.js';
import type { DriverToExecutor } from '../../host/exec/protocol.js';
import { HANDOFF_TIMEOUT_MS } from '../../host/schedule/output-handoff.js';
import { FakeShuffled, FakeSource, executor, fakeCluster, honestDigest, runJob, type FakeCluster, type FakeExecutor } from './fake-cluster.js';

type Adopt = Extract<DriverToExecutor, { t: 'adoptOutputs' }>;
type HandedOn = Extract<FlintEvent, { type: 'shuffleOutputsHandedOn' }>;
const starts = (c: FakeCluster) => c.events.filter((e): e is Extract<FlintEvent, { type: 'taskStart' }> => e.type === 'taskStart');
const handedOn = (c: FakeCluster) => c.events.filter((e): e is HandedOn => e.type === 'shuffleOutputsHandedOn');
const adoptsOf = (e: FakeExecutor) => e.messages.filter((m): m is Adopt => m.t === 'adoptOutputs');

/** The map tasks (partitions) executors were sent by the job `run` starts. */
async function mapTasksOf(c: FakeCluster, run: () => Promise<void>): Promise<number[]> {
  const before = new Map([...c.executors.values()].map((e) => [e, e.messages.length]));
  await run();
  const maps: number[] = [];
  for (const [e, n] of before) for (const m of e.messages.slice(n)) if (m.t === 'task' && m.task.output.kind === 'shuffle') maps.push(m.task.partition);
  return maps.sort();
}

/** Answers every task the executors hold, map tasks on their own executor; until the job ends. */
async function runAll(c: FakeCluster, job: { done: Promise<unknown>; state: { settled: boolean } }, lie?: (e: FakeExecutor) => string | undefined): Promise<void> {
  for (let turn = 0; !job.state.settled && turn < 200; turn++) {
    await c.settle();
    for (const e of c.executors.values()) while (e.pending.length > 0) e.succeed(e.take(), 10, undefined, lie?.(e));
  }
  await job.done;
}

/** A shuffle whose 4 map outputs are held two by `a` and two by `b` (tasks go round-robin). */
async function shuffled(c: FakeCluster): Promise<FakeShuffled> {
  const rdd = new FakeShuffled(new FakeSource(4), 2);
  await runAll(c, runJob(c, rdd));
  return rdd;
}

function heldBy(c: FakeCluster, shuffleId: number, executorId: string): number[] {
  return c.driver.tracker
    .outputsOn(executorId)
    .filter((o) => o.shuffleId === shuffleId)
    .map((o) => o.mapId);
}

describe('a leaving executor hands its shuffle outputs on', () => {
  it('to an executor that stays; it is let go once they moved, and the next job skips the map stage', async () => {
    const c = fakeCluster([executor('a'), executor('b')], { verify: 'none' });
    const rdd = await shuffled(c);
    const onA = heldBy(c, rdd.dep.shuffleId, 'a');
    expect(onA.length).toBeGreaterThan(0);
    let released = false;
    c.driver.executorDraining('a', () => (released = true));
    await c.settle();
    const [adopt] = adoptsOf(c.get('b'));
    expect(adopt).toMatchObject({ from: 'a', digest: false });
    expect(adopt!.outputs.map((o) => o.mapId).sort()).toEqual(onA);
    expect(released).toBe(false);
    c.get('b').sendRaw({ t: 'adopted', adoptId: adopt!.adoptId, outputs: adopt!.outputs.map(({ shuffleId, mapId }) => ({ shuffleId, mapId })), error: null });
    await c.settle();
    expect(released).toBe(true);
    expect(heldBy(c, rdd.dep.shuffleId, 'a')).toEqual([]);
    expect(handedOn(c)).toEqual([expect.objectContaining({ executorId: 'a', toExecutorId: 'b', outputs: onA.length, lost: 0, bytes: onA.length * 20 })]);
    const before = starts(c).length;
    expect(await mapTasksOf(c, () => runAll(c, runJob(c, rdd)))).toEqual([]);
    // Only the reduce stage ran, and on b, which holds all of its input now.
    expect(starts(c).slice(before).map((s) => s.executorId)).toEqual(['b', 'b']);
  });

  it('declares lost what the heir did not take in time, and the next job recomputes only that', async () => {
    const c = fakeCluster([executor('a'), executor('b')], { verify: 'none' });
    const rdd = await shuffled(c);
    const onA = heldBy(c, rdd.dep.shuffleId, 'a');
    let released = false;
    c.driver.executorDraining('a', () => (released = true));
    await c.settle();
    expect(adoptsOf(c.get('b'))).toHaveLength(1);
    c.clock.advance(HANDOFF_TIMEOUT_MS - 1);
    expect(released).toBe(false);
    c.clock.advance(1);
    await c.settle();
    expect(released).toBe(true);
    expect(handedOn(c)).toEqual([expect.objectContaining({ executorId: 'a', outputs: 0, lost: onA.length, reason: expect.stringMatching(/did not take them within/) })]);
    // A late answer changes nothing.
    const adopt = adoptsOf(c.get('b'))[0]!;
    c.get('b').sendRaw({ t: 'adopted', adoptId: adopt.adoptId, outputs: adopt.outputs.map(({ shuffleId, mapId }) => ({ shuffleId, mapId })), error: null });
    await c.settle();
    expect(c.driver.tracker.missingMaps(rdd.dep.shuffleId)).toEqual(onA);
    c.driver.executorLost('a', { reason: 'released', causedByApp: false });
    expect(await mapTasksOf(c, () => runAll(c, runJob(c, rdd)))).toEqual(onA);
  });

  it('keeps a partial hand-off: what moved stays moved, the rest is lost', async () => {
    const c = fakeCluster([executor('a'), executor('b')], { verify: 'none' });
    const rdd = await shuffled(c);
    const onA = heldBy(c, rdd.dep.shuffleId, 'a');
    c.driver.executorDraining('a', () => undefined);
    await c.settle();
    const adopt = adoptsOf(c.get('b'))[0]!;
    const first = adopt.outputs[0]!;
    c.get('b').sendRaw({ t: 'adopted', adoptId: adopt.adoptId, outputs: [{ shuffleId: first.shuffleId, mapId: first.mapId }], error: 'executor a no longer holds block 1/2/0' });
    await c.settle();
    expect(heldBy(c, rdd.dep.shuffleId, 'b')).toContain(first.mapId);
    expect(c.driver.tracker.missingMaps(rdd.dep.shuffleId)).toEqual(onA.filter((m) => m !== first.mapId));
    expect(handedOn(c)[0]).toMatchObject({ outputs: 1, lost: onA.length - 1, reason: expect.stringMatching(/no longer holds/) });
  });

  it('declares everything lost at once when no executor could take it', async () => {
    const c = fakeCluster([executor('a', { workerId: 'w' }), executor('b', { workerId: 'w' })], { verify: 'none' });
    const rdd = await shuffled(c);
    let released = false;
    // Both executors of the worker leave: neither can take the other's outputs.
    c.driver.executorDraining('a', () => (released = true));
    c.driver.executorDraining('b', () => undefined);
    expect(c.driver.tracker.missingMaps(rdd.dep.shuffleId)).toEqual([0, 1, 2, 3]);
    await c.settle();
    expect(released).toBe(true);
    expect(adoptsOf(c.get('a'))).toEqual([]);
    expect(adoptsOf(c.get('b'))).toEqual([]);
  });

  it('waits for the running tasks of the leaving executor, then hands on their outputs too', async () => {
    const c = fakeCluster([executor('a'), executor('b')], { verify: 'none' });
    const rdd = new FakeShuffled(new FakeSource(4), 2);
    const job = runJob(c, rdd);
    await c.settle();
    const a = c.get('a');
    const running = a.take();
    let released = false;
    c.driver.executorDraining('a', () => (released = true));
    await c.settle();
    expect(adoptsOf(c.get('b'))).toEqual([]);
    a.succeed(running);
    await c.settle();
    const adopt = adoptsOf(c.get('b'))[0]!;
    expect(adopt.outputs.map((o) => o.mapId)).toContain(running.task.partition);
    c.get('b').sendRaw({ t: 'adopted', adoptId: adopt.adoptId, outputs: adopt.outputs.map(({ shuffleId, mapId }) => ({ shuffleId, mapId })), error: null });
    await runAll(c, job);
    expect(released).toBe(true);
    expect(starts(c).filter((s) => s.partition === running.task.partition && s.stageId === running.task.stageId)).toHaveLength(1);
    expect(await mapTasksOf(c, () => runAll(c, runJob(c, rdd)))).toEqual([]);
  });

  it('lets the leaving executor go only when no running task still fetches from it', async () => {
    const c = fakeCluster([executor('a'), executor('b'), executor('c')], { verify: 'none' });
    const rdd = await shuffled(c);
    const job = runJob(c, rdd);
    await c.settle();
    // A reduce task launched before the hand-off reads from a.
    const reader = [...c.executors.values()].find((e) => e.id !== 'a' && e.pending.some((p) => p.task.blocks.some((b) => b.executorId === 'a')))!;
    let released = false;
    for (const e of c.executors.values()) if (e !== reader) while (e.pending.length > 0) e.succeed(e.take());
    c.driver.executorDraining('a', () => (released = true));
    await c.settle();
    const heir = [...c.executors.values()].find((e) => adoptsOf(e).length > 0)!;
    const adopt = adoptsOf(heir)[0]!;
    heir.sendRaw({ t: 'adopted', adoptId: adopt.adoptId, outputs: adopt.outputs.map(({ shuffleId, mapId }) => ({ shuffleId, mapId })), error: null });
    await c.settle();
    expect(released).toBe(false);
    await runAll(c, job);
    expect(released).toBe(true);
  });

  it('hands to an untrusted executor only verified outputs, and keeps its copy only when its digest matches', async () => {
    const untrusted = (id: string) => executor(id, { capabilities: ['node', 'fs', 'wasm', 'disk'] });
    const c = fakeCluster([untrusted('a'), untrusted('b'), untrusted('c')]);
    const rdd = new FakeShuffled(new FakeSource(4), 2);
    await runAll(c, runJob(c, rdd));
    const holder = ['a', 'b', 'c'].find((id) => heldBy(c, rdd.dep.shuffleId, id).length >= 2)!;
    const held = heldBy(c, rdd.dep.shuffleId, holder);
    c.driver.executorDraining(holder, () => undefined);
    await c.settle();
    const heir = [...c.executors.values()].find((e) => adoptsOf(e).length > 0)!;
    const adopt = adoptsOf(heir)[0]!;
    expect(adopt.digest).toBe(true);
    const mapStage = starts(c)[0]!.stageId;
    const digest = (mapId: number) => honestDigest({ task: { stageId: mapStage, partition: mapId } } as never);
    // One copy matches what was verified; the other does not.
    const [good, bad] = adopt.outputs;
    heir.sendRaw({
      t: 'adopted',
      adoptId: adopt.adoptId,
      outputs: [
        { shuffleId: good!.shuffleId, mapId: good!.mapId, digest: digest(good!.mapId) },
        { shuffleId: bad!.shuffleId, mapId: bad!.mapId, digest: 'f'.repeat(64) },
      ],
      error: null,
    });
    await c.settle();
    expect(heldBy(c, rdd.dep.shuffleId, heir.id)).toContain(good!.mapId);
    expect(c.driver.tracker.missingMaps(rdd.dep.shuffleId)).toEqual(held.filter((m) => m !== good!.mapId));
    expect(handedOn(c)[0]).toMatchObject({ outputs: 1, reason: expect.stringMatching(/did not match/) });
  });

  it('refuses an answer from an executor that was not asked', async () => {
    const c = fakeCluster([executor('a'), executor('b'), executor('c')], { verify: 'none' });
    await shuffled(c);
    c.driver.executorDraining('a', () => undefined);
    await c.settle();
    const asked = [...c.executors.values()].find((e) => adoptsOf(e).length > 0)!;
    const other = [...c.executors.values()].find((e) => e.id !== 'a' && e !== asked)!;
    other.sendRaw({ t: 'adopted', adoptId: adoptsOf(asked)[0]!.adoptId, outputs: [], error: null });
    await c.settle();
    expect(other.closed).toBe(true);
    expect(handedOn(c)).toEqual([]);
  });
});
