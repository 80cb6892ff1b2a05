/**
 * What a leaving executor did with its shuffle outputs reaches the executors' REST view (and the
 * dashboard's removed executors), live and from an event log alike: the events go through the same
 * Spark-format conversion an event log is written with.
 */
import { describe, expect, it } from 'vitest';
import type { FlintEvent } from '../../host/events/events.js';
import { executorsData } from '../../host/ui/rest-views.js';
import { SparkEventConverter } from '../../host/ui/spark-events.js';
import { AppStatusStore } from '../../host/ui/status-store.js';

function storeOf(events: FlintEvent[]): AppStatusStore {
  const store = new AppStatusStore('app-1', () => 2_000);
  const converter = new SparkEventConverter();
  for (const e of events) {
    const spark = converter.convert(e);
    // Through JSON, as an event log line is read back.
    if (spark) store.apply(JSON.parse(JSON.stringify(spark)));
  }
  return store;
}

const added = (executorId: string): FlintEvent => ({ type: 'executorAdded', time: 1_000, executorId, cores: 1, host: `host-${executorId}`, kind: 'node', capabilities: ['node', 'wasm', 'trusted'] });

describe('shuffle outputs handed on, in the executors view', () => {
  it('names the heir, the outputs and bytes it took and what was lost; executors that left otherwise say nothing', () => {
    const store = storeOf([
      { type: 'applicationStart', time: 900, appId: 'app-1', appName: 'a', user: 'u', master: 'flint://h:7077' } as FlintEvent,
      added('a'),
      added('b'),
      added('c'),
      { type: 'executorDraining', time: 1_100, executorId: 'a' },
      { type: 'shuffleOutputsHandedOn', time: 1_200, executorId: 'a', toExecutorId: 'b', outputs: 3, bytes: 4_096, lost: 1, reason: 'executor a no longer holds block 1/2/0' },
      { type: 'executorRemoved', time: 1_300, executorId: 'a', reason: 'the application gave it back', causedByApp: false },
      { type: 'executorRemoved', time: 1_400, executorId: 'c', reason: 'its connection closed', causedByApp: false },
    ]);
    const byId = new Map(executorsData(store, true).map((e) => [e.id, e]));
    expect(byId.get('a')!.shuffleOutputsHandedOn).toEqual({ toExecutorId: 'b', outputs: 3, bytes: 4_096, lost: 1, reason: 'executor a no longer holds block 1/2/0' });
    expect(byId.get('a')!.isActive).toBe(false);
    expect(byId.get('c')!.shuffleOutputsHandedOn).toBeUndefined();
    expect(byId.get('b')!.shuffleOutputsHandedOn).toBeUndefined();
  });
});
