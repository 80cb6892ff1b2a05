/**
 * An executor's memory budget and how its running tasks share it: Spark's UnifiedMemoryManager (one
 * budget for execution and storage; execution takes memory back from storage down to a protected
 * part) with TaskMemoryManager's policy (a task that would go over its share spills its largest
 * consumer first, possibly the one asking).
 *
 * Execution memory is what tasks hold while they run: WebAssembly hash tables and sort buffers,
 * record-path combiners, shuffle write buffers, fetched shuffle bytes. Storage memory is what the
 * block store keeps between tasks: cached partitions and map outputs. The accounting is synchronous
 * because consumers ask between two batches of a synchronous operator; they spill synchronously too
 * (see scratch.ts).
 */

export interface MemoryConsumer {
  /** What it is, for metrics and messages. */
  readonly label: string;
  /**
   * Moves what it holds to disk and releases that memory through its TaskMemory; returns the bytes
   * released (0 when it holds nothing it can move).
   */
  spill(): number;
}

/** The block store's side of the bargain: storage memory given back on request. */
export interface StorageEvictor {
  /** Moves or drops blocks, least recently used first, until `bytes` are free; returns bytes freed. */
  evict(bytes: number): number;
}

export class ExecutorMemory {
  private execution = 0;
  private storage = 0;
  private readonly running = new Set<TaskMemory>();
  evictor: StorageEvictor | null = null;

  /**
   * @param budget bytes for execution and storage together
   * @param canSpill whether there is a disk to spill to; without one, consumers are granted what
   *   they ask for (a browser keeps going in memory, past its budget if it must)
   * @param storageFraction the part of the budget that cached blocks keep even when tasks need memory
   */
  constructor(
    readonly budget: number,
    readonly canSpill: boolean,
    readonly storageFraction = 0.5,
  ) {}

  get executionUsed(): number {
    return this.execution;
  }

  get storageUsed(): number {
    return this.storage;
  }

  get free(): number {
    return this.budget - this.execution - this.storage;
  }

  /** The memory of a task that starts; `close` it when the task ends. */
  task(taskId: number): TaskMemory {
    const t = new TaskMemory(this, taskId);
    this.running.add(t);
    return t;
  }

  /** Storage for `bytes` more, evicting older blocks if that frees enough; false when it cannot. */
  acquireStorage(bytes: number): boolean {
    if (bytes > this.free && this.evictor) this.evictor.evict(bytes - this.free);
    if (bytes > this.free) return false;
    this.storage += bytes;
    return true;
  }

  /** Storage that cannot go anywhere else (no disk to move it to): taken even over the budget. */
  forceStorage(bytes: number): void {
    if (!this.acquireStorage(bytes)) this.storage += bytes;
  }

  releaseStorage(bytes: number): void {
    this.storage = Math.max(0, this.storage - bytes);
  }

  /** @internal The most one task may hold: an equal share of what storage's protected part leaves. */
  shareOfTask(): number {
    const reserved = Math.min(this.storage, this.budget * this.storageFraction);
    return Math.floor((this.budget - reserved) / Math.max(1, this.running.size));
  }

  /** @internal Evicts storage beyond its protected part for execution; returns bytes freed. */
  reclaimStorage(bytes: number): number {
    const above = this.storage - this.budget * this.storageFraction;
    if (above <= 0 || !this.evictor) return 0;
    return this.evictor.evict(Math.min(bytes, above));
  }

  /** @internal */
  grant(bytes: number): void {
    this.execution += bytes;
  }

  /** @internal */
  giveBack(bytes: number): void {
    this.execution = Math.max(0, this.execution - bytes);
  }

  /** @internal */
  ended(task: TaskMemory): void {
    this.running.delete(task);
  }
}

export class TaskMemory {
  private readonly used = new Map<MemoryConsumer, number>();
  /** Consumers in the middle of a spill: what they write out may ask for memory, but not of them. */
  private readonly spilling = new Set<MemoryConsumer>();
  private total = 0;
  private closed = false;
  /** Most execution memory this task held at once (Spark's peakExecutionMemory). */
  peak = 0;
  /** Memory released by spilling (Spark's memoryBytesSpilled). */
  spilled = 0;

