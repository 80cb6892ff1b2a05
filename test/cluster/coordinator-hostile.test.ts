/**
 * Hostile peers against the environment-neutral coordinator (host/cluster/coordinator.ts), with
 * scripted endpoints and a manual clock, fuzzed with fast-check: whatever a stranger with the token
 * sends, the coordinator never throws, closes that one connection with a logged reason, and an
 * honest worker and application set up beforehand keep their executors and hear nothing of it.
 * test/cluster/hostile.test.ts does the same with real processes and sockets. And heartbeats: a
 * worker is lost after 3 s of silence, but not for the coordinator's own stalls.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Coordinator } from '../../host/cluster/coordinator.js';
import { ManualClock } from '../schedule/fake-cluster.js';
import { Scripted, driverHello, workerHello } from './scripted-peer.js';

/**
 * A coordinator with an honest worker W1 whose 2 slots are lent to an honest app A (maxCores 2),
 * and a spare worker W2 of 1 slot, so that strangers' applications (maxCores 1) take no share of A.
 */
function honestCluster() {
  const clock = new ManualClock();
  const logs: string[] = [];
  // Heartbeats are not what these tests are about: a long timeout keeps workers in while time moves.
  const coordinator = new Coordinator({ clock, heartbeatTimeoutMs: 3_600_000, helloTimeoutMs: 10_000, log: (m) => logs.push(m) });
  const w1 = new Scripted('w1:1');
  coordinator.accept(w1, w1.peer);
  w1.say(workerHello('W1'));
  const a = new Scripted('a:1');
  coordinator.accept(a, a.peer);
  a.say({ ...driverHello('A'), maxCores: 2 });
  const executors = w1.of('launch').map((m) => m.executorId as string);
  for (const id of executors) w1.say({ t: 'executorUp', executorId: id });
  expect(executors).toHaveLength(2);
  expect(a.of('executorAdded')).toHaveLength(2);
  const w2 = new Scripted('w2:1');
  coordinator.accept(w2, w2.peer);
  w2.say(workerHello('W2', 1));
  expect(w2.of('launch')).toEqual([]);
  let nextPeer = 0;
  /** A new connection from a stranger. */
  const stranger = () => {
    const s = new Scripted(`evil:${nextPeer++}`);
    coordinator.accept(s, s.peer);
    return s;
  };
  /** W1 and A are untouched: connected, and A still holds both executors and lost none. */
  const honestUnharmed = () => {
    expect(w1.closed).toBeNull();
    expect(w2.closed).toBeNull();
    expect(a.closed).toBeNull();
    expect(a.of('executorLost')).toEqual([]);
    expect(a.of('executorRevoked')).toEqual([]);
    expect(w1.of('release')).toEqual([]);
    expect(coordinator.executorSummaries().filter((e) => e.appId !== null).map((e) => e.id).sort()).toEqual([...executors].sort());
  };
  const refusedLogged = (s: Scripted) => logs.some((l) => l.startsWith(`refused ${s.peer}: `));
  return { clock, logs, coordinator, w1, a, executors, stranger, honestUnharmed, refusedLogged };
}

/** Values that are no field of any hello or message: wrong types wherever they land. */
const wrongType = fc.oneof(fc.boolean(), fc.double({ noInteger: true }), fc.dictionary(fc.string(), fc.anything(), { maxKeys: 3 }), fc.constant(undefined));

