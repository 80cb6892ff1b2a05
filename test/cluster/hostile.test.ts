/**
 * Hostile peers against real processes: a `flint serve` and two `flint worker`s, and strangers that
 * hold the cluster token but not the protocol: random frames, random values, wrong types, another
 * worker's executors, another application's executors, forged and replayed task results, forged
 * data links and oversized messages (fuzzed with fast-check where the input space is large). Each
 * must close that one connection with a logged reason; the coordinator, the drivers and the other
 * executors keep running, and the next job gives the right answer.
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Flint, type FlintEvent } from 'flint';
import { encodeValue, decodeValue } from '../../host/codec/records.js';
import { connect } from '../../host/node/cluster/connect.js';
import { killAll, startCluster, type Proc, type TestCluster } from './harness.js';

/** The message limit of the coordinator and the workers' data servers in these tests. */
const LIMIT = 256 * 1024;

let cluster: TestCluster;
beforeAll(async () => {
  const env = { FLINT_MAX_MESSAGE_BYTES: String(LIMIT) };
  cluster = await startCluster({ workers: 2, cores: 1, serveEnv: env, workerEnv: env });
});
afterAll(async () => {
  await cluster?.stop();
  killAll();
});
// A stranger a failed case left connected (a worker still beating, say) must not skew the next test.
const strangers = new Set<Stranger>();
afterEach(() => {
  for (const s of strangers) s.close();
  strangers.clear();
});

// ---- a stranger's connection ----------------------------------------------------------------------

interface Stranger {
  /** Our port: the other side names the connection `127.0.0.1:PORT` in its log. */
  port: number;
  messages: Array<Record<string, unknown>>;
  closed: Promise<void>;
  isClosed(): boolean;
  /** Sends values of the protocol's encoding, framed as the protocol frames them. */
  say(...values: unknown[]): void;
  /** Sends one WebSocket frame as it is. */
  raw(frame: Uint8Array): void;
  close(): void;
}

async function stranger(url: string): Promise<Stranger> {
  const conn = await connect(url, { token: cluster.token, label: 'the test', maxMessageBytes: 64 * 1024 * 1024 });
  const port = (conn.socket as unknown as { _socket: { localPort: number } })._socket.localPort;
  const messages: Array<Record<string, unknown>> = [];
  let isClosed = false;
  const closed = new Promise<void>((resolve) =>
    conn.endpoint.onClose(() => {
      isClosed = true;
      resolve();
    }),
  );
  conn.endpoint.onMessage((m) => messages.push(m as Record<string, unknown>));
  const s: Stranger = {
    port,
    messages,
    closed,
    isClosed: () => isClosed,
    say: (...values) => conn.socket.send(wholeFrame(...values.map((v) => encodeValue(v)))),
    raw: (frame) => conn.socket.send(frame),
    close: () => conn.endpoint.close(),
  };
  strangers.add(s);
  return s;
}

/** A frame of whole messages (host/transport/framing.ts): 0x01 then (u32 length, bytes)*. */
function wholeFrame(...messages: Uint8Array[]): Uint8Array {
  const frame = new Uint8Array(1 + messages.reduce((n, m) => n + 4 + m.byteLength, 0));
  const view = new DataView(frame.buffer);
  frame[0] = 0x01;
  let at = 1;
  for (const m of messages) {
    view.setUint32(at, m.byteLength);
    frame.set(m, at + 4);
    at += 4 + m.byteLength;
  }
  return frame;
}

const coordinatorUrl = () => `${cluster.httpUrl.replace(/^http/, 'ws')}/ws`;

