/**
 * The coordinator (`flint serve`) is a cluster manager, not a driver: it keeps the registry of
 * workers (Node processes and browser tabs) and applications (drivers in their users' processes),
 * lends each application a fair share of executor slots (capped by its maxCores), relays control
 * messages between drivers and the executors they were lent, tells workers where their peers are,
 * and relays peer data when no direct link opens. It never runs a closure and never decodes the
 * payloads it relays.
 *
 * Identity is bound to connections: a worker speaks only for its own executors, a driver only to
 * executors lent to its application. A connection that breaks the protocol or claims what is not
 * its own is closed with a logged reason; everyone else keeps running. The transport (WebSocket
 * server, token check) lives in host/node; this class sees only endpoints.
 */
import type { Endpoint } from '../transport/endpoint.js';
import type { Clock, TimerHandle } from '../schedule/clock.js';
import { every } from '../schedule/clock.js';
import type { Capability } from './backend.js';
import type { WorkerSummary } from '../ui/types.js';
import { decodeValue } from '../codec/records.js';
import type { FlintEvent } from '../events/events.js';
import {
  checkDriverToCoordinator,
  checkFlintEvent,
  checkHello,
  checkWorkerToCoordinator,
  type AppInfo,
  type CoordinatorToDriver,
  type CoordinatorToWorker,
  type DriverHello,
  type WorkerHello,
} from './schemas.js';

export interface CoordinatorOptions {
  clock: Clock;
  /** A worker silent this long is lost (3 missed 1-second heartbeats). */
  heartbeatTimeoutMs: number;
  /** A connection that has not said hello by then is closed. */
  helloTimeoutMs: number;
  log(message: string): void;
  /**
   * What the coordinator learns of applications, for its dashboard and event logs: registration,
   * the scheduler events their drivers share, the end.
   */
  applications?: ApplicationObserver;
  /** Workers or executor slots changed (the dashboard's cluster view follows). */
  clusterChanged?(): void;
}

export interface ApplicationObserver {
  started(app: { appId: string; name: string; time: number; host: string }): void;
  events(appId: string, events: FlintEvent[]): void;
  ended(appId: string, time: number): void;
}

/** Most events one batch may carry (a driver sends a batch every 100 ms). */
const MAX_EVENTS_PER_BATCH = 100_000;

interface Slot {
  executorId: string;
  appId: string;
  up: boolean;
  revoked: boolean;
}

interface WorkerState {
  id: string;
  endpoint: Endpoint;
  peer: string;
  host: string;
  cores: number;
  memoryMb: number;
  kind: 'node' | 'browser';
  capabilities: Capability[];
  dataUrl: string | null;
  webRtc: boolean;
  slots: Array<Slot | null>;
  lastHeartbeat: number;
  decommissioning: boolean;
  stats: Record<string, { running: number; completed: number; failed: number }>;
  connectedAt: number;
  /** Tasks its executors had verified in a row, across applications; a disagreement resets it. */
  verified: number;
}

interface AppState {
  id: string;
  name: string;
  endpoint: Endpoint;
  peer: string;
  maxCores: number | null;
  info: AppInfo;
  host: string;
  executors: Set<string>;
  startTime: number;
}

interface ExecutorRef {
  workerId: string;
  slot: number;
  appId: string;
}

export interface ApplicationSummary {
  id: string;
  name: string;
  attempts: Array<{ startTime: number; endTime: number; duration: number; completed: boolean }>;
}

export interface ExecutorSummary {
  id: string;
  hostPort: string;
  isActive: boolean;
  isExcluded: boolean;
  totalCores: number;
  activeTasks: number;
  completedTasks: number;
  failedTasks: number;
  totalShuffleRead: number;
  totalShuffleWrite: number;
  kind: 'node' | 'browser';
  appId: string | null;
  workerId: string;
}

export class Coordinator {
  private readonly workers = new Map<string, WorkerState>();
  private readonly apps = new Map<string, AppState>();
  private readonly executors = new Map<string, ExecutorRef>();
  private readonly finished: ApplicationSummary[] = [];
  private readonly removing = new Set<WorkerState>();
  private readonly epoch = Math.random().toString(36).slice(2, 6);
  private nextExecutor = 0;
  private nextApp = 0;
  private stopped = false;
  private readonly stopHeartbeats: () => void;
  private readonly checkEveryMs: number;
  private lastCheck: number;

