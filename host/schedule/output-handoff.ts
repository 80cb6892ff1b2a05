/**
 * Handing on the shuffle map outputs of an executor that leaves on purpose (a decommissioned
 * worker, a tab whose volunteer pressed Leave or whose page is going away, an executor lent back to
 * the coordinator), as Spark 3.1 migrates shuffle blocks on decommission: once it runs nothing, one
 * staying executor (an heir) fetches all it holds and keeps it as its own, the map output tracker
 * points readers at the heir, and the stages that read those outputs need not recompute them. What
 * the heir could not take (no heir, a failed fetch, a timeout, a digest that does not match) is
 * declared lost and recomputed, as before.
 *
 * An untrusted heir takes only outputs whose digest is known (they were verified), and its copy
 * counts only when it reports that same digest: a volunteer cannot slip in other bytes.
 */
import type { ExecutorInfo, ExecutorRegistry } from '../cluster/executor-registry.js';
import type { EventBus } from '../events/bus.js';
import type { DriverToExecutor, ExecutorToDriver } from '../exec/protocol.js';
import type { HeldOutput, MapOutputTracker } from '../shuffle/map-output-tracker.js';
import type { Clock, TimerHandle } from './clock.js';

/** How long an heir may take to fetch what it was given before the rest is declared lost. */
export const HANDOFF_TIMEOUT_MS = 20_000;

export interface HandoffHost {
  readonly registry: ExecutorRegistry;
  readonly tracker: MapOutputTracker;
  readonly clock: Clock;
  readonly bus: EventBus;
  send(executor: ExecutorInfo, message: DriverToExecutor): void;
  /** What `executorId` still holds is lost: readers wait and the map stages recompute it. */
  declareLost(executorId: string): void;
}

interface Handoff {
  adoptId: number;
  from: string;
  to: string;
  outputs: HeldOutput[];
  /** The heir is untrusted: each output's copy must report the digest it was verified by. */
  checkDigests: boolean;
  timer: TimerHandle;
  done: () => void;
}

export class OutputHandoff {
  private readonly running = new Map<number, Handoff>();
  /** Executors whose hand-off is over, with how many outputs moved. */
  private readonly over = new Map<string, number>();
  private nextId = 0;

  constructor(private readonly host: HandoffHost) {}

  /**
   * Who takes `from`'s outputs: an executor that stays (not draining, not excluded, not on the
   * same machine or tab), trusted ones first, then the one running least.
   */
  heirFor(from: string): ExecutorInfo | null {
    const leaving = this.host.registry.get(from);
    let best: ExecutorInfo | null = null;
    for (const e of this.host.registry.all()) {
      if (e.id === from || e.draining || e.excludedUntil > this.host.clock.now()) continue;
      if (leaving && e.workerId === leaving.workerId) continue;
      if (!best || rank(e) < rank(best)) best = e;
    }
    return best;
  }

  /** Whether `from` holds outputs and someone could take them. */
  wouldHandOn(from: string): boolean {
    return this.host.tracker.outputsOn(from).length > 0 && this.heirFor(from) !== null;
  }

  inProgress(from: string): boolean {
    for (const h of this.running.values()) if (h.from === from) return true;
    return false;
  }

  isOver(from: string): boolean {
    return this.over.has(from);
  }

  /** How many of `from`'s outputs moved to an heir. */
  moved(from: string): number {
    return this.over.get(from) ?? 0;
  }

  /** Hands on what `from` holds; `done` is called once that is over, whatever the outcome. */
  start(from: string, done: () => void): void {
    const outputs = this.host.tracker.outputsOn(from);
    if (outputs.length === 0) {
      this.over.set(from, 0);
      done();
      return;
    }
    const heir = this.heirFor(from);
    const checkDigests = heir !== null && !heir.capabilities.has('trusted');
    const movable = checkDigests ? outputs.filter((o) => o.digest !== undefined) : outputs;
    if (!heir || movable.length === 0) {
      this.finish(from, heir?.id ?? null, 0, 0, heir ? 'no verified output to hand to an untrusted executor' : 'no executor could take them', done);
      return;
    }
    const adoptId = this.nextId++;
    const timer = this.host.clock.setTimeout(() => this.fail(adoptId, `${heir.id} did not take them within ${HANDOFF_TIMEOUT_MS} ms`), HANDOFF_TIMEOUT_MS);
    this.running.set(adoptId, { adoptId, from, to: heir.id, outputs: movable, checkDigests, timer, done });
    this.host.send(heir, {
      t: 'adoptOutputs',
      adoptId,
      from,
      outputs: movable.map((o) => ({ shuffleId: o.shuffleId, mapId: o.mapId, sizes: o.sizes })),
      digest: checkDigests,
    });
  }

  /** An heir's answer; returns why it is refused when it answers something it was not asked. */
  onAdopted(executorId: string, m: Extract<ExecutorToDriver, { t: 'adopted' }>): string | null {
    const h = this.running.get(m.adoptId);
    // Late (timed out, or the leaving executor was lost meanwhile): what it fetched is not used.
    if (!h) return null;
    if (h.to !== executorId) return `an answer to hand-off ${m.adoptId}, which was asked of ${h.to}`;
    this.running.delete(m.adoptId);
    this.host.clock.clearTimeout(h.timer);
    const asked = new Map(h.outputs.map((o) => [`${o.shuffleId}/${o.mapId}`, o]));
    let moved = 0;
    let bytes = 0;
    let mismatched = 0;
    for (const a of m.outputs) {
      const o = asked.get(`${a.shuffleId}/${a.mapId}`);
      if (!o) continue;
      if (h.checkDigests && a.digest !== o.digest) {
        mismatched++;
        continue;
      }
      if (!this.host.tracker.moveOutput(a.shuffleId, a.mapId, h.from, h.to)) continue;
      moved++;
      for (const s of o.sizes) bytes += s;
    }
    const reason = m.error ?? (mismatched > 0 ? `${mismatched} copies did not match the digests their outputs were verified by` : undefined);
    this.finish(h.from, h.to, moved, bytes, reason, h.done);
    return null;
  }

  /** An executor is gone: hand-offs from it are moot (its loss declares all lost), hand-offs to it failed. */
  executorLost(executorId: string): void {
    this.over.delete(executorId);
    for (const h of [...this.running.values()]) {
      if (h.from === executorId) {
        this.running.delete(h.adoptId);
        this.host.clock.clearTimeout(h.timer);
      } else if (h.to === executorId) {
        this.fail(h.adoptId, `${executorId} was lost while taking them`);
      }
    }
  }

  private fail(adoptId: number, reason: string): void {
    const h = this.running.get(adoptId);
    if (!h) return;
    this.running.delete(adoptId);
    this.host.clock.clearTimeout(h.timer);
    this.finish(h.from, h.to, 0, 0, reason, h.done);
  }

  private finish(from: string, to: string | null, moved: number, bytes: number, reason: string | undefined, done: () => void): void {
    this.over.set(from, moved);
    const lost = this.host.tracker.outputsOn(from).length;
    if (lost > 0) this.host.declareLost(from);
    this.host.bus.emit({
      type: 'shuffleOutputsHandedOn',
      time: this.host.clock.now(),
      executorId: from,
      toExecutorId: to,
      outputs: moved,
      bytes,
      lost,
      ...(reason !== undefined && lost > 0 ? { reason } : {}),
    });
    done();
  }
}

/** Lower is a better heir: trusted first, then the least busy for its size. */
function rank(e: ExecutorInfo): number {
  return (e.capabilities.has('trusted') ? 0 : 1e6) + e.running.size / Math.max(1, e.cores);
}
