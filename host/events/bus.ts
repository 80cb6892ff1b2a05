/**
 * The event bus every layer reports to (Spark's LiveListenerBus, without its silent drops). `emit`
 * only appends to one queue per subscriber and returns: listeners run later, in microtasks, so a
 * slow listener (a dashboard socket, an event log on a slow disk) never holds up the scheduler.
 * Queues are bounded by coalescing, never by dropping: past `maxQueue`, an event that carries a
 * coalescing key replaces the queued event with the same key (progress updates); events without a
 * key (job, stage and task boundaries) are always delivered, in order.
 */
import type { FlintEvent, FlintEventType } from './events.js';

type Listener<E> = (event: E) => void;

export interface SubscribeOptions {
  /** Queue length beyond which coalescible events replace older ones with the same key. */
  maxQueue?: number;
  /** A key for events that may be merged with a later one (the later wins); null for the rest. */
  coalesceKey?: (event: FlintEvent) => string | null;
}

/** Events a listener handles per turn before yielding the thread to the scheduler. */
const BATCH = 5000;

class Subscription {
  readonly queue: Array<FlintEvent | null> = [];
  private head = 0;
  /** Index in `queue` of the queued event with a coalescing key. */
  private readonly byKey = new Map<string, number>();
  active = true;

  constructor(
    readonly type: string,
    readonly listener: Listener<FlintEvent>,
    private readonly maxQueue: number,
    private readonly coalesceKey: ((event: FlintEvent) => string | null) | null,
  ) {}

  push(event: FlintEvent): void {
    if (this.coalesceKey && this.queue.length - this.head >= this.maxQueue) {
      const key = this.coalesceKey(event);
      if (key !== null) {
        const at = this.byKey.get(key);
        if (at !== undefined && at >= this.head) {
          this.queue[at] = event;
          return;
        }
        this.byKey.set(key, this.queue.length);
      }
    }
    this.queue.push(event);
  }

  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Delivers up to `max` events; returns how many were delivered. */
  drain(max: number): number {
    let n = 0;
    while (this.head < this.queue.length && n < max && this.active) {
      const event = this.queue[this.head]!;
      this.queue[this.head++] = null;
      n++;
      try {
        this.listener(event);
      } catch (err) {
        console.error(`flint: an event listener for "${event.type}" threw`, err);
      }
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      this.byKey.clear();
    }
    return n;
  }
}

export class EventBus {
  private readonly subscriptions: Subscription[] = [];
  private flushScheduled = false;
  private readonly idleWaiters: Array<() => void> = [];

  on<K extends FlintEventType>(type: K, listener: Listener<Extract<FlintEvent, { type: K }>>, options?: SubscribeOptions): () => void;
  on(type: '*', listener: Listener<FlintEvent>, options?: SubscribeOptions): () => void;
  on(type: string, listener: Listener<never>, options: SubscribeOptions = {}): () => void {
    const sub = new Subscription(type, listener as Listener<FlintEvent>, options.maxQueue ?? 10_000, options.coalesceKey ?? null);
    this.subscriptions.push(sub);
    return () => {
      sub.active = false;
      const i = this.subscriptions.indexOf(sub);
      if (i >= 0) this.subscriptions.splice(i, 1);
    };
  }

  emit(event: FlintEvent): void {
    let queued = false;
    for (const sub of this.subscriptions) {
      if (sub.type !== '*' && sub.type !== event.type) continue;
      sub.push(event);
      queued = true;
    }
    if (queued) this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    let backlog = false;
    for (const sub of [...this.subscriptions]) {
      sub.drain(BATCH);
      if (sub.pending > 0) backlog = true;
    }
    if (backlog) {
      // A long backlog continues in a later macrotask so that the scheduler gets the thread.
      this.flushScheduled = true;
      setTimeout(() => this.flush(), 0);
      return;
    }
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves once every event emitted so far has been delivered. */
  delivered(): Promise<void> {
    if (!this.flushScheduled && this.subscriptions.every((s) => s.pending === 0)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