  constructor(private readonly options: CoordinatorOptions) {
    this.checkEveryMs = Math.max(100, Math.floor(options.heartbeatTimeoutMs / 6));
    this.lastCheck = options.clock.now();
    this.stopHeartbeats = every(options.clock, this.checkEveryMs, () => this.checkHeartbeats());
  }

  /** A new authenticated connection: it must introduce itself first. */
  accept(endpoint: Endpoint, peer: string): void {
    if (this.stopped) {
      endpoint.close('the coordinator is shutting down');
      return;
    }
    let introduced = false;
    const timer: TimerHandle = this.options.clock.setTimeout(() => {
      if (!introduced) this.refuse(endpoint, peer, `no hello within ${this.options.helloTimeoutMs} ms`);
    }, this.options.helloTimeoutMs);
    endpoint.onMessage((raw) => {
      if (introduced) return; // replaced by the role's handler below
      introduced = true;
      this.options.clock.clearTimeout(timer);
      let hello;
      try {
        hello = checkHello(raw, peer);
      } catch (err) {
        this.refuse(endpoint, peer, (err as Error).message);
        return;
      }
      if (hello.role === 'driver') this.addApp(endpoint, peer, hello);
      else this.addWorker(endpoint, peer, hello);
    });
    endpoint.onClose((reason) => {
      this.options.clock.clearTimeout(timer);
      // The transport closes a link whose frames are malformed or too large before anyone hears it.
      if (!introduced && reason) this.options.log(`refused ${peer}: ${reason.message}`);
    });
  }

  private refuse(endpoint: Endpoint, peer: string, reason: string): void {
    this.options.log(`refused ${peer}: ${reason}`);
    endpoint.close(reason);
  }

  // ---- applications ----------------------------------------------------------------------------

  private addApp(endpoint: Endpoint, peer: string, hello: DriverHello): void {
    const id = `app-${this.epoch}-${String(this.nextApp++).padStart(4, '0')}`;
    const app: AppState = {
      id,
      name: hello.appName,
      endpoint,
      peer,
      maxCores: hello.maxCores,
      host: hello.host,
      info: { appId: id, name: hello.appName, files: hello.files, driverMachineId: hello.machineId, useWasm: hello.useWasm },
      executors: new Set(),
      startTime: this.options.clock.now(),
    };
    this.apps.set(id, app);
    endpoint.onMessage((raw) => this.onDriverMessage(app, raw));
    endpoint.onClose((reason) => this.endApp(app, `its driver disconnected${reason ? ` (${reason.message})` : ''}`));
    const expectedCores = Math.min(app.maxCores ?? Infinity, this.fairShares().get(id) ?? 0);
    this.toDriver(app, { t: 'welcome', appId: id, expectedCores });
    this.options.log(`application ${id} (${app.name}) registered from ${peer}${app.maxCores ? `, maxCores ${app.maxCores}` : ''}`);
    this.options.applications?.started({ appId: id, name: app.name, time: app.startTime, host: app.host });
    this.rebalance();
  }

  private onDriverMessage(app: AppState, raw: unknown): void {
    if (!this.apps.has(app.id)) return;
    let m;
    try {
      m = checkDriverToCoordinator(raw, `driver of ${app.id}`);
    } catch (err) {
      this.refuse(app.endpoint, app.peer, (err as Error).message);
      return;
    }
    switch (m.t) {
      case 'toExecutor': {
        const ref = this.executors.get(m.executorId);
        if (!ref) return; // just lost or released: the driver hears of it in a moment
        if (ref.appId !== app.id) {
          this.refuse(app.endpoint, app.peer, `application ${app.id} addressed executor ${m.executorId}, which belongs to another application`);
          return;
        }
        const worker = this.workers.get(ref.workerId);
        if (worker) this.toWorker(worker, { t: 'toExecutor', executorId: m.executorId, message: m.message });
        return;
      }
      case 'release': {
        const ref = this.executors.get(m.executorId);
        if (!ref) return; // already lost or released
        if (ref.appId !== app.id) {
          this.refuse(app.endpoint, app.peer, `application ${app.id} released executor ${m.executorId}, which belongs to another application`);
          return;
        }
        const leaving = this.workers.get(ref.workerId)?.decommissioning;
        this.releaseExecutor(m.executorId, leaving ? 'its worker left (decommissioned)' : 'the application gave it back');
        this.rebalance();
        return;
      }
      case 'locate':
        this.toDriver(app, { t: 'located', reqId: m.reqId, ...this.locate(m.executorId) });
        return;
      case 'relay': {
        const worker = this.workers.get(m.toWorker);
        if (worker) this.toWorker(worker, { t: 'relayed', fromWorker: `driver:${app.id}`, frame: m.frame });
        return;
      }
      case 'bye':
        this.endApp(app, 'it stopped');
        return;
      case 'events':
        this.appEvents(app, m.events);
        return;
    }
  }