async function until<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function closedWithin(s: Stranger, what: string, timeoutMs = 5000): Promise<void> {
  await Promise.race([s.closed, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: the connection was not closed`)), timeoutMs))]);
}

/** A line of `proc`'s log that names the connection from `port` and why it ended. */
async function loggedRefusal(proc: Proc, port: number, why: RegExp = /./): Promise<string> {
  const line = () => proc.output().split('\n').find((l) => l.includes(`127.0.0.1:${port}`) && /refused|failed|malformed/.test(l) && why.test(l));
  return until(`a logged reason for port ${port}`, line).catch(() => {
    throw new Error(`no logged reason (${why}) for the connection from port ${port}; the log ends with:\n${proc.output().split('\n').slice(-8).join('\n')}`);
  });
}

// ---- hellos and what a well-behaved cluster must still do ---------------------------------------

let nextWorker = 0;
const workerHello = (cores = 1) => ({
  t: 'hello',
  role: 'worker',
  protocol: 1,
  workerId: `stranger-${process.pid}-${nextWorker++}`,
  host: 'stranger',
  cores,
  memoryMb: 1024,
  kind: 'node',
  capabilities: ['node', 'wasm', 'trusted'],
  dataUrl: null,
});

/** A stranger registered as a worker, welcomed, sending heartbeats while the test needs it. */
async function strangerWorker(cores = 1): Promise<Stranger & { workerId: string; leave(): Promise<void> }> {
  const s = await stranger(coordinatorUrl());
  const hello = workerHello(cores);
  s.say(hello);
  await until('welcome', () => s.messages.find((m) => m.t === 'welcome'));
  const beat = setInterval(() => s.say({ t: 'heartbeat', stats: {} }), 500);
  void s.closed.then(() => clearInterval(beat));
  return {
    ...s,
    workerId: hello.workerId,
    // Gone from the coordinator's registry too, so that no new application is lent its slots.
    async leave() {
      s.close();
      await until(`worker ${hello.workerId} gone`, async () => !(await cluster.executors()).some((e) => e.workerId === hello.workerId));
    },
  };
}

function expectedSums(n: number, keys: number): Array<[number, number]> {
  const sums = new Map<number, number>();
  for (let x = 0; x < n; x++) sums.set(x % keys, (sums.get(x % keys) ?? 0) + x);
  return [...sums].sort((a, b) => a[0] - b[0]);
}

/** The processes are up, and a new application's shuffle job across both workers is right. */
async function expectClusterWorks(): Promise<void> {
  expect(cluster.coordinator.child.exitCode).toBeNull();
  for (const w of cluster.workers) expect(w.child.exitCode).toBeNull();
  // The applications of the test have ended (their connections closed), so this one gets every slot.
  await until('every slot idle', async () => (await cluster.executors()).every((e) => e.appId === null));
  const fl = await Flint.start({ master: cluster.url, token: cluster.token, appName: 'after-the-strangers' });
  try {
    expect(fl.executorIds()).toHaveLength(2);
    const result = await fl.parallelize(Array.from({ length: 600 }, (_, i) => i), 6).map((x) => [x % 7, x] as [number, number]).reduceByKey((a, b) => a + b, { numPartitions: 3 }).collect();
    expect(result.sort((a, b) => a[0] - b[0])).toEqual(expectedSums(600, 7));
  } finally {
    await fl.stop();
  }
}

/** Shrinking would replay a failing case against live processes many times: report the first one. */
const runs = (numRuns: number) => ({ numRuns, endOnFailure: true });

/** Frames that leave the framing waiting for more (a first chunk, or a frame of no message). */
const leavesFramingWaiting = (frame: Uint8Array) => frame[0] === 0x02 || (frame.length === 1 && frame[0] === 0x01);

/** Values the record codec encodes: whatever a peer could put in a well-framed message. */
const anyValue = fc.anything({ withMap: true, withSet: true, withDate: true, withTypedArray: true, withBigInt: true });

/** Random frames or random values, as the first message or after a worker's hello. */
const garbage = fc.record({
  afterHello: fc.boolean(),
  payload: fc.oneof(fc.uint8Array({ maxLength: 300 }).map((frame) => ({ frame })), anyValue.map((value) => ({ value }))),
});

async function sendGarbage(s: Stranger, payload: { frame: Uint8Array } | { value: unknown }): Promise<void> {
  if ('frame' in payload) {
    s.raw(payload.frame);
    // A frame that leaves the framing waiting is not wrong yet; what follows it is.
    if (leavesFramingWaiting(payload.frame)) s.raw(Uint8Array.of(0xff));
  } else {
    s.say(payload.value);
  }
}

describe('strangers at the coordinator', () => {
  it('random frames and random values, before and after a hello, close that connection with a logged reason', async () => {
    await fc.assert(
      fc.asyncProperty(garbage, async ({ afterHello, payload }) => {
        const s = afterHello ? await strangerWorker() : await stranger(coordinatorUrl());
        await sendGarbage(s, payload);
        await closedWithin(s, 'garbage');
        await loggedRefusal(cluster.coordinator, s.port);
      }),
      runs(40),
    );
    await expectClusterWorks();
  });

  it('hellos and messages with fields of the wrong type close that connection', async () => {
    // No field takes a non-integer, and none takes a non-empty map of strings (stats is a map of objects).
    const wrongType = fc.oneof(fc.double({ noInteger: true }), fc.dictionary(fc.string(), fc.string(), { minKeys: 1, maxKeys: 2 }), fc.constant(undefined));
    const messages = [
      workerHello(),
      { t: 'executorUp', executorId: 'x' },
      { t: 'executorDown', executorId: 'x', reason: 'r', causedByApp: false },
      { t: 'fromExecutor', executorId: 'x', message: new Uint8Array(3) },
      { t: 'heartbeat', stats: {} },
      { t: 'locate', reqId: 1, executorId: 'x' },
      { t: 'relay', toWorker: 'x', frame: new Uint8Array(3) },
    ] as Array<Record<string, unknown>>;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: messages.length - 1 }), fc.nat(), wrongType, async (which, pick, value) => {
        const template = which === 0 ? workerHello() : messages[which]!;
        const fields = Object.keys(template);
        const bad = { ...template, [fields[pick % fields.length]!]: value };
        const s = which === 0 ? await stranger(coordinatorUrl()) : await strangerWorker();
        s.say(bad);
        await closedWithin(s, JSON.stringify(bad));
        await loggedRefusal(cluster.coordinator, s.port, /malformed/);
      }),
      runs(30),
    );
    await expectClusterWorks();
  });

  it('oversized messages, whole or in chunks, close that connection with a logged reason', async () => {
    for (const afterHello of [false, true]) {
      const whole = afterHello ? await strangerWorker() : await stranger(coordinatorUrl());
      whole.say({ t: 'heartbeat', stats: {}, padding: new Uint8Array(LIMIT + 4096) });
      await closedWithin(whole, 'one oversized frame');
      await loggedRefusal(cluster.coordinator, whole.port);
      // In chunks, each below the limit: what they add up to is refused before it is all buffered.
      const chunked = afterHello ? await strangerWorker() : await stranger(coordinatorUrl());
      const chunk = new Uint8Array(1 + LIMIT / 2);
      chunk[0] = 0x02;
      for (let i = 0; i < 4 && !chunked.isClosed(); i++) chunked.raw(chunk);
      await closedWithin(chunked, 'chunks over the limit');
      await loggedRefusal(cluster.coordinator, chunked.port, /larger than the \d+-byte limit/);
    }
    await expectClusterWorks();
  });
});

describe('strangers that claim what is not theirs', () => {
  it("a worker that speaks for another worker's executor, and a driver that addresses or releases another application's, are closed; that application runs on", async () => {
    // One slot stays free, so that strangers' applications take nothing from this one.
    const app = await Flint.start({ master: cluster.url, token: cluster.token, appName: 'victim', maxCores: 1 });
    try {
      const events: FlintEvent[] = [];
      app.events.on('*', (e) => events.push(e));
      const [victim] = app.executorIds();
      expect(victim).toBeDefined();
      const forgery = fc.oneof(
        fc.record({ t: fc.constant('fromExecutor'), executorId: fc.constant(victim!), message: fc.uint8Array({ maxLength: 64 }) }),
        fc.record({ t: fc.constant('executorUp'), executorId: fc.constant(victim!) }),
        fc.record({ t: fc.constant('executorDown'), executorId: fc.constant(victim!), reason: fc.string(), causedByApp: fc.boolean() }),
        fc.record({ t: fc.constant('toExecutor'), executorId: fc.constant(victim!), message: fc.uint8Array({ maxLength: 64 }) }),
        fc.record({ t: fc.constant('release'), executorId: fc.constant(victim!) }),
      );
      await fc.assert(
        fc.asyncProperty(forgery, async (message) => {
          const asDriver = message.t === 'toExecutor' || message.t === 'release';
          const s = asDriver ? await stranger(coordinatorUrl()) : await strangerWorker();
          if (asDriver) {
            s.say({ t: 'hello', role: 'driver', protocol: 1, appName: 'stranger', maxCores: 1, files: null, machineId: 'm', useWasm: true, host: 'stranger' });
            await until('welcome', () => s.messages.find((m) => m.t === 'welcome'));
          }
          s.say(message);
          await closedWithin(s, message.t);
          await loggedRefusal(cluster.coordinator, s.port, asDriver ? /belongs to another application/ : /spoke for executor/);
        }),
        runs(15),
      );
      // The victim's application never heard of any of it, and still computes with its executor.
      expect(app.executorIds()).toEqual([victim]);
      expect(await app.parallelize([1, 2, 3, 4], 2).map((x) => x * 10).collect()).toEqual([10, 20, 30, 40]);
      expect(events.filter((e) => e.type === 'executorRemoved' || e.type === 'executorDraining')).toEqual([]);
    } finally {
      await app.stop();
    }
    await expectClusterWorks();
  });

  it("a driver whose task points at another application's executor reads none of its blocks", async () => {
    const victim = await Flint.start({ master: cluster.url, token: cluster.token, appName: 'victim', maxCores: 1 });
    const s = await stranger(coordinatorUrl());
    try {
      // The victim's first shuffle (id 0) keeps its map outputs on its one executor.
      const shuffled = victim.parallelize(Array.from({ length: 100 }, (_, i) => i), 2).map((x) => [x % 3, x] as [number, number]).reduceByKey((a, b) => a + b, { numPartitions: 2 });
      expect((await shuffled.collect()).length).toBe(3);
      const [held] = victim.executorIds();
      s.say({ t: 'hello', role: 'driver', protocol: 1, appName: 'snoop', maxCores: 1, files: null, machineId: 'm', useWasm: false, host: 'stranger' });
      const added = await until('an executor for the stranger', () => s.messages.find((m) => m.t === 'executorAdded'));
      const mine = (added.executor as { id: string }).id;
      const stage = {
        stageKey: 'snoop-0',
        stageId: 0,
        stageAttempt: 0,
        plan: { kind: 'shuffleRead', rddId: 1, shuffleId: 0, aggregator: null, mapSideCombined: false, sort: null },
        shuffle: null,
        broadcasts: [],
        modules: [],
        useWasm: false,
        requirements: [],
      };
      const task = { taskId: 1, stageKey: 'snoop-0', stageId: 0, stageAttempt: 0, partition: 0, attempt: 0, output: { kind: 'result' }, slices: {}, blocks: [{ shuffleId: 0, mapId: 0, reduceId: 0, executorId: held!, bytes: 1 }] };
      s.say({ t: 'toExecutor', executorId: mine, message: encodeValue({ t: 'stage', stage }) }, { t: 'toExecutor', executorId: mine, message: encodeValue({ t: 'task', task }) });
      const end = await until('the task to end', () =>
        s.messages.filter((m) => m.t === 'fromExecutor').map((m) => decodeValue(m.message as Uint8Array) as { t: string; result?: { ok: boolean; fetchFailed?: unknown; error?: { message: string } } }).find((m) => m.t === 'taskEnd'),
      );
      expect(end.result!.ok).toBe(false);
      expect(end.result!.fetchFailed).toMatchObject({ shuffleId: 0, mapId: 0, executorId: held });
      const holder = (await cluster.executors()).find((e) => e.id === held)!;
      const worker = cluster.workers.find((w) => w.output().includes(`as ${holder.workerId} `))!;
      await until('the refusal logged', () => worker.output().includes(`to executor ${held}: they work for different applications`));
      // The victim still reads its own shuffle.
      expect((await shuffled.collect()).sort((a, b) => a[0] - b[0])).toEqual(expectedSums(100, 3));
    } finally {
      s.close();
      await victim.stop();
    }
    await expectClusterWorks();
  });

  it('forged, replayed and malformed task results make the driver drop that executor; the job is right', async () => {
    const evil = await strangerWorker(1);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    // The stranger runs no task: when it is given one, it sends a result for another task instead,
    // of the kind the scenario says, once per scenario; the executor it is lent again after being
    // dropped comes up only in the next scenario, so that no task waits on it meanwhile.
    let mode: 'elsewhere' | 'finished' | 'unknown' | 'malformed' = 'elsewhere';
    let events: FlintEvent[] = [];
    const forged: Array<{ executorId: string; taskId: number; mode: string }> = [];
    const launched: string[] = [];
    let lying = true;
    const comeUp = () => {
      for (const executorId of launched.splice(0)) evil.say({ t: 'executorUp', executorId });
    };
    const onMessage = async (m: Record<string, unknown>) => {
      if (m.t === 'launch') {
        launched.push(m.executorId as string);
        if (lying) comeUp();
        return;
      }
      if (m.t !== 'toExecutor') return;
      const executorId = m.executorId as string;
      const inner = decodeValue(m.message as Uint8Array) as { t: string; task?: { taskId: number } };
      if (inner.t !== 'task' || !lying) return;
      lying = false;
      if (mode === 'malformed') {
        forged.push({ executorId, taskId: -1, mode });
        evil.say({ t: 'fromExecutor', executorId, message: encodeValue(fc.sample(anyValue, 1)[0]) });
        return;
      }
      const ends = () => events.filter((e): e is Extract<FlintEvent, { type: 'taskEnd' }> => e.type === 'taskEnd');
      const taskId = await until(`a task to forge (${mode})`, () => {
        if (mode === 'unknown') return 1_000_000;
        if (mode === 'finished') return ends().find((e) => e.status === 'success' && e.executorId !== executorId)?.taskId;
        const done = new Set(ends().map((e) => e.taskId));
        return events.find((e): e is Extract<FlintEvent, { type: 'taskStart' }> => e.type === 'taskStart' && e.executorId !== executorId && !done.has(e.taskId))?.taskId;
      });
      const metrics = { durationMs: 1, recordsRead: 0, recordsWritten: 0, shuffleReadBytes: 0, shuffleWriteBytes: 0, resultBytes: 0, operators: [] };
      const result = { taskId, ok: true, result: encodeValue([]), mapSizes: [0, 0, 0], blocksAdded: [], metrics };
      forged.push({ executorId, taskId, mode });
      evil.say({ t: 'fromExecutor', executorId, message: encodeValue({ t: 'taskEnd', result }) });
    };
    const seen = { n: 0 };
    const pump = setInterval(() => {
      for (; seen.n < evil.messages.length; seen.n++) void onMessage(evil.messages[seen.n]!);
    }, 5);
    const app = await Flint.start({ master: cluster.url, token: cluster.token, appName: 'lied-to', speculation: false });
    try {
      for (const m of ['elsewhere', 'finished', 'unknown', 'malformed'] as const) {
        mode = m;
        events = [];
        const stopRecording = app.events.on('*', (e) => events.push(e));
        lying = true;
        comeUp();
        const evilExecutor = await until('an executor on the stranger', () => app.executorIds().find((id) => evil.messages.some((x) => x.t === 'launch' && x.executorId === id)));
        const result = await app
          .parallelize(Array.from({ length: 900 }, (_, i) => i), 9)
          .map((x) => {
            const until = Date.now() + 0.3;
            while (Date.now() < until);
            return [x % 5, x] as [number, number];
          })
          .reduceByKey((a, b) => a + b, { numPartitions: 3 })
          .collect();
        expect(result.sort((a, b) => a[0] - b[0])).toEqual(expectedSums(900, 5));
        await app.events.delivered();
        stopRecording();
        const lie = forged.find((f) => f.mode === m);
        expect(lie?.executorId).toBe(evilExecutor);
        // Only the liar was dropped, saying why; the honest executors ran on.
        const removed = events.filter((e): e is Extract<FlintEvent, { type: 'executorRemoved' }> => e.type === 'executorRemoved');
        expect(removed.map((e) => e.executorId)).toEqual([evilExecutor]);
        if (m === 'malformed') {
          expect(removed[0]!.reason).toMatch(new RegExp(`^malformed executor-to-driver message.* from executor ${evilExecutor}`));
        } else {
          const reason = m === 'elsewhere' ? 'task runs on another executor' : 'unknown task';
          expect(warn.mock.calls.map((c) => String(c[0]))).toContainEqual(expect.stringContaining(`executor ${evilExecutor} dropped: task result for task ${lie!.taskId} refused: ${reason}`));
        }
        expect(events.filter((e) => e.type === 'taskEnd' && e.status === 'failed')).toEqual([]);
      }
    } finally {
      clearInterval(pump);
      warn.mockRestore();
      await app.stop();
      await evil.leave();
    }
    await expectClusterWorks();
  });
});

describe("strangers at a worker's data server", () => {
  /** A real worker's data server, and the worker process behind it. */
  async function dataServer(): Promise<{ url: string; worker: Proc; workerId: string }> {
    const slot = (await cluster.executors())[0]!;
    const worker = cluster.workers.find((w) => w.output().includes(`as ${slot.workerId} `))!;
    return { url: `ws://${slot.hostPort}/data`, worker, workerId: slot.workerId };
  }

  it('random frames and random values close that link with a logged reason', async () => {
    const { url, worker } = await dataServer();
    await fc.assert(
      fc.asyncProperty(garbage, async ({ payload }) => {
        const s = await stranger(url);
        await sendGarbage(s, payload);
        await closedWithin(s, 'garbage');
        await loggedRefusal(worker, s.port);
      }),
      runs(30),
    );
    const whole = await stranger(url);
    whole.raw(wholeFrame(new Uint8Array(LIMIT + 4096)));
    await closedWithin(whole, 'an oversized frame');
    await loggedRefusal(worker, whole.port);
    await expectClusterWorks();
  });

  it('garbage through the relay is dropped with a logged reason, and the worker runs on', async () => {
    const { worker, workerId: target } = await dataServer();
    const evil = await strangerWorker(1);
    const mentions = () => worker.output().split(`from worker ${evil.workerId}`).length - 1;
    try {
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 300 }), anyValue.map((v) => encodeValue(v))), async (frame) => {
          const before = mentions();
          evil.say({ t: 'relay', toWorker: target, frame });
          await until('the relayed garbage logged', () => mentions() > before);
        }),
        runs(30),
      );
    } finally {
      await evil.leave();
    }
    await expectClusterWorks();
  });

  it('a link cannot pass for another worker, nor speak for executors of another worker', async () => {
    const { url, worker, workerId: target } = await dataServer();
    const other = (await cluster.executors()).find((e) => e.workerId !== target)!.workerId;
    const evil = await strangerWorker(1);
    // A hello whose nonce the coordinator never relayed: it must not speak before it is believed.
    const unproven = await stranger(url);
    unproven.say({ t: 'hello', from: other, protocol: 1, nonce: 'never-relayed' }, { t: 'peerGone', from: 'x', to: 'y' });
    await closedWithin(unproven, 'an unproven hello');
    await loggedRefusal(worker, unproven.port, /before its hello was verified/);
    // A nonce relayed by one worker, presented by a link that says it is another.
    const impostor = await stranger(url);
    evil.say({ t: 'relay', toWorker: target, frame: encodeValue({ t: 'hello', from: evil.workerId, protocol: 1, nonce: 'n-impostor' }) });
    impostor.say({ t: 'hello', from: other, protocol: 1, nonce: 'n-impostor' });
    await closedWithin(impostor, 'an impostor');
    await loggedRefusal(worker, impostor.port, new RegExp(`claimed to be worker ${other}, but its nonce came through the relay from ${evil.workerId}`));
    // A link that is what it says, speaking for an executor of another worker.
    const app = await Flint.start({ master: cluster.url, token: cluster.token, appName: 'peers', maxCores: 2 });
    try {
      const slots = await cluster.executors();
      const onTarget = slots.find((e) => e.workerId === target && e.appId !== null)!.id;
      const onOther = slots.find((e) => e.workerId === other && e.appId !== null)!.id;
      const liar = await stranger(url);
      evil.say({ t: 'relay', toWorker: target, frame: encodeValue({ t: 'hello', from: evil.workerId, protocol: 1, nonce: 'n-liar' }) });
      liar.say({ t: 'hello', from: evil.workerId, protocol: 1, nonce: 'n-liar' });
      await until('the hello answered', () => liar.messages.find((m) => m.t === 'hello'));
      liar.say({ t: 'peer', from: onOther, to: onTarget, message: { t: 'blocks', reqId: 1, data: [new Uint8Array([1, 2, 3])] } });
      await closedWithin(liar, 'a forged peer message');
      const forgeries = () => worker.output().split(`claiming to come from executor ${onOther} (of worker ${other})`).length - 1;
      await until('the forgery logged', () => forgeries() === 1);
      // Through the relay the coordinator vouches for the sender, so the lie is as plain.
      evil.say({ t: 'relay', toWorker: target, frame: encodeValue({ t: 'peer', from: onOther, to: onTarget, message: { t: 'fetch', reqId: 1, blocks: [] } }) });
      await until('the relayed forgery logged', () => forgeries() === 2);
      const result = await app.parallelize(Array.from({ length: 300 }, (_, i) => i), 4).map((x) => [x % 3, x] as [number, number]).reduceByKey((a, b) => a + b).collect();
      expect(result.sort((a, b) => a[0] - b[0])).toEqual(expectedSums(300, 3));
    } finally {
      await app.stop();
      await evil.leave();
    }
    await expectClusterWorks();
  });
});
