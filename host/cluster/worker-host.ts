/**
 * A worker: a process or a browser tab that lends its cores to a coordinator. Each slot the
 * coordinator lends to an application runs a fresh executor (a worker thread, a Web Worker: the
 * same executor code as `local[N]`), so applications never share an executor's globals. The host
 * relays the executors' control messages over its one coordinator connection, routes their shuffle
 * traffic (PeerRouter), carries WebRTC signals for links that need them, sends a heartbeat every
 * second, reconnects with jittered exponential backoff keeping its identity when the coordinator
 * goes away, and decommissions on request: it takes no new work, lets the applications drain and
 * release its executors, then leaves.
 *
 * Environment-neutral: `flint worker` (host/node/cluster/worker-agent.ts) and the volunteer page
 * (browser/volunteer) supply the connection, the executors and the direct links.
 */
import { FlintError } from '../errors.js';
import { decodeValue, encodeValueShared } from '../codec/records.js';
import type { ChaosSpec } from '../exec/chaos.js';
import type { Endpoint } from '../transport/endpoint.js';
import type { RtcSignal } from '../transport/rtc-link.js';
import type { Capability } from './backend.js';
import { PeerRouter, type PeerHostedExecutor, type PeerLocation, type PeerTraffic } from './peer-router.js';
import {
  checkCoordinatorToWorker,
  checkDriverToExecutor,
  type AppInfo,
  type CoordinatorToWorker,
  type WorkerHello,
  type WorkerToCoordinator,
} from './schemas.js';

/** An executor as its host runs it. */
export interface HostedExecutor extends PeerHostedExecutor {
  readonly ready: Promise<void>;
  /** A message of the executor protocol (DriverToExecutor). */
  send(message: unknown): void;
  /** Messages of the executor protocol (ExecutorToDriver) from it. */
  onMessage(handler: (message: unknown) => void): void;
  /** It ended; `byItself` when nobody stopped it (its own code did: process.exit, out of memory). */
  onExit(handler: (exit: { reason: string; byItself: boolean }) => void): void;
  terminate(): Promise<void>;
}

export interface WorkerHostOptions {
  workerId: string;
  host: string;
  cores: number;
  memoryMb: number;
  kind: 'node' | 'browser';
  capabilities: Capability[];
  chaos: ChaosSpec | null;
  /** Where the coordinator is, for messages. */
  master: string;
  /** A new connection to the coordinator; rejects with UNAUTHORIZED when it refuses the token. */
  connect(): Promise<{ endpoint: Endpoint; localAddress: string }>;
  /** The address other workers reach this one's data server on (null: it has none). */
  dataUrl(localAddress: string): Promise<string | null>;
  spawn(executorId: string, app: AppInfo): HostedExecutor;
  /** A direct link to another worker (see PeerRouterOptions.openDirect). */
  openDirect(workerId: string, dataUrl: string | null, signals: SignalChannel): Promise<Endpoint>;
  /**
   * Whether WebRTC is available here: links to workers without a data server (tabs) can be opened,
   * and offers from others are answered. Said in the hello, so that peers of a worker without it go
   * to the relay at once.
   */
  webRtc: boolean;
  /** See PeerRouterOptions.maxDirectLinks. */
  maxDirectLinks?: number;
  maxDirectLinksEver?: number;
  /** A worker asks to open a WebRTC link to this one: answer it (then `acceptDirect`). */
  answerDirect?(fromWorker: string, linkId: string, signals: SignalChannel): void;
  heartbeatIntervalMs?: number;
  /**
   * Runs `tick` every `ms` until the returned function is called. A tab passes one driven by a Web
   * Worker: browsers throttle a hidden page's own timers to one wake-up a minute, which would make
   * a background volunteer look dead.
   */
  every?(ms: number, tick: () => void): () => void;
  drainTimeoutMs?: number;
  log(message: string): void;
  /** What the host is doing, for a page that shows it. */
  onStatus?(status: WorkerStatus): void;
  backoffDelay(attempt: number): number;
}