  /** Events are the driver's to tell, checked like any message: a malformed batch closes its driver. */
  private appEvents(app: AppState, payload: Uint8Array): void {
    let events: FlintEvent[];
    try {
      const raw = decodeValue(payload);
      if (!Array.isArray(raw) || raw.length > MAX_EVENTS_PER_BATCH) throw new Error(`an events batch must be an array of at most ${MAX_EVENTS_PER_BATCH} events`);
      events = raw.map((e) => checkFlintEvent(e, `driver of ${app.id}`));
    } catch (err) {
      this.refuse(app.endpoint, app.peer, (err as Error).message);
      return;
    }
    for (const e of events) if (e.type === 'taskVerified') this.verified(app, e.executorId, e.agreed);
    this.options.applications?.events(app.id, events);
  }

  /** A driver verified a task of one of its executors: its worker's record grows, or starts over. */
  private verified(app: AppState, executorId: string, agreed: boolean): void {
    const ref = this.executors.get(executorId);
    if (!ref || ref.appId !== app.id) return;
    const worker = this.workers.get(ref.workerId);
    if (!worker) return;
    worker.verified = agreed ? worker.verified + 1 : 0;
  }

  private endApp(app: AppState, why: string): void {
    if (!this.apps.delete(app.id)) return;
    const endTime = this.options.clock.now();
    this.finished.push({
      id: app.id,
      name: app.name,
      attempts: [{ startTime: app.startTime, endTime, duration: endTime - app.startTime, completed: true }],
    });
    for (const executorId of [...app.executors]) this.releaseExecutor(executorId, `application ${app.id} ended`);
    this.options.log(`application ${app.id} (${app.peer}) ended: ${why}`);
    this.options.applications?.ended(app.id, endTime);
    app.endpoint.close();
    this.rebalance();
  }

  // ---- workers ---------------------------------------------------------------------------------

  private addWorker(endpoint: Endpoint, peer: string, hello: WorkerHello): void {
    if (this.workers.has(hello.workerId)) {
      // Whoever says this is the same worker cannot prove it, so the connection we know stays: a
      // worker whose old connection died unnoticed comes back once heartbeats declare it lost.
      this.refuse(endpoint, peer, `worker ${hello.workerId} is already connected`);
      return;
    }
    const worker: WorkerState = {
      id: hello.workerId,
      endpoint,
      peer,
      host: hello.host,
      cores: hello.cores,
      memoryMb: hello.memoryMb,
      kind: hello.kind,
      capabilities: hello.capabilities,
      dataUrl: hello.dataUrl,
      webRtc: hello.webRtc ?? true,
      slots: new Array<Slot | null>(hello.cores).fill(null),
      lastHeartbeat: this.options.clock.now(),
      decommissioning: false,
      stats: {},
      connectedAt: this.options.clock.now(),
      verified: 0,
    };
    this.workers.set(worker.id, worker);
    endpoint.onMessage((raw) => this.onWorkerMessage(worker, raw));
    // A tab sends a large message (a shuffle block for the relay) in chunks, at its browser's pace,
    // and its heartbeats queue behind them: chunks arriving say it is alive as well as they would.
    endpoint.onProgress?.(() => {
      if (this.workers.get(worker.id) === worker) worker.lastHeartbeat = this.options.clock.now();
    });
    endpoint.onClose((reason) => this.removeWorker(worker, reason ? `its connection failed: ${reason.message}` : 'it disconnected'));
    this.toWorker(worker, { t: 'welcome', workerId: worker.id });
    this.options.log(`worker ${worker.id} joined from ${peer}: ${worker.kind}, ${worker.cores} cores, ${worker.memoryMb} MB`);
    this.rebalance();
  }

