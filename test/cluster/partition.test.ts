/**
 * A network partition between worker hosts, with real processes in Linux network namespaces: the
 * coordinator and the driver (this process) in the root namespace, each worker on its own host
 * (namespace) behind a bridge. The link between two hosts is cut while both still reach the
 * coordinator; shuffle blocks must then come through the coordinator's relay, the result must equal
 * a fault-free run, and nothing may be recomputed (no partition was lost: only a link was).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Flint, type FlintEvent } from 'flint';
import { killAll, startCluster, type Proc, type TestCluster } from './harness.js';
import { createNetwork, netnsUnavailable, removeLeftovers, type NetHost, type TestNetwork } from './netns.js';

type TaskEnd = Extract<FlintEvent, { type: 'taskEnd' }>;

const unavailable = netnsUnavailable();
if (unavailable) console.warn(`partition tests skipped: ${unavailable}`);

// Names the slow closures receive through env.
declare const ms: number;
declare const keys: number;

const data = Array.from({ length: 900 }, (_, i) => i);

function expected(keys: number): Array<[number, number]> {
  const sums = new Map<number, number>();
  for (const x of data) sums.set(x % keys, (sums.get(x % keys) ?? 0) + x);
  return [...sums].sort((a, b) => a[0] - b[0]);
}

function busy(x: number): number {
  const until = Date.now() + ms;
  while (Date.now() < until);
  return x;
}

/** Each partition of each stage succeeded exactly once, and no task failed or was lost. */
function expectNothingRecomputed(events: FlintEvent[]): void {
  const ends = events.filter((e): e is TaskEnd => e.type === 'taskEnd');
  expect(ends.filter((e) => e.status !== 'success').map((e) => `${e.status}: ${e.error}`)).toEqual([]);
  const runs = new Map<string, number>();
  for (const e of ends) runs.set(`${e.stageId}/${e.partition}`, (runs.get(`${e.stageId}/${e.partition}`) ?? 0) + 1);
  expect([...runs].filter(([, n]) => n > 1)).toEqual([]);
  expect(events.filter((e) => e.type === 'executorRemoved')).toEqual([]);
  expect(events.filter((e) => e.type === 'stageSubmitted' && e.attempt > 0)).toEqual([]);
}

describe.skipIf(unavailable !== null)(`a network partition between two worker hosts${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let net: TestNetwork | null = null;
  let cluster: TestCluster | null = null;
  let fl: Flint | null = null;

  beforeAll(() => {
    removeLeftovers();
    net = createNetwork(3);
  });
  afterEach(async () => {
    await fl?.stop();
    fl = null;
    await cluster?.stop();
    cluster = null;
    net?.heal();
  });
  afterAll(() => {
    killAll();
    net?.destroy();
  });

  /** A coordinator on the bridge and one single-core worker on each of `hosts`. */
  async function clusterOn(hosts: NetHost[]): Promise<{ cluster: TestCluster; workerOn: Map<NetHost, Proc> }> {
    cluster = await startCluster({ workers: 0, host: net!.gateway });
    const workerOn = new Map<NetHost, Proc>();
    for (const h of hosts) workerOn.set(h, await cluster.addWorker({ command: [...h.exec, process.execPath] }));
    await cluster.waitForSlots(hosts.length);
    // Each worker serves its blocks on its own host's address.
    const hostPorts = (await cluster.executors()).map((e) => e.hostPort.replace(/:\d+$/, '')).sort();
    expect(hostPorts).toEqual(hosts.map((h) => h.address).sort());
    return { cluster, workerOn };
  }

  function record(flint: Flint): FlintEvent[] {
    const events: FlintEvent[] = [];
    flint.events.on('*', (e) => events.push(e));
    return events;
  }

  it('mid-shuffle: the dead direct link is found within seconds, its fetches go through the relay, nothing is recomputed', async () => {
    const [a, b, c] = net!.hosts as [NetHost, NetHost, NetHost];
    const { cluster, workerOn } = await clusterOn([a, b, c]);
    fl = await Flint.start({ master: cluster.url, token: cluster.token, speculation: false });
    const events = record(fl);
    let resultStage = -1;
    let cutAt = 0;
    fl.events.on('stageSubmitted', (s) => {
      if (s.kind === 'result') resultStage = s.stageId;
    });
    // Reducers run in three waves (9 partitions on 3 slots); the first wave opened the direct links
    // between the hosts. Cut a-b once a reducer finished: later waves fetch over a dead link.
    fl.events.on('taskEnd', (e) => {
      if (cutAt || e.stageId !== resultStage || e.status !== 'success') return;
      net!.cut(a, b);
      cutAt = Date.now();
    });
    const result = await fl
      .parallelize(data, 6)
      .map((x) => [x % keys, busy(x)] as [number, number], { env: { keys: 11, ms: 0.2, busy } })
      .reduceByKey((x, y) => x + y, { numPartitions: 9 })
      .mapValues((v) => busy(v), { env: { ms: 300, busy } })
      .collect();
    const finishedAt = Date.now();
    expect(result.sort((x, y) => x[0] - y[0])).toEqual(expected(11));
    expect(cutAt).toBeGreaterThan(0);
    await fl.events.delivered();
    expectNothingRecomputed(events);

    const [wa, wb, wc] = [workerOn.get(a)!, workerOn.get(b)!, workerOn.get(c)!];
    // The link a-b was direct before the cut, and both ends gave it up for the relay.
    for (const w of [wa, wb]) await w.waitFor(/direct link to worker \S+ ended.*using the coordinator's relay/, 10_000);
    const resent = [wa, wb].map((w) => [...w.output().matchAll(/resending (\d+) unanswered fetch/g)].reduce((n, m) => n + Number(m[1]), 0));
    expect(resent[0]! + resent[1]!).toBeGreaterThanOrEqual(1);
    // The third host kept its direct links to both, whichever end opened each.
    const openTo = new Set([...wc.output().matchAll(/direct link to worker (\S+) is open/g)].map((m) => m[1]));
    expect(openTo.size).toBe(2);
    expect(wc.output()).not.toMatch(/ended|relay/);
    // Found by the keepalive, not by the executor's two-minute fetch timeout.
    expect(finishedAt - cutAt).toBeLessThan(15_000);
  });

  it('before any direct link exists: blocks take the relay from the start, nothing is recomputed', async () => {
    const [a, b] = net!.hosts as [NetHost, NetHost];
    const { cluster, workerOn } = await clusterOn([a, b]);
    net!.cut(a, b);
    fl = await Flint.start({ master: cluster.url, token: cluster.token, speculation: false });
    const events = record(fl);
    const result = await fl
      .parallelize(data, 4)
      .map((x) => [x % keys, busy(x)] as [number, number], { env: { keys: 13, ms: 0.2, busy } })
      .reduceByKey((x, y) => x + y, { numPartitions: 4 })
      .collect();
    expect(result.sort((x, y) => x[0] - y[0])).toEqual(expected(13));
    await fl.events.delivered();
    expectNothingRecomputed(events);
    for (const w of [workerOn.get(a)!, workerOn.get(b)!]) {
      expect(w.output()).toMatch(/no direct link to worker \S+ \(.*\); using the coordinator's relay/);
      expect(w.output()).not.toMatch(/direct link to worker \S+ is open/);
    }
  });
});