/** The signals of one WebRTC link being opened, carried by the coordinator. */
export interface SignalChannel {
  send(signal: RtcSignal): void;
  onSignal(handler: (signal: RtcSignal) => void): void;
  readonly linkId: string;
}

export interface WorkerStatus {
  connection: 'connecting' | 'connected' | 'reconnecting' | 'refused' | 'leaving' | 'left';
  /** Why it is not connected, when it is not. */
  detail: string | null;
  applications: string[];
  cores: number;
  busy: number;
  tasksDone: number;
  tasksFailed: number;
  /** Milliseconds executors spent running tasks. */
  cpuMs: number;
  /** Shuffle bytes its tasks read and wrote. */
  bytesIn: number;
  bytesOut: number;
  /** Shuffle blocks exchanged with other workers, direct or through the coordinator's relay. */
  links: PeerTraffic;
}

interface Hosted {
  executor: HostedExecutor;
  app: AppInfo;
  running: number;
  completed: number;
  failed: number;
  released: boolean;
}

export class WorkerHost {
  private coordinator: Endpoint | null = null;
  private readonly hosted = new Map<string, Hosted>();
  readonly router: PeerRouter;
  private readonly locates = new Map<number, (loc: PeerLocation) => void>();
  private nextLocate = 0;
  private dataUrl: string | null = null;
  private stopped = false;
  private welcomed = false;
  private decommissioning = false;
  private cores: number;
  private readonly signalHandlers = new Map<string, (signal: RtcSignal) => void>();
  private nextLink = 0;
  private readonly status: WorkerStatus;
  private finish!: (code: number) => void;
  /** Resolves with the exit code once the worker is done (decommissioned or stopped). */
  readonly done = new Promise<number>((resolve) => (this.finish = resolve));

  constructor(private readonly options: WorkerHostOptions) {
    this.cores = options.cores;
    this.status = { connection: 'connecting', detail: null, applications: [], cores: options.cores, busy: 0, tasksDone: 0, tasksFailed: 0, cpuMs: 0, bytesIn: 0, bytesOut: 0, links: { directLinks: 0, directBytesIn: 0, directBytesOut: 0, relayedBytesIn: 0, relayedBytesOut: 0 } };
    this.router = new PeerRouter({
      workerId: options.workerId,
      connectTimeoutMs: 3000,
      canOpenWithoutDataUrl: options.webRtc,
      maxDirectLinks: options.maxDirectLinks,
      maxDirectLinksEver: options.maxDirectLinksEver,
      log: options.log,
      relay: (toWorker, frame) => this.send({ t: 'relay', toWorker, frame }),
      openDirect: (workerId, dataUrl) => options.openDirect(workerId, dataUrl, this.signalChannel(workerId, `${options.workerId}:${this.nextLink++}`)),
      locate: (executorId) =>
        new Promise<PeerLocation>((resolve) => {
          if (!this.coordinator) {
            resolve({ workerId: null, dataUrl: null, appId: null, webRtc: false });
            return;
          }
          const reqId = this.nextLocate++;
          this.locates.set(reqId, resolve);
          this.send({ t: 'locate', reqId, executorId });
        }),
    });
  }

  get workerId(): string {
    return this.options.workerId;
  }

  /**
   * Connects, retrying until the coordinator answers; rejects if it refuses the token. The worker
   * then runs on its own until `done`.
   */
  async start(): Promise<void> {
    const first = await this.connectUntilAnswered(true);
    if (!first) return;
    void this.run(first);
  }