describe('the coordinator against hostile peers (scripted endpoints)', () => {
  it('closes a connection whose first message is anything but a hello, with a logged reason', () => {
    const c = honestCluster();
    fc.assert(
      fc.property(fc.anything({ withMap: true, withSet: true, withDate: true, withTypedArray: true, withBigInt: true, withNullPrototype: true }), (value) => {
        const s = c.stranger();
        s.say(value);
        expect(s.closed).not.toBeNull();
        expect(c.refusedLogged(s)).toBe(true);
      }),
      { numRuns: 300 },
    );
    c.honestUnharmed();
  });

  it('closes a connection whose hello has a field of the wrong type or misses one', () => {
    const c = honestCluster();
    const hellos = [workerHello('EVIL'), driverHello()] as Array<Record<string, unknown>>;
    fc.assert(
      fc.property(fc.constantFrom(...hellos), fc.nat(), wrongType, fc.boolean(), (hello, pick, value, drop) => {
        const fields = Object.keys(hello);
        const field = fields[pick % fields.length]!;
        // useWasm is the one boolean field: a boolean there is no wrong type.
        fc.pre(!(typeof value === 'boolean' && typeof hello[field] === 'boolean'));
        const bad: Record<string, unknown> = { ...hello };
        if (drop) delete bad[field];
        else bad[field] = value;
        const s = c.stranger();
        s.say(bad);
        expect(s.closed).not.toBeNull();
        expect(c.refusedLogged(s)).toBe(true);
      }),
      { numRuns: 300 },
    );
    expect(c.coordinator.workerCount).toBe(2);
    expect(c.coordinator.applications().filter((app) => !app.attempts[0]!.completed)).toHaveLength(1);
    c.honestUnharmed();
  });

  it('closes a worker or driver that sends a malformed message after its hello', () => {
    const c = honestCluster();
    fc.assert(
      fc.property(fc.boolean(), fc.anything({ withMap: true, withTypedArray: true, withBigInt: true }), (asWorker, value) => {
        const s = c.stranger();
        s.say(asWorker ? workerHello(`evil-${s.peer}`, 1) : driverHello('evil'));
        s.say(value);
        expect(s.closed).not.toBeNull();
        expect(c.refusedLogged(s)).toBe(true);
      }),
      { numRuns: 300 },
    );
    expect(c.coordinator.workerCount).toBe(2);
    c.honestUnharmed();
  });

  it("closes a worker that speaks for another worker's executor, and a driver that addresses another application's", () => {
    const c = honestCluster();
    const payload = fc.uint8Array({ maxLength: 64 });
    const forgery = fc.oneof(
      fc.record({ role: fc.constant('worker' as const), message: fc.oneof(
        fc.record({ t: fc.constant('fromExecutor'), executorId: fc.constantFrom(...c.executors), message: payload }),
        fc.record({ t: fc.constant('executorUp'), executorId: fc.constantFrom(...c.executors) }),
        fc.record({ t: fc.constant('executorDown'), executorId: fc.constantFrom(...c.executors), reason: fc.string(), causedByApp: fc.boolean() }),
      ) }),
      fc.record({ role: fc.constant('driver' as const), message: fc.oneof(
        fc.record({ t: fc.constant('toExecutor'), executorId: fc.constantFrom(...c.executors), message: payload }),
        fc.record({ t: fc.constant('release'), executorId: fc.constantFrom(...c.executors) }),
      ) }),
    );
    fc.assert(
      fc.property(forgery, ({ role, message }) => {
        const s = c.stranger();
        s.say(role === 'worker' ? workerHello(`evil-${s.peer}`, 1) : driverHello('evil'));
        const wasSentToW1 = c.w1.sent.length;
        s.say(message);
        expect(s.closed).not.toBeNull();
        expect(c.refusedLogged(s)).toBe(true);
        // Nothing of the forgery reached the honest worker or application.
        expect(c.w1.sent.slice(wasSentToW1).filter((m) => m.t === 'toExecutor' || m.t === 'release')).toEqual([]);
        expect(c.a.of('fromExecutor')).toEqual([]);
      }),
      { numRuns: 200 },
    );
    c.honestUnharmed();
  });

  it("refuses a hello that takes the id of a connected worker; the worker keeps its executors", () => {
    const c = honestCluster();
    const s = c.stranger();
    s.say(workerHello('W1'));
    expect(s.closed).toMatch(/W1 is already connected/);
    expect(c.refusedLogged(s)).toBe(true);
    c.honestUnharmed();
    // Once the real W1 is gone, W1 may come back (a restarted worker keeps its identity).
    c.w1.close();
    const back = c.stranger();
    back.say(workerHello('W1'));
    expect(back.closed).toBeNull();
    expect(back.of('welcome')).toHaveLength(1);
  });

  it('closes a connection that never says hello, and logs why', () => {
    const c = honestCluster();
    const s = c.stranger();
    c.clock.advance(9_999);
    expect(s.closed).toBeNull();
    c.clock.advance(1);
    expect(s.closed).toMatch(/no hello within 10000 ms/);
    expect(c.refusedLogged(s)).toBe(true);
    c.honestUnharmed();
  });
});

describe('heartbeats', () => {
  function oneWorker() {
    const clock = new ManualClock();
    const logs: string[] = [];
    const coordinator = new Coordinator({ clock, heartbeatTimeoutMs: 3000, helloTimeoutMs: 10_000, log: (m) => logs.push(m) });
    const w = new Scripted('w:1');
    coordinator.accept(w, w.peer);
    w.say(workerHello('W'));
    const beat = () => w.say({ t: 'heartbeat', stats: {} });
    return { clock, coordinator, w, beat, logs };
  }

  it('loses a worker silent for 3 s, and not one that keeps beating', () => {
    const { clock, coordinator, w, beat } = oneWorker();
    for (let s = 0; s < 10; s++) {
      clock.advance(1000);
      beat();
    }
    expect(w.closed).toBeNull();
    clock.advance(3600);
    expect(w.closed).not.toBeNull();
    expect(coordinator.workerCount).toBe(0);
  });

  it('does not count its own stall as the workers’ silence: their heartbeats are read after the late check', () => {
    const { clock, coordinator, w, beat, logs } = oneWorker();
    clock.advance(1000);
    beat();
    // The coordinator's thread is held up for 4 s; the worker's heartbeats wait in its socket and
    // are read only after the timers that were due meanwhile have run.
    clock.stall(4000);
    clock.advance(0);
    expect(w.closed, logs.join('\n')).toBeNull();
    beat();
    clock.advance(1000);
    beat();
    expect(w.closed).toBeNull();
    // Real silence afterwards still loses it, counted from when the coordinator listens again.
    clock.advance(3600);
    expect(w.closed).not.toBeNull();
    expect(coordinator.workerCount).toBe(0);
  });
});
