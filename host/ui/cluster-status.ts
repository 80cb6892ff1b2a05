/**
 * What the coordinator's dashboard shows: the cluster (workers, executor slots of every kind and
 * who holds them) and, per application, the full application UI, built from the scheduler events
 * its driver shares over the connection it already has (and written to the coordinator's event log
 * directory when it has one).
 *
 * Why drivers push their events rather than the coordinator linking to each driver's own UI: the
 * coordinator is the address users and volunteers already reach, drivers sit in users' processes
 * behind whatever network they are in (a laptop, a notebook server) and often run no UI at all;
 * pushing over the existing outbound connection works wherever the driver can reach the coordinator,
 * and the same events make the coordinator's event logs, so `flint history` serves every
 * application of the cluster afterwards. The cost is the coordinator's memory for the applications
 * it keeps (the most recent `maxApplications`) and one batch message per driver per 100 ms.
 */
import type { Coordinator, ExecutorSummary as SlotSummary } from '../cluster/coordinator.js';
import type { FlintEvent } from '../events/events.js';
import { LiveHub } from './live.js';
import type { StatusSource } from './rest.js';
import { applicationInfo, executorSummary } from './rest-views.js';
import { SparkEventConverter, type SparkEvent } from './spark-events.js';
import { AppStatusStore } from './status-store.js';
import type { ApplicationInfo, CoordinatorStatus, ExecutorSummary, ProcessHealth, UiInfo, WorkerSummary } from './types.js';

export interface ClusterLogWriter {
  write(event: SparkEvent): void;
  close(): Promise<void>;
}

export interface ClusterStatusOptions {
  /** The coordinator's flint:// URL, shown in the header and as the applications' master. */
  master: string;
  /** Opens the event log of a new application (with --event-log-dir). */
  openLog?: () => ClusterLogWriter;
  /** Finished applications kept in memory; older ones are dropped (their logs stay on disk). */
  maxApplications?: number;
  clock?: () => number;
  /** The serving process's memory, CPU and event-loop delay (the Node shell measures them). */
  health?: () => ProcessHealth;
}

interface AppEntry {
  store: AppStatusStore;
  converter: SparkEventConverter;
  log: ClusterLogWriter | null;
  ended: boolean;
}

export class ClusterStatus implements StatusSource {
  readonly hub = new LiveHub();
  private readonly apps = new Map<string, AppEntry>();
  private cluster: Coordinator | null = null;
  private master: string;
  private readonly startTime: number;

  constructor(private readonly options: ClusterStatusOptions) {
    this.master = options.master;
    this.startTime = (options.clock ?? Date.now)();
  }

  attach(coordinator: Coordinator): void {
    this.cluster = coordinator;
  }

  /** The coordinator's flint:// URL, once its server listens. */
  setMaster(url: string): void {
    this.master = url;
  }

  // ---- what the coordinator reports (ApplicationObserver) ---------------------------------------

  started(app: { appId: string; name: string; time: number; host: string }): void {
    const store = new AppStatusStore(app.appId, this.options.clock);
    const entry: AppEntry = { store, converter: new SparkEventConverter(), log: this.options.openLog?.() ?? null, ended: false };
    this.apps.set(app.appId, entry);
    // The coordinator names the application: the driver's own start and end are not repeated.
    this.record(entry, { type: 'applicationStart', time: app.time, appId: app.appId, appName: app.name, master: this.master, user: '' });
    this.hub.watch(store);
    this.evict();
  }

  events(appId: string, events: FlintEvent[]): void {
    const entry = this.apps.get(appId);
    if (!entry || entry.ended) return;
    for (const e of events) if (e.type !== 'applicationStart' && e.type !== 'applicationEnd') this.record(entry, e);
  }

  ended(appId: string, time: number): void {
    const entry = this.apps.get(appId);
    if (!entry || entry.ended) return;
    this.record(entry, { type: 'applicationEnd', time });
    entry.ended = true;
    void entry.log?.close();
    entry.log = null;
    this.hub.applications();
  }

  private record(entry: AppEntry, e: FlintEvent): void {
    const spark = entry.converter.convert(e);
    if (!spark) return;
    entry.store.apply(spark);
    entry.log?.write(spark);
  }

  private evict(): void {
    const max = this.options.maxApplications ?? 200;
    const finished = [...this.apps].filter(([, e]) => e.ended);
    for (const [id, e] of finished.slice(0, Math.max(0, finished.length - max))) {
      this.apps.delete(id);
      this.hub.unwatch(e.store);
    }
  }

  /** Closes the logs of applications still running (the coordinator stops). */
  async close(): Promise<void> {
    const now = (this.options.clock ?? Date.now)();
    for (const [id, e] of this.apps) if (!e.ended) this.ended(id, now);
    await Promise.all([...this.apps.values()].map((e) => e.log?.close()));
    this.hub.stop();
  }

  // ---- StatusSource ------------------------------------------------------------------------------

  info(): UiInfo {
    return { mode: 'cluster', title: 'Flint cluster', master: this.master };
  }

  applications(): ApplicationInfo[] {
    return [...this.apps.values()].map((e) => applicationInfo(e.store)).sort((a, b) => b.attempts[0]!.startTime - a.attempts[0]!.startTime);
  }

  store(appId: string): AppStatusStore | null {
    return this.apps.get(appId)?.store ?? null;
  }

  /** Every executor slot of the cluster, with what its application's events say about it. */
  clusterExecutors(): ExecutorSummary[] {
    const slots: SlotSummary[] = this.cluster?.executorSummaries() ?? [];
    return slots.map((slot) => {
      const store = slot.appId ? this.store(slot.appId) : null;
      const rec = store?.executors.get(slot.id);
      const base: ExecutorSummary = rec
        ? executorSummary(store!, rec)
        : {
            id: slot.id,
            hostPort: slot.hostPort,
            isActive: true,
            isExcluded: false,
            rddBlocks: 0,
            memoryUsed: 0,
            diskUsed: 0,
            totalCores: slot.totalCores,
            maxTasks: slot.totalCores,
            activeTasks: 0,
            failedTasks: 0,
            completedTasks: 0,
            totalTasks: 0,
            totalDuration: 0,
            totalInputBytes: 0,
            totalShuffleRead: 0,
            totalShuffleWrite: 0,
            maxMemory: 0,
            addTime: 0,
            kind: slot.kind,
            capabilities: [],
            resultsVerified: 0,
            resultsDisputed: 0,
            isDraining: false,
          };
      // The worker's heartbeat is the freshest word on what runs there now.
      return {
        ...base,
        hostPort: slot.hostPort,
        isActive: slot.isActive,
        activeTasks: slot.activeTasks,
        completedTasks: Math.max(slot.completedTasks, base.completedTasks),
        failedTasks: Math.max(slot.failedTasks, base.failedTasks),
        kind: slot.kind,
        appId: slot.appId,
        workerId: slot.workerId,
      };
    });
  }

  workers(): WorkerSummary[] {
    return this.cluster?.workerSummaries() ?? [];
  }

  coordinator(): CoordinatorStatus {
    const counts = this.cluster?.counts() ?? { workers: 0, browserWorkers: 0, slots: 0, slotsLent: 0, runningApplications: 0 };
    const now = (this.options.clock ?? Date.now)();
    return { startTime: this.startTime, uptimeMs: now - this.startTime, ...counts, process: this.options.health?.() ?? null };
  }
}