  private onWorkerMessage(worker: WorkerState, raw: unknown): void {
    if (this.workers.get(worker.id) !== worker) return;
    let m;
    try {
      m = checkWorkerToCoordinator(raw, `worker ${worker.id}`);
    } catch (err) {
      this.refuse(worker.endpoint, worker.peer, (err as Error).message);
      return;
    }
    worker.lastHeartbeat = this.options.clock.now();
    switch (m.t) {
      case 'fromExecutor': {
        const ref = this.ownExecutor(worker, m.executorId);
        if (!ref) return;
        const app = this.apps.get(ref.appId);
        if (app) this.toDriver(app, { t: 'fromExecutor', executorId: m.executorId, message: m.message });
        return;
      }
      case 'executorUp': {
        const ref = this.ownExecutor(worker, m.executorId);
        if (!ref) return;
        const slot = worker.slots[ref.slot]!;
        if (slot.up) return;
        slot.up = true;
        const app = this.apps.get(ref.appId);
        if (!app) return;
        this.toDriver(app, {
          t: 'executorAdded',
          executor: {
            id: m.executorId,
            host: worker.host,
            cores: 1,
            kind: worker.kind,
            capabilities: worker.capabilities,
            workerId: worker.id,
            memoryMb: Math.floor(worker.memoryMb / Math.max(1, worker.cores)),
            ...(worker.verified > 0 ? { verifiedBefore: worker.verified } : {}),
          },
        });
        if (slot.revoked) this.toDriver(app, { t: 'executorRevoked', executorId: m.executorId, reason: 'lent to another application' });
        return;
      }
      case 'executorDown': {
        const ref = this.ownExecutor(worker, m.executorId);
        if (!ref) return;
        this.dropExecutor(m.executorId, m.reason, m.causedByApp);
        this.rebalance();
        return;
      }
      case 'heartbeat':
        worker.stats = {};
        for (const [id, stats] of Object.entries(m.stats)) if (this.executors.get(id)?.workerId === worker.id) worker.stats[id] = stats;
        this.options.clusterChanged?.();
        return;
      case 'decommission':
        this.decommission(worker);
        return;
      case 'locate':
        this.toWorker(worker, { t: 'located', reqId: m.reqId, ...this.locate(m.executorId) });
        return;
      case 'relay': {
        if (m.toWorker.startsWith('driver:')) {
          const app = this.apps.get(m.toWorker.slice('driver:'.length));
          if (app) this.toDriver(app, { t: 'relayed', fromWorker: worker.id, frame: m.frame });
          return;
        }
        const target = this.workers.get(m.toWorker);
        if (target) this.toWorker(target, { t: 'relayed', fromWorker: worker.id, frame: m.frame });
        else this.toWorker(worker, { t: 'relayFailed', toWorker: m.toWorker });
        return;
      }
      case 'signal': {
        const target = this.workers.get(m.toWorker);
        if (target) this.toWorker(target, { t: 'signalled', fromWorker: worker.id, linkId: m.linkId, signal: m.signal });
        else this.toWorker(worker, { t: 'relayFailed', toWorker: m.toWorker });
        return;
      }
      case 'cores':
        this.setCores(worker, m.cores);
        return;
    }
  }

  /**
   * A worker lends another number of cores (a volunteer moved its slider, or paused): new slots are
   * lent at once; executors in slots beyond the new number are revoked, and their slots go once
   * their applications release them.
   */
  private setCores(worker: WorkerState, cores: number): void {
    worker.cores = cores;
    while (worker.slots.length < cores) worker.slots.push(null);
    worker.slots.forEach((slot, i) => {
      if (i < cores || !slot || slot.revoked) return;
      slot.revoked = true;
      const app = this.apps.get(slot.appId);
      if (app && slot.up) this.toDriver(app, { t: 'executorRevoked', executorId: slot.executorId, reason: `worker ${worker.id} lends fewer cores` });
      else this.releaseExecutor(slot.executorId, `worker ${worker.id} lends fewer cores`);
    });
    this.trimSlots(worker);
    this.options.log(`worker ${worker.id} lends ${cores} core${cores === 1 ? '' : 's'}`);
    this.rebalance();
  }

