/**
 * Master `flint://host:port`: the driver stays in the user's process and registers an application
 * with the coordinator, which lends it executors on `flint worker`s (and, next, browser tabs).
 * Each lent executor appears to the driver as an Endpoint whose messages ride the coordinator
 * connection, encoded once here and never decoded by the coordinator; what comes back is checked
 * against the protocol's schemas before the scheduler sees it.
 *
 * When the coordinator goes away every lent executor is lost; the backend reconnects with jittered
 * backoff and registers again, and running jobs wait for executors. If it stays away longer than
 * `reconnectWindowMs`, running jobs fail with EXECUTOR_LOST saying so.
 */
import { hostname } from 'node:os';
import type { BackendListener, ExecutorBackend, ExecutorDescription } from '../../cluster/backend.js';
import type { EventBus } from '../../events/bus.js';
import type { FlintEvent } from '../../events/events.js';
import { checkCoordinatorToDriver, checkExecutorToDriver, type CoordinatorToDriver, type DriverHello, type DriverToCoordinator } from '../../cluster/schemas.js';
import { decodeValue, encodeValueShared } from '../../codec/records.js';
import { FlintError } from '../../errors.js';
import type { Endpoint } from '../../transport/endpoint.js';
import type { FileServer } from '../file-server.js';
import { backoffDelay, connect, coordinatorWebSocketUrl } from './connect.js';

export interface RemoteBackendOptions {
  master: string;
  token: string;
  appName: string;
  maxCores: number | null;
  useWasm: boolean;
  /** Starts the driver's file server on `host`, for executors that cannot read its files. */
  fileServer?: (host: string) => Promise<FileServer>;
  machineId: string;
  /** How long start() waits for the executors the coordinator promised. */
  startTimeoutMs?: number;
  reconnectWindowMs?: number;
  log(message: string): void;
}

interface LentExecutor {
  description: ExecutorDescription;
  handler: ((m: unknown) => void) | null;
  early: unknown[];
  closeHandlers: Array<(reason?: Error) => void>;
  closed: boolean;
}

