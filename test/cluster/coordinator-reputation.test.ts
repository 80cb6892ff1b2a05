/**
 * A volunteer's reputation outlives the application that built it: the coordinator counts the tasks
 * that drivers verified for each worker's executors (the drivers' taskVerified events) and tells the
 * next application, so an honest tab that stays is not re-vetted by every job (BOINC keeps a host's
 * record across workunits). A disagreement starts the count over; an application's word counts only
 * for its own executors.
 */
import { describe, expect, it } from 'vitest';
import { Coordinator } from '../../host/cluster/coordinator.js';
import { encodeValueShared } from '../../host/codec/records.js';
import { ManualClock } from '../schedule/fake-cluster.js';
import { Scripted, driverHello, workerHello } from './scripted-peer.js';

const tabHello = (workerId: string) => ({ ...workerHello(workerId, 1), kind: 'browser', capabilities: ['wasm'] });

function cluster() {
  const clock = new ManualClock();
  const coordinator = new Coordinator({ clock, heartbeatTimeoutMs: 3_600_000, helloTimeoutMs: 10_000, log: () => undefined });
  const workers = new Map<string, Scripted>();
  for (const id of ['T1', 'T2']) {
    const w = new Scripted(`${id}:1`);
    coordinator.accept(w, w.peer);
    w.say(tabHello(id));
    workers.set(id, w);
  }
  /** Starts an application and brings up what the coordinator lends it: executor id → its description. */
  const app = (name: string, maxCores: number) => {
    const before = new Map([...workers].map(([id, w]) => [id, w.of('launch').length]));
    const d = new Scripted(`${name}:1`);
    coordinator.accept(d, d.peer);
    d.say({ ...driverHello(name), maxCores });
    const byWorker = new Map<string, string>();
    for (const [id, w] of workers) {
      for (const m of w.of('launch').slice(before.get(id))) {
        w.say({ t: 'executorUp', executorId: m.executorId });
        byWorker.set(id, m.executorId as string);
      }
    }
    const added = new Map(d.of('executorAdded').map((m) => [(m.executor as { id: string }).id, m.executor as { workerId: string; verifiedBefore?: number }]));
    const verified = (executorId: string, agreed: boolean, times = 1) =>
      d.say({
        t: 'events',
        events: encodeValueShared(Array.from({ length: times }, (_, i) => ({ type: 'taskVerified', time: clock.now(), executorId, stageId: 0, partition: i, agreed }))),
      });
    const leave = () => d.say({ t: 'bye' });
    return { driver: d, byWorker, added, verified, leave };
  };
  return { coordinator, app };
}

describe("the coordinator's record of volunteers across applications", () => {
  it('tells the next application how many tasks each tab had verified, counting only what its own application verified', () => {
    const c = cluster();
    const a = c.app('A', 1);
    const b = c.app('B', 1);
    const [aTab] = [...a.byWorker.keys()];
    const [bTab] = [...b.byWorker.keys()];
    expect(new Set([aTab, bTab]).size).toBe(2);
    // New tabs come with no record.
    for (const e of [...a.added.values(), ...b.added.values()]) expect(e.verifiedBefore).toBeUndefined();
    a.verified(a.byWorker.get(aTab!)!, true, 12);
    // A's word about B's executor is not A's to give.
    a.verified(b.byWorker.get(bTab!)!, true, 50);
    b.verified(b.byWorker.get(bTab!)!, true, 3);
    a.leave();
    b.leave();
    const next = c.app('C', 2);
    const record = new Map([...next.added.values()].map((e) => [e.workerId, e.verifiedBefore]));
    expect(record).toEqual(new Map([
      [aTab, 12],
      [bTab, 3],
    ]));
    c.coordinator.stop();
  });

  it('starts a tab over after it disagreed with the majority', () => {
    const c = cluster();
    const a = c.app('A', 2);
    for (const executorId of a.byWorker.values()) a.verified(executorId, true, 20);
    a.verified(a.byWorker.get('T1')!, false);
    a.leave();
    // The dashboard shows the same record.
    expect(new Map(c.coordinator.workerSummaries().map((w) => [w.id, w.verifiedTasks]))).toEqual(new Map([
      ['T1', 0],
      ['T2', 20],
    ]));
    const next = c.app('B', 2);
    const record = new Map([...next.added.values()].map((e) => [e.workerId, e.verifiedBefore]));
    expect(record).toEqual(new Map([
      ['T1', undefined],
      ['T2', 20],
    ]));
    c.coordinator.stop();
  });
});