  /** Slots beyond what a worker lends go once empty. */
  private trimSlots(worker: WorkerState): void {
    while (worker.slots.length > worker.cores && worker.slots[worker.slots.length - 1] === null) worker.slots.pop();
  }

  /** The first slot a new executor may take, or -1. */
  private freeSlot(worker: WorkerState): number {
    for (let i = 0; i < Math.min(worker.cores, worker.slots.length); i++) if (worker.slots[i] === null) return i;
    return -1;
  }

  /** The executor, if `worker` runs it; a claim on another worker's executor closes the liar. */
  private ownExecutor(worker: WorkerState, executorId: string): ExecutorRef | null {
    const ref = this.executors.get(executorId);
    if (!ref) return null;
    if (ref.workerId !== worker.id) {
      this.refuse(worker.endpoint, worker.peer, `worker ${worker.id} spoke for executor ${executorId} of worker ${ref.workerId}`);
      return null;
    }
    return ref;
  }

  private decommission(worker: WorkerState): void {
    if (worker.decommissioning) return;
    worker.decommissioning = true;
    this.options.log(`worker ${worker.id} is decommissioning`);
    worker.slots.forEach((slot) => {
      if (!slot) return;
      const app = this.apps.get(slot.appId);
      if (!slot.revoked && app && slot.up) this.toDriver(app, { t: 'executorRevoked', executorId: slot.executorId, reason: `worker ${worker.id} is decommissioned` });
      slot.revoked = true;
      if (!slot.up) this.releaseExecutor(slot.executorId, 'its worker is decommissioned');
    });
    this.rebalance();
  }

  private removeWorker(worker: WorkerState, why: string): void {
    if (this.workers.get(worker.id) !== worker) return;
    // Its executors go first, while the worker is still known (their slots say who was told of them).
    this.removing.add(worker);
    for (const slot of worker.slots) if (slot) this.dropExecutor(slot.executorId, `worker ${worker.id} was lost: ${why}`, false);
    this.removing.delete(worker);
    this.workers.delete(worker.id);
    this.options.log(`worker ${worker.id} (${worker.peer}) left: ${why}`);
    worker.endpoint.close();
    this.rebalance();
  }

  private checkHeartbeats(): void {
    const now = this.options.clock.now();
    // A check that runs late says the coordinator's own thread was held up (busy, or starved of
    // CPU on a loaded machine): heartbeats that arrived meanwhile still wait, unread, behind this
    // timer. Silence counts only the time the coordinator was listening, or one stall of its own
    // would drop every worker at once, and they would all come back and start over.
    const late = Math.max(0, now - this.lastCheck - this.checkEveryMs);
    this.lastCheck = now;
    if (late > 0) for (const worker of this.workers.values()) worker.lastHeartbeat = Math.min(now, worker.lastHeartbeat + late);
    for (const worker of [...this.workers.values()]) {
      const silent = now - worker.lastHeartbeat;
      if (silent > this.options.heartbeatTimeoutMs) this.removeWorker(worker, `no heartbeat for ${silent} ms`);
    }
  }

  // ---- executors -------------------------------------------------------------------------------

  private launch(worker: WorkerState, slotIndex: number, app: AppState): void {
    const executorId = `${this.epoch}-${String(this.nextExecutor++).padStart(5, '0')}`;
    worker.slots[slotIndex] = { executorId, appId: app.id, up: false, revoked: false };
    this.executors.set(executorId, { workerId: worker.id, slot: slotIndex, appId: app.id });
    app.executors.add(executorId);
    this.toWorker(worker, { t: 'launch', executorId, app: app.info });
  }

  /** The executor stops (its worker is told) and its slot is free; its application forgets it. */
  private releaseExecutor(executorId: string, why: string): void {
    const ref = this.executors.get(executorId);
    if (!ref) return;
    const worker = this.workers.get(ref.workerId);
    if (worker) this.toWorker(worker, { t: 'release', executorId });
    this.dropExecutor(executorId, why, false);
  }

