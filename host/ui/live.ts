/**
 * The live stream's source: it watches status stores and tells subscribers (the open pages) what
 * changed, at most every `intervalMs`, merging everything that changed in between. Pages then read
 * the current state through the REST API, so a page that missed notifications (a slow connection, a
 * reconnect) still shows exact numbers: nothing is lost, only merged. A store marks itself changed
 * in O(1) per event; the work of a notification is done at most once per interval, whatever the
 * event rate, which is what keeps a 100,000-task stage from costing the scheduler anything per task.
 */
import type { AppStatusStore } from './status-store.js';
import type { LiveChange } from './types.js';

export type LiveSubscriber = (change: LiveChange) => void;

export class LiveHub {
  private readonly stores = new Set<AppStatusStore>();
  private readonly subscribers = new Set<LiveSubscriber>();
  private readonly dirty = new Set<AppStatusStore>();
  private applicationsChanged = false;
  private clusterChanged = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastFlush = 0;
  private seq = 0;

  constructor(private readonly intervalMs = 100) {}

  watch(store: AppStatusStore): void {
    this.stores.add(store);
    store.setDirtyListener(() => {
      this.dirty.add(store);
      this.schedule();
    });
    this.applications();
  }

  unwatch(store: AppStatusStore): void {
    this.stores.delete(store);
    this.dirty.delete(store);
    store.setDirtyListener(null);
    this.applications();
  }

  /** The list of applications changed (one started, ended or was loaded). */
  applications(): void {
    this.applicationsChanged = true;
    this.schedule();
  }

  /** The coordinator's workers or executor slots changed. */
  cluster(): void {
    this.clusterChanged = true;
    this.schedule();
  }

  subscribe(subscriber: LiveSubscriber): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** Events applied over every watched store: what a page shows as its position in the stream. */
  get position(): number {
    let n = this.seq;
    for (const s of this.stores) n += s.seq;
    return n;
  }

  private schedule(): void {
    if (this.timer) return;
    // A burst right after a quiet spell goes out almost at once (a few ms to gather the burst);
    // a steady stream at most once per interval.
    const wait = Math.max(5, this.lastFlush + this.intervalMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
    (this.timer as { unref?: () => void }).unref?.();
  }

  private flush(): void {
    this.timer = null;
    this.lastFlush = Date.now();
    const change: LiveChange = { seq: this.position, apps: {}, applications: this.applicationsChanged };
    if (this.clusterChanged) change.cluster = true;
    for (const store of this.dirty) {
      const c = store.takeChanges();
      change.apps[store.app.id] = { stages: [...c.stages], any: c.any };
    }
    this.dirty.clear();
    this.applicationsChanged = false;
    this.clusterChanged = false;
    for (const s of this.subscribers) {
      try {
        s(change);
      } catch {
        // a subscriber that fails is the subscriber's business (its connection closes on its own)
      }
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const s of this.stores) s.setDirtyListener(null);
    this.subscribers.clear();
  }
}
