/**
 * The driver's view of live executors: their endpoints, free task slots, broadcasts already shipped
 * to them, cached blocks they hold, heartbeats and failure counts.
 */
import type { Endpoint } from '../transport/endpoint.js';

export interface ExecutorInfo {
  id: string;
  endpoint: Endpoint;
  host: string;
  cores: number;
  running: Set<number>;
  broadcasts: Set<number>;
  lastHeartbeat: number;
  /** Task failures in a row; reset by a success. An executor that keeps failing is excluded. */
  consecutiveFailures: number;
  excludedUntil: number;
}

export class ExecutorRegistry {
  private readonly executors = new Map<string, ExecutorInfo>();
  private readonly blockHolders = new Map<string, Set<string>>();

  add(id: string, endpoint: Endpoint, cores: number, host: string): ExecutorInfo {
    const info: ExecutorInfo = {
      id,
      endpoint,
      host,
      cores,
      running: new Set(),
      broadcasts: new Set(),
      lastHeartbeat: Date.now(),
      consecutiveFailures: 0,
      excludedUntil: 0,
    };
    this.executors.set(id, info);
    return info;
  }

  remove(id: string): ExecutorInfo | undefined {
    const info = this.executors.get(id);
    this.executors.delete(id);
    for (const holders of this.blockHolders.values()) holders.delete(id);
    return info;
  }

  get(id: string): ExecutorInfo | undefined {
    return this.executors.get(id);
  }

  all(): ExecutorInfo[] {
    return [...this.executors.values()];
  }

  get size(): number {
    return this.executors.size;
  }

  totalCores(): number {
    let n = 0;
    for (const e of this.executors.values()) n += e.cores;
    return n;
  }

  addBlock(blockId: string, executorId: string): void {
    let holders = this.blockHolders.get(blockId);
    if (!holders) this.blockHolders.set(blockId, (holders = new Set()));
    holders.add(executorId);
  }

  removeBlock(blockId: string, executorId: string): void {
    this.blockHolders.get(blockId)?.delete(executorId);
  }

  removeBlocksWithPrefix(prefix: string): void {
    for (const id of [...this.blockHolders.keys()]) if (id.startsWith(prefix)) this.blockHolders.delete(id);
  }

  holdersOf(blockId: string): string[] {
    return [...(this.blockHolders.get(blockId) ?? [])];
  }

  isExcluded(info: ExecutorInfo, now: number): boolean {
    return info.excludedUntil > now;
  }
}
