/**
 * The driver's view of live executors: their endpoints, free task slots, what was already shipped
 * to them (broadcasts, stage plans), cached blocks they hold, heartbeats and failure counts.
 */
import type { Endpoint } from '../transport/endpoint.js';
import type { Capability, ExecutorDescription, ExecutorKind } from './backend.js';

export interface ExecutorInfo {
  id: string;
  endpoint: Endpoint;
  host: string;
  /** The machine or tab it runs in (itself when nobody said). */
  workerId: string;
  cores: number;
  kind: ExecutorKind;
  capabilities: ReadonlySet<Capability>;
  running: Set<number>;
  broadcasts: Set<number>;
  modules: Set<string>;
  /** Stage plans this executor holds, by stage key: tasks then carry only their own inputs. */
  stages: Set<string>;
  lastHeartbeat: number;
  /** Task failures in a row; reset by a success. An executor that keeps failing is excluded. */
  consecutiveFailures: number;
  excludedUntil: number;
  /** Leaving (decommissioned or revoked): it finishes what runs and takes no new task. */
  draining: boolean;
  completedTasks: number;
  failedTasks: number;
}

export class ExecutorRegistry {
  private readonly executors = new Map<string, ExecutorInfo>();
  private readonly blockHolders = new Map<string, Set<string>>();

  add(description: ExecutorDescription, endpoint: Endpoint, now: number): ExecutorInfo {
    const info: ExecutorInfo = {
      id: description.id,
      endpoint,
      host: description.host,
      workerId: description.workerId ?? description.id,
      cores: description.cores,
      kind: description.kind,
      capabilities: new Set(description.capabilities),
      running: new Set(),
      broadcasts: new Set(),
      modules: new Set(),
      stages: new Set(),
      lastHeartbeat: now,
      consecutiveFailures: 0,
      excludedUntil: 0,
      draining: false,
      completedTasks: 0,
      failedTasks: 0,
    };
    this.executors.set(description.id, info);
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

  /** Whether `info` may take new tasks now. */
  isUsable(info: ExecutorInfo, now: number): boolean {
    return !info.draining && info.excludedUntil <= now;
  }
}

/** True when the executor has every capability in `requirements`. */
export function satisfies(info: { capabilities: ReadonlySet<Capability> }, requirements: readonly Capability[]): boolean {
  for (const r of requirements) if (!info.capabilities.has(r)) return false;
  return true;
}