  private dropExecutor(executorId: string, reason: string, causedByApp: boolean): void {
    const ref = this.executors.get(executorId);
    if (!ref) return;
    this.executors.delete(executorId);
    const worker = this.workers.get(ref.workerId);
    const slot = worker?.slots[ref.slot];
    if (worker && slot?.executorId === executorId) {
      worker.slots[ref.slot] = null;
      this.trimSlots(worker);
    }
    const app = this.apps.get(ref.appId);
    if (app?.executors.delete(executorId) && slot?.up) this.toDriver(app, { t: 'executorLost', executorId, reason, causedByApp });
    if (worker?.decommissioning && this.workers.get(worker.id) === worker && worker.slots.every((s) => s === null) && !this.removing.has(worker)) {
      this.toWorker(worker, { t: 'shutdown', reason: 'decommissioned: every executor has finished' });
    }
  }

  private locate(executorId: string): { executorId: string; workerId: string | null; dataUrl: string | null; appId: string | null; webRtc: boolean } {
    const ref = this.executors.get(executorId);
    const worker = ref ? this.workers.get(ref.workerId) : undefined;
    return { executorId, workerId: worker?.id ?? null, dataUrl: worker?.dataUrl ?? null, appId: worker ? ref!.appId : null, webRtc: worker?.webRtc ?? false };
  }

  // ---- fair share ------------------------------------------------------------------------------

  /** Slots each application should hold: equal shares of the usable slots, capped by maxCores. */
  private fairShares(): Map<string, number> {
    let capacity = 0;
    for (const w of this.workers.values()) if (!w.decommissioning) capacity += w.cores;
    const shares = new Map<string, number>();
    // Water-filling: applications capped below the equal share give their rest to the others.
    const apps = [...this.apps.values()].sort((a, b) => (a.maxCores ?? Infinity) - (b.maxCores ?? Infinity) || a.startTime - b.startTime);
    let left = capacity;
    apps.forEach((app, i) => {
      const equal = Math.floor(left / (apps.length - i));
      const share = Math.min(app.maxCores ?? Infinity, equal);
      shares.set(app.id, share);
      left -= share;
    });
    // Slots that do not divide evenly go to the oldest applications still under their cap.
    for (const app of [...this.apps.values()].sort((a, b) => a.startTime - b.startTime)) {
      if (left <= 0) break;
      if ((shares.get(app.id) ?? 0) < (app.maxCores ?? Infinity)) {
        shares.set(app.id, shares.get(app.id)! + 1);
        left--;
      }
    }
    return shares;
  }

  /**
   * Grants free slots to applications under their share, spreading each application over workers;
   * asks applications over their share to give executors back (they drain, then release).
   */
  private rebalance(): void {
    if (this.stopped) return;
    this.options.clusterChanged?.();
    const shares = this.fairShares();
    const held = (app: AppState) => {
      let n = 0;
      for (const id of app.executors) {
        const ref = this.executors.get(id)!;
        if (!this.workers.get(ref.workerId)?.slots[ref.slot]?.revoked) n++;
      }
      return n;
    };
    let starving = false;
    for (const app of [...this.apps.values()].sort((a, b) => a.startTime - b.startTime)) {
      let want = (shares.get(app.id) ?? 0) - held(app);
      while (want > 0) {
        const worker = this.workerWithMostFreeSlots(app);
        if (!worker) {
          starving = true;
          break;
        }
        this.launch(worker, this.freeSlot(worker), app);
        want--;
      }
    }
    if (!starving) return;
    for (const app of this.apps.values()) {
      let extra = held(app) - (shares.get(app.id) ?? 0);
      if (extra <= 0) continue;
      // Idle executors first, so that running tasks are not disturbed when they need not be.
      const candidates = [...app.executors]
        .map((id) => ({ id, ref: this.executors.get(id)! }))
        .filter(({ ref }) => !this.workers.get(ref.workerId)?.slots[ref.slot]?.revoked)
        .sort((a, b) => this.runningOn(a.ref, a.id) - this.runningOn(b.ref, b.id));
      for (const { id, ref } of candidates) {
        if (extra <= 0) break;
        const slot = this.workers.get(ref.workerId)!.slots[ref.slot]!;
        slot.revoked = true;
        extra--;
        if (slot.up) this.toDriver(app, { t: 'executorRevoked', executorId: id, reason: 'lent to another application (fair share)' });
        else this.releaseExecutor(id, 'lent to another application');
      }
    }
  }