  constructor(
    private readonly pool: ExecutorMemory,
    readonly taskId: number,
  ) {}

  get held(): number {
    return this.total;
  }

  get canSpill(): boolean {
    return this.pool.canSpill;
  }

  usedBy(consumer: MemoryConsumer): number {
    return this.used.get(consumer) ?? 0;
  }

  /**
   * Asks for `bytes` more for `consumer`. Storage above its protected part gives way first, then
   * this task's consumers spill, largest first. Returns false when the largest left is `consumer`
   * itself: the caller spills itself (it knows its own state), then asks again or forces.
   */
  acquire(consumer: MemoryConsumer, bytes: number): boolean {
    if (bytes <= 0) return true;
    const tried = new Set<MemoryConsumer>();
    for (;;) {
      if (this.fits(bytes)) {
        this.take(consumer, bytes);
        return true;
      }
      const short = bytes - this.pool.free;
      if (short > 0 && this.pool.reclaimStorage(short) > 0) continue;
      if (!this.pool.canSpill) {
        this.take(consumer, bytes);
        return true;
      }
      let victim: MemoryConsumer | null = null;
      let most = 0;
      for (const [c, n] of this.used) {
        if (n > most && !tried.has(c) && !this.spilling.has(c)) {
          victim = c;
          most = n;
        }
      }
      if (!victim || victim === consumer) return false;
      tried.add(victim);
      this.spill(victim);
    }
  }

  /** Has `consumer` spill, counting what it released (Spark's memoryBytesSpilled). */
  spill(consumer: MemoryConsumer): number {
    if (this.spilling.has(consumer)) return 0;
    this.spilling.add(consumer);
    try {
      const freed = consumer.spill();
      this.spilled += freed;
      return freed;
    } finally {
      this.spilling.delete(consumer);
    }
  }

  /**
   * Takes `bytes` for `consumer`, spilling what can be spilled to make room and then, if that is
   * not enough, going over the budget: for what cannot wait (a fetched block, one group of values).
   */
  force(consumer: MemoryConsumer, bytes: number): void {
    if (!this.acquire(consumer, bytes)) this.take(consumer, bytes);
  }

  /**
   * The usual way to ask: `bytes` for `consumer`, which spills itself first if it is the largest.
   * The memory is taken even when spilling could not make room (there is nothing left to spill).
   */
  reserve(consumer: MemoryConsumer, bytes: number): void {
    if (this.acquire(consumer, bytes)) return;
    this.spill(consumer);
    this.force(consumer, bytes);
  }

  release(consumer: MemoryConsumer, bytes: number): void {
    const have = this.used.get(consumer) ?? 0;
    const n = Math.min(have, Math.max(0, bytes));
    if (n === 0) return;
    if (have === n) this.used.delete(consumer);
    else this.used.set(consumer, have - n);
    this.total -= n;
    this.pool.giveBack(n);
  }

  /** Sets what `consumer` holds to `bytes` (after an operator measured itself), up or down. */
  resize(consumer: MemoryConsumer, bytes: number): void {
    const have = this.usedBy(consumer);
    if (bytes > have) this.force(consumer, bytes - have);
    else this.release(consumer, have - bytes);
  }

  releaseAll(consumer: MemoryConsumer): void {
    this.release(consumer, this.usedBy(consumer));
  }

  /** The task ended: whatever its consumers still hold goes back to the executor. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.giveBack(this.total);
    this.total = 0;
    this.used.clear();
    this.pool.ended(this);
  }

  private fits(bytes: number): boolean {
    return this.total + bytes <= this.pool.shareOfTask() && bytes <= this.pool.free;
  }

  private take(consumer: MemoryConsumer, bytes: number): void {
    this.used.set(consumer, this.usedBy(consumer) + bytes);
    this.total += bytes;
    this.pool.grant(bytes);
    if (this.total > this.peak) this.peak = this.total;
  }
}
