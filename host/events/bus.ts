/**
 * The event bus every layer reports to (Spark's LiveListenerBus). Listeners run synchronously in
 * the order they were added; a listener that throws is reported on the console and never breaks
 * the scheduler.
 */
import type { FlintEvent, FlintEventType } from './events.js';

type Listener<E> = (event: E) => void;

export class EventBus {
  private readonly byType = new Map<string, Set<Listener<never>>>();
  private readonly all = new Set<Listener<FlintEvent>>();

  on<K extends FlintEventType>(type: K, listener: Listener<Extract<FlintEvent, { type: K }>>): () => void;
  on(type: '*', listener: Listener<FlintEvent>): () => void;
  on(type: string, listener: Listener<never>): () => void {
    if (type === '*') {
      this.all.add(listener as Listener<FlintEvent>);
      return () => this.all.delete(listener as Listener<FlintEvent>);
    }
    let set = this.byType.get(type);
    if (!set) this.byType.set(type, (set = new Set()));
    set.add(listener);
    return () => set!.delete(listener);
  }

  emit(event: FlintEvent): void {
    const set = this.byType.get(event.type);
    if (set) for (const l of set) this.deliver(l as Listener<FlintEvent>, event);
    for (const l of this.all) this.deliver(l, event);
  }

  private deliver(listener: Listener<FlintEvent>, event: FlintEvent): void {
    try {
      listener(event);
    } catch (err) {
      console.error(`flint: an event listener for "${event.type}" threw`, err);
    }
  }
}