  private runningOn(ref: ExecutorRef, executorId: string): number {
    return this.workers.get(ref.workerId)?.stats[executorId]?.running ?? 0;
  }

  private workerWithMostFreeSlots(app: AppState): WorkerState | null {
    let best: WorkerState | null = null;
    let bestScore = -Infinity;
    for (const w of this.workers.values()) {
      if (w.decommissioning) continue;
      const free = w.slots.slice(0, w.cores).filter((s) => s === null).length;
      if (free === 0) continue;
      // Spread one application over workers: prefer workers where it holds fewer slots.
      const mine = w.slots.filter((s) => s?.appId === app.id).length;
      const score = free - 2 * mine;
      if (score > bestScore) {
        best = w;
        bestScore = score;
      }
    }
    return best;
  }

  // ---- sending, status, shutdown ----------------------------------------------------------------

  private toDriver(app: AppState, message: CoordinatorToDriver): void {
    app.endpoint.send(message);
  }

  private toWorker(worker: WorkerState, message: CoordinatorToWorker): void {
    worker.endpoint.send(message);
  }

  applications(): ApplicationSummary[] {
    const now = this.options.clock.now();
    const running = [...this.apps.values()].map((a) => ({
      id: a.id,
      name: a.name,
      attempts: [{ startTime: a.startTime, endTime: -1, duration: now - a.startTime, completed: false }],
    }));
    return [...running, ...this.finished];
  }

  executorSummaries(): ExecutorSummary[] {
    const out: ExecutorSummary[] = [];
    for (const w of this.workers.values()) {
      w.slots.forEach((slot, i) => {
        const id = slot?.executorId ?? `${w.id}/slot-${i}`;
        const stats = slot ? w.stats[slot.executorId] : undefined;
        out.push({
          id,
          hostPort: w.dataUrl ? w.dataUrl.replace(/^wss?:\/\//, '').replace(/\/.*$/, '') : w.host,
          isActive: true,
          isExcluded: false,
          totalCores: 1,
          activeTasks: stats?.running ?? 0,
          completedTasks: stats?.completed ?? 0,
          failedTasks: stats?.failed ?? 0,
          totalShuffleRead: 0,
          totalShuffleWrite: 0,
          kind: w.kind,
          appId: slot?.appId ?? null,
          workerId: w.id,
        });
      });
    }
    return out;
  }

  workerSummaries(): WorkerSummary[] {
    return [...this.workers.values()].map((w) => ({
      id: w.id,
      host: w.host,
      kind: w.kind,
      cores: w.cores,
      coresUsed: w.slots.filter((s) => s !== null).length,
      memoryMb: w.memoryMb,
      connectedAt: w.connectedAt,
      decommissioning: w.decommissioning,
      capabilities: w.capabilities,
      verifiedTasks: w.verified,
    }));
  }

  get workerCount(): number {
    return this.workers.size;
  }

  /** What the coordinator holds right now (its REST status). */
  counts(): { workers: number; browserWorkers: number; slots: number; slotsLent: number; runningApplications: number } {
    let browserWorkers = 0;
    let slots = 0;
    for (const w of this.workers.values()) {
      if (w.kind === 'browser') browserWorkers++;
      slots += w.cores;
    }
    return { workers: this.workers.size, browserWorkers, slots, slotsLent: this.executors.size, runningApplications: this.apps.size };
  }

  /** Tells every driver and worker, then closes every connection. */
  stop(reason = 'the coordinator is shutting down'): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopHeartbeats();
    for (const app of this.apps.values()) {
      this.toDriver(app, { t: 'shutdown', reason });
      app.endpoint.close();
    }
    for (const worker of this.workers.values()) {
      this.toWorker(worker, { t: 'shutdown', reason });
      worker.endpoint.close();
    }
    this.apps.clear();
    this.workers.clear();
    this.executors.clear();
  }
}