  private async connectUntilAnswered(firstTime: boolean): Promise<{ endpoint: Endpoint; localAddress: string } | null> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        return await this.options.connect();
      } catch (err) {
        if (err instanceof FlintError && err.code === 'UNAUTHORIZED') {
          this.setStatus({ connection: 'refused', detail: err.message });
          if (firstTime) throw err;
          // A coordinator restarted with another token: this worker cannot join it again.
          this.options.log(err.message);
          this.exit(1);
          return null;
        }
        this.setStatus({ connection: firstTime && attempt === 0 ? 'connecting' : 'reconnecting', detail: (err as Error).message });
        if (attempt === 0) this.options.log(`${(err as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, this.options.backoffDelay(attempt)));
      }
    }
    return null;
  }

  private async run(connection: { endpoint: Endpoint; localAddress: string }): Promise<void> {
    let conn: { endpoint: Endpoint; localAddress: string } | null = connection;
    // Sessions refused at once (our old connection is not yet declared gone) back off like failed connects.
    let refusals = 0;
    while (conn && !this.stopped) {
      this.welcomed = false;
      await this.session(conn.endpoint, conn.localAddress);
      if (this.stopped) return;
      if (this.decommissioning) {
        // Leaving with the coordinator gone: nobody is left to hand anything to.
        this.exit(0);
        return;
      }
      refusals = this.welcomed ? 0 : refusals + 1;
      this.options.log('lost the coordinator; reconnecting');
      this.setStatus({ connection: 'reconnecting', detail: 'the coordinator went away' });
      await new Promise((r) => setTimeout(r, this.options.backoffDelay(refusals)));
      conn = await this.connectUntilAnswered(false);
    }
  }

  /** One connection to the coordinator, until it ends. */
  private async session(endpoint: Endpoint, localAddress: string): Promise<void> {
    this.dataUrl = await this.options.dataUrl(localAddress);
    this.coordinator = endpoint;
    this.router.forgetLocations();
    const hello: WorkerHello = {
      t: 'hello',
      role: 'worker',
      protocol: 1,
      workerId: this.options.workerId,
      host: this.options.host,
      cores: this.cores,
      memoryMb: this.options.memoryMb,
      kind: this.options.kind,
      capabilities: this.options.capabilities,
      dataUrl: this.dataUrl,
      webRtc: this.options.webRtc,
    };
    endpoint.send(hello);
    const every = this.options.every ?? ((ms: number, tick: () => void) => {
      const timer = setInterval(tick, ms);
      return () => clearInterval(timer);
    });
    const stopHeartbeats = every(this.options.heartbeatIntervalMs ?? 1000, () => this.sendHeartbeat());
    await new Promise<void>((resolve) => {
      endpoint.onMessage((raw) => this.onCoordinatorMessage(raw));
      endpoint.onClose(() => resolve());
    });
    stopHeartbeats();
    this.coordinator = null;
    for (const resolve of this.locates.values()) resolve({ workerId: null, dataUrl: null, appId: null, webRtc: false });
    this.locates.clear();
    // The applications these executors worked for reach them only through the coordinator.
    for (const id of [...this.hosted.keys()]) void this.stopExecutor(id);
  }

  private send(message: WorkerToCoordinator): void {
    this.coordinator?.send(message);
  }

  private sendHeartbeat(): void {
    const stats: Record<string, { running: number; completed: number; failed: number }> = {};
    for (const [id, h] of this.hosted) stats[id] = { running: h.running, completed: h.completed, failed: h.failed };
    this.send({ t: 'heartbeat', stats });
    // Links carry blocks between task ends too: what a page shows of them stays current.
    const links = this.router.traffic();
    const was = this.status.links;
    if (links.directLinks !== was.directLinks || links.directBytesIn + links.relayedBytesIn !== was.directBytesIn + was.relayedBytesIn || links.directBytesOut + links.relayedBytesOut !== was.directBytesOut + was.relayedBytesOut) this.setStatus({});
  }

  private onCoordinatorMessage(raw: unknown): void {
    let m: CoordinatorToWorker;
    try {
      m = checkCoordinatorToWorker(raw, 'the coordinator');
    } catch (err) {
      this.options.log((err as Error).message);
      return;
    }
    switch (m.t) {
      case 'welcome':
        this.welcomed = true;
        this.setStatus({ connection: 'connected', detail: null });
        this.options.log(`registered with ${this.options.master} as ${m.workerId} (${this.cores} core${this.cores === 1 ? '' : 's'})`);
        return;
      case 'launch':
        this.launch(m.executorId, m.app);
        return;
      case 'release':
        void this.stopExecutor(m.executorId);
        return;
      case 'toExecutor':
        this.toExecutor(m.executorId, m.message);
        return;
      case 'located':
        this.locates.get(m.reqId)?.({ workerId: m.workerId, dataUrl: m.dataUrl, appId: m.appId ?? null, webRtc: m.webRtc ?? true });
        this.locates.delete(m.reqId);
        return;
      case 'relayed':
        this.router.onRelayed(m.fromWorker, m.frame);
        return;
      case 'relayFailed':
        this.router.workerGone(m.toWorker);
        return;
      case 'signalled':
        this.onSignalled(m.fromWorker, m.linkId, m.signal as RtcSignal);
        return;
      case 'shutdown':
        this.options.log(`the coordinator says: ${m.reason}`);
        if (this.decommissioning) this.exit(0);
        return;
    }
  }

  // ---- WebRTC signals, carried by the coordinator ------------------------------------------------

  private signalChannel(peerWorker: string, linkId: string): SignalChannel {
    return {
      linkId,
      send: (signal) => this.send({ t: 'signal', toWorker: peerWorker, linkId, signal }),
      onSignal: (handler) => {
        this.signalHandlers.set(`${peerWorker}|${linkId}`, handler);
      },
    };
  }

  private onSignalled(fromWorker: string, linkId: string, signal: RtcSignal): void {
    const handler = this.signalHandlers.get(`${fromWorker}|${linkId}`);
    if (handler) {
      handler(signal);
      return;
    }
    if (signal.kind !== 'offer' || !this.options.answerDirect) return;
    // A worker opens a link to us: answer it; the router checks who it is once it says hello.
    const channel = this.signalChannel(fromWorker, linkId);
    this.options.answerDirect(fromWorker, linkId, channel);
    this.signalHandlers.get(`${fromWorker}|${linkId}`)?.(signal);
  }

  /** Forgets the signals of a link once it is open or given up. */
  linkSettled(peerWorker: string, linkId: string): void {
    this.signalHandlers.delete(`${peerWorker}|${linkId}`);
  }

  // ---- executors -------------------------------------------------------------------------------

  private launch(executorId: string, app: AppInfo): void {
    if (this.hosted.has(executorId) || this.decommissioning) return;
    let executor: HostedExecutor;
    try {
      executor = this.options.spawn(executorId, app);
    } catch (err) {
      this.options.log(`executor ${executorId} failed to start: ${(err as Error).message}`);
      this.send({ t: 'executorDown', executorId, reason: `it failed to start: ${(err as Error).message}`, causedByApp: false });
      return;
    }
    const hosted: Hosted = { executor, app, running: 0, completed: 0, failed: 0, released: false };
    this.hosted.set(executorId, hosted);
    this.router.addLocal(executorId, app.appId, executor);
    this.updateApplications();
    executor.onMessage((m) => {
      const msg = m as { t?: string; result?: { ok?: boolean; metrics?: { durationMs?: number; shuffleReadBytes?: number; shuffleWriteBytes?: number } } };
      if (msg.t === 'taskEnd') {
        hosted.running = Math.max(0, hosted.running - 1);
        if (msg.result?.ok) hosted.completed++;
        else hosted.failed++;
        const metrics = msg.result?.metrics;
        this.setStatus({
          busy: this.busy(),
          tasksDone: this.status.tasksDone + (msg.result?.ok ? 1 : 0),
          tasksFailed: this.status.tasksFailed + (msg.result?.ok ? 0 : 1),
          cpuMs: this.status.cpuMs + (metrics?.durationMs ?? 0),
          bytesIn: this.status.bytesIn + (metrics?.shuffleReadBytes ?? 0),
          bytesOut: this.status.bytesOut + (metrics?.shuffleWriteBytes ?? 0),
        });
      }
      this.send({ t: 'fromExecutor', executorId, message: encodeValueShared(m) });
    });
    executor.onExit((exit) => {
      this.router.removeLocal(executorId);
      if (this.hosted.get(executorId) === hosted) this.hosted.delete(executorId);
      this.updateApplications();
      if (hosted.released) return;
      // An executor dies on its own only through what a task made it do (process.exit, out of memory).
      this.send({ t: 'executorDown', executorId, reason: exit.reason, causedByApp: exit.byItself && hosted.running > 0 });
    });
    executor.ready.then(
      () => this.send({ t: 'executorUp', executorId }),
      (err: Error) => this.options.log(`executor ${executorId} failed to start: ${err.message}`),
    );
  }

  private busy(): number {
    let n = 0;
    for (const h of this.hosted.values()) if (h.running > 0) n++;
    return n;
  }

  private updateApplications(): void {
    this.setStatus({ applications: [...new Set([...this.hosted.values()].map((h) => h.app.name))], busy: this.busy() });
  }

  private toExecutor(executorId: string, payload: Uint8Array): void {
    const hosted = this.hosted.get(executorId);
    if (!hosted || hosted.released) return;
    let message;
    try {
      message = checkDriverToExecutor(decodeValue(payload), `the driver of ${hosted.app.appId}`);
    } catch (err) {
      this.options.log(`dropped a message for executor ${executorId}: ${(err as Error).message}`);
      return;
    }
    if (message.t === 'task') {
      hosted.running++;
      this.setStatus({ busy: this.busy() });
      const crash = this.options.chaos?.crash ?? 0;
      if (crash > 0 && Math.random() < crash) {
        // Chaos: the executor dies partway through this task, as a crashed process would.
        setTimeout(() => void this.crash(executorId), Math.floor(Math.random() * 50));
      }
    }
    hosted.executor.send(message);
  }

  private async crash(executorId: string): Promise<void> {
    const hosted = this.hosted.get(executorId);
    if (!hosted || hosted.released) return;
    hosted.released = true;
    this.hosted.delete(executorId);
    await hosted.executor.terminate();
    this.send({ t: 'executorDown', executorId, reason: 'chaos: the executor crashed during a task', causedByApp: false });
  }

  private async stopExecutor(executorId: string): Promise<void> {
    const hosted = this.hosted.get(executorId);
    if (!hosted) return;
    hosted.released = true;
    this.hosted.delete(executorId);
    this.router.removeLocal(executorId);
    this.updateApplications();
    await hosted.executor.terminate();
  }

  // ---- what a person controls --------------------------------------------------------------------

  /** Lends this many cores from now on (0 pauses); the coordinator takes back what is over. */
  setCores(cores: number): void {
    this.cores = cores;
    this.setStatus({ cores });
    this.send({ t: 'cores', cores });
  }

  /**
   * Leaving (SIGTERM, a tab's Leave button or its closing): take no new work; the coordinator
   * revokes this worker's executors, their applications stop sending tasks, hand the shuffle
   * outputs they hold on to executors that stay (or declare them lost) and release them; then the
   * worker leaves.
   */
  decommission(): void {
    if (this.decommissioning) return;
    this.decommissioning = true;
    if (!this.coordinator) {
      this.exit(0);
      return;
    }
    this.options.log('decommissioning: finishing running tasks, then leaving');
    this.setStatus({ connection: 'leaving', detail: 'finishing its tasks and handing what it computed to another computer' });
    this.send({ t: 'decommission' });
    if (this.hosted.size === 0) {
      // Give the message a moment to leave.
      setTimeout(() => this.exit(0), 100);
      return;
    }
    const timer = setTimeout(() => {
      this.options.log(`decommissioning: executors still held after ${this.options.drainTimeoutMs ?? 30_000} ms; leaving anyway`);
      this.exit(0);
    }, this.options.drainTimeoutMs ?? 30_000);
    (timer as { unref?: () => void }).unref?.();
  }

  /** Stops everything now. */
  async stop(): Promise<void> {
    this.exit(0);
  }

  private setStatus(change: Partial<WorkerStatus>): void {
    Object.assign(this.status, change);
    this.status.links = this.router.traffic();
    this.options.onStatus?.({ ...this.status });
  }

  private exit(code: number): void {
    if (this.stopped) return;
    this.stopped = true;
    void (async () => {
      await Promise.all([...this.hosted.keys()].map((id) => this.stopExecutor(id)));
      this.router.close();
      this.coordinator?.close();
      if (this.status.connection !== 'refused') this.setStatus({ connection: 'left', detail: null });
      this.finish(code);
    })();
  }
}
