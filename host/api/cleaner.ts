/**
 * Spark's ContextCleaner: shuffle outputs and cached blocks of RDDs the program can no longer
 * reach are dropped on every executor, so a long-lived driver running job after job does not fill
 * its executors' memory. A FinalizationRegistry hears of each RDD object the garbage collector
 * reclaims; the scheduler keeps no reference to RDDs between jobs, so only the user's own
 * references keep their outputs alive. Broadcasts are not cleaned this way: closures refer to them
 * by id, so a collected Broadcast object may still be in use; `destroy()` them explicitly.
 */
export interface CleanupActions {
  removeShuffle(shuffleId: number): void;
  dropCachedRdd(rddId: number): void;
}

type Cleanup = { kind: 'shuffle'; shuffleId: number } | { kind: 'cached'; rddId: number };

export class ContextCleaner {
  private readonly registry: FinalizationRegistry<Cleanup>;
  private readonly cachedRegistered = new Set<number>();
  private stopped = false;

  constructor(actions: CleanupActions) {
    this.registry = new FinalizationRegistry((c: Cleanup) => {
      if (this.stopped) return;
      if (c.kind === 'shuffle') actions.removeShuffle(c.shuffleId);
      else {
        this.cachedRegistered.delete(c.rddId);
        actions.dropCachedRdd(c.rddId);
      }
    });
  }

  /** `owner` holds the shuffle dependency: once it is unreachable, nobody reads the shuffle again. */
  registerShuffle(owner: object, shuffleId: number): void {
    this.registry.register(owner, { kind: 'shuffle', shuffleId });
  }

  registerCached(rdd: object, rddId: number): void {
    if (this.cachedRegistered.has(rddId)) return;
    this.cachedRegistered.add(rddId);
    this.registry.register(rdd, { kind: 'cached', rddId });
  }

  stop(): void {
    this.stopped = true;
  }
}
