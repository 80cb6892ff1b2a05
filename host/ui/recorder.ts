/**
 * Feeds an application's events, in Spark's format, to its event log and its status store. One
 * subscription to the bus: the bus's own queue for it is what keeps a slow disk or a busy page from
 * ever holding up the scheduler, and one conversion serves both.
 */
import type { EventBus } from '../events/bus.js';
import { SparkEventConverter, type SparkEvent } from './spark-events.js';

export interface SparkEventSink {
  write(event: SparkEvent): void;
}

export function recordEvents(bus: EventBus, sinks: SparkEventSink[]): () => void {
  const converter = new SparkEventConverter();
  // Every event changes what a page or a log must show, so none may be merged away; the queue is
  // unbounded in the worst case, which is the price of being lossless (Spark drops events instead).
  return bus.on('*', (e) => {
    const spark = converter.convert(e);
    if (spark) for (const sink of sinks) sink.write(spark);
  });
}