export class RemoteBackend implements ExecutorBackend {
  private listener: BackendListener | null = null;
  private coordinator: Endpoint | null = null;
  private readonly lent = new Map<string, LentExecutor>();
  private stopped = false;
  private appId: string | null = null;
  private unavailableTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly executorWaiters: Array<() => void> = [];
  private files: FileServer | null = null;
  private bus: EventBus | null = null;
  private events: FlintEvent[] = [];
  private eventsTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly options: RemoteBackendOptions) {}

  /** Spark's default for clusters: every lent core, and at least 2. */
  get defaultParallelism(): number {
    let cores = 0;
    for (const e of this.lent.values()) cores += e.description.cores;
    return Math.max(2, cores);
  }

  get applicationId(): string | null {
    return this.appId;
  }

  /**
   * Shares the application's events with the coordinator (its dashboard and event logs), in
   * batches every 100 ms over the coordinator connection. Events wait in memory while the
   * connection is down and go out once the application has registered again.
   */
  attachEvents(bus: EventBus): void {
    this.bus = bus;
    bus.on('*', (e) => {
      this.events.push(e);
      if (this.events.length >= 5000) this.flushEvents();
      else if (!this.eventsTimer) {
        this.eventsTimer = setTimeout(() => this.flushEvents(), 100);
        this.eventsTimer.unref?.();
      }
    });
  }

  private flushEvents(): void {
    if (this.eventsTimer) clearTimeout(this.eventsTimer);
    this.eventsTimer = null;
    if (this.events.length === 0 || !this.coordinator || !this.appId) return;
    const batch = this.events;
    this.events = [];
    this.send({ t: 'events', events: encodeValueShared(batch) });
  }

  async start(listener: BackendListener): Promise<void> {
    this.listener = listener;
    const conn = await connect(coordinatorWebSocketUrl(this.options.master), {
      token: this.options.token,
      label: `the coordinator at ${this.options.master}`,
      timeoutMs: 10_000,
    });
    if (this.options.fileServer) this.files = await this.options.fileServer(conn.localAddress);
    const expected = await this.session(conn.endpoint);
    // Jobs can start once the executors the coordinator promised have arrived (or soon after).
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 30_000);
    while (this.lent.size < expected && Date.now() < deadline && !this.stopped) {
      await new Promise<void>((resolve) => {
        this.executorWaiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  /** Registers the application on a new connection; resolves with the cores it will be lent at once. */
  private session(endpoint: Endpoint): Promise<number> {
    this.coordinator = endpoint;
    const hello: DriverHello = {
      t: 'hello',
      role: 'driver',
      protocol: 1,
      appName: this.options.appName,
      maxCores: this.options.maxCores,
      files: this.files ? { url: this.files.url, secret: this.files.secret } : null,
      machineId: this.options.machineId,
      useWasm: this.options.useWasm,
      host: hostname(),
    };
    endpoint.send(hello);
    return new Promise<number>((resolve, reject) => {
      let welcomed = false;
      endpoint.onMessage((raw) => {
        let m: CoordinatorToDriver;
        try {
          m = checkCoordinatorToDriver(raw, 'the coordinator');
        } catch (err) {
          this.options.log((err as Error).message);
          return;
        }
        if (m.t === 'welcome') {
          welcomed = true;
          this.appId = m.appId;
          if (this.unavailableTimer) clearTimeout(this.unavailableTimer);
          this.unavailableTimer = null;
          resolve(m.expectedCores);
          return;
        }
        this.onCoordinatorMessage(m);
      });
      endpoint.onClose((reason) => {
        if (!welcomed) reject(new FlintError('IO_ERROR', `the coordinator at ${this.options.master} closed the connection${reason ? `: ${reason.message}` : ''}`));
        this.connectionLost(endpoint, reason);
      });
    });
  }

  private onCoordinatorMessage(m: CoordinatorToDriver): void {
    switch (m.t) {
      case 'executorAdded':
        this.addExecutor(m.executor);
        return;
      case 'executorLost':
        this.loseExecutor(m.executorId, m.reason, m.causedByApp);
        return;
      case 'executorRevoked':
        if (!this.lent.has(m.executorId)) return;
        this.listener?.executorDraining(m.executorId, () => this.send({ t: 'release', executorId: m.executorId }));
        return;
      case 'fromExecutor': {
        const lent = this.lent.get(m.executorId);
        if (!lent || lent.closed) return;
        let message;
        try {
          message = checkExecutorToDriver(decodeValue(m.message), `executor ${m.executorId}`);
        } catch (err) {
          // An executor that breaks the protocol is let go; the others keep working.
          this.options.log((err as Error).message);
          this.loseExecutor(m.executorId, (err as Error).message, false);
          this.send({ t: 'release', executorId: m.executorId });
          return;
        }
        if (lent.handler) lent.handler(message);
        else lent.early.push(message);
        return;
      }
      case 'shutdown':
        this.options.log(`the coordinator is shutting down: ${m.reason}`);
        return;
      case 'welcome':
      case 'located':
      case 'relayed':
        return;
    }
  }

  private addExecutor(description: ExecutorDescription): void {
    if (this.lent.has(description.id) || this.stopped) return;
    const lent: LentExecutor = { description, handler: null, early: [], closeHandlers: [], closed: false };
    this.lent.set(description.id, lent);
    const id = description.id;
    const endpoint: Endpoint = {
      send: (message) => {
        if (!lent.closed) this.send({ t: 'toExecutor', executorId: id, message: encodeValueShared(message) });
      },
      onMessage: (h) => {
        lent.handler = h;
        for (const m of lent.early.splice(0)) h(m);
      },
      onClose: (h) => {
        if (lent.closed) queueMicrotask(() => h());
        else lent.closeHandlers.push(h);
      },
      // The driver lets an executor go (it misbehaved, or missed heartbeats): give it back.
      close: () => {
        if (lent.closed) return;
        this.send({ t: 'release', executorId: id });
        this.loseExecutor(id, 'released by the driver', false);
      },
    };
    this.listener?.executorAdded(description, endpoint);
    for (const w of this.executorWaiters.splice(0)) w();
  }

  private loseExecutor(executorId: string, reason: string, causedByApp: boolean): void {
    const lent = this.lent.get(executorId);
    if (!lent) return;
    this.lent.delete(executorId);
    lent.closed = true;
    for (const h of lent.closeHandlers.splice(0)) h();
    this.listener?.executorLost(executorId, { reason, causedByApp });
  }

  private send(message: DriverToCoordinator): void {
    this.coordinator?.send(message);
  }

  /** Every lent executor went with the connection; try to register again. */
  private connectionLost(endpoint: Endpoint, reason?: Error): void {
    if (this.coordinator !== endpoint) return;
    this.coordinator = null;
    for (const id of [...this.lent.keys()]) this.loseExecutor(id, 'the connection to the coordinator was lost', false);
    if (this.stopped) return;
    const windowMs = this.options.reconnectWindowMs ?? 60_000;
    this.options.log(`lost the coordinator at ${this.options.master}${reason ? ` (${reason.message})` : ''}; reconnecting (running jobs wait up to ${Math.round(windowMs / 1000)} s)`);
    this.unavailableTimer = setTimeout(() => {
      this.listener?.backendUnavailable(
        new FlintError('EXECUTOR_LOST', `the coordinator at ${this.options.master} has been unreachable for ${Math.round(windowMs / 1000)} s, so no executor can run the job`),
      );
    }, windowMs);
    this.unavailableTimer.unref?.();
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      await new Promise((r) => setTimeout(r, backoffDelay(attempt)));
      if (this.stopped) return;
      try {
        const conn = await connect(coordinatorWebSocketUrl(this.options.master), { token: this.options.token, label: `the coordinator at ${this.options.master}`, timeoutMs: 5000 });
        if (this.stopped) {
          conn.endpoint.close();
          return;
        }
        await this.session(conn.endpoint);
        this.options.log(`registered again with ${this.options.master} as ${this.appId}`);
        return;
      } catch (err) {
        if (err instanceof FlintError && err.code === 'UNAUTHORIZED') {
          this.listener?.backendUnavailable(err);
          return;
        }
      }
    }
  }

  async killExecutor(executorId: string): Promise<boolean> {
    if (!this.lent.has(executorId)) return false;
    this.send({ t: 'release', executorId });
    this.loseExecutor(executorId, 'killed by the application', false);
    return true;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.unavailableTimer) clearTimeout(this.unavailableTimer);
    // The last events (the jobs' ends) go out before the goodbye.
    await this.bus?.delivered();
    this.flushEvents();
    this.send({ t: 'bye' });
    const endpoint = this.coordinator;
    this.coordinator = null;
    endpoint?.close();
    await this.files?.close();
  }
}
