/**
 * How much memory a Node executor gets, in one place.
 *
 * `executorMemoryMb` is an executor's memory budget: what its running tasks and its block store may
 * hold together (hash tables, sort buffers, combiners, shuffle buffers and fetched blocks, cached
 * blocks); past it they spill to disk. The worker thread it runs in gets a JavaScript heap limit of
 * twice the budget plus 256 MB: records are accounted by estimate, and what the engine does not
 * account (batches on their way, a user function's temporaries, code) needs room beside them.
 * WebAssembly tables and byte buffers count in the budget but live outside V8's heap.
 */
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';

const HEAP_RESERVE_MB = 256;
const MIN_BUDGET_MB = 64;

/** The heap limit of a worker thread whose executor has this budget. */
export function threadHeapLimitMb(budgetMb: number): number {
  return Math.ceil(2 * budgetMb + HEAP_RESERVE_MB);
}

/** The budget of an executor that may take `shareMb` of the machine in all (heap and the rest). */
export function budgetForShareMb(shareMb: number): number {
  return Math.max(MIN_BUDGET_MB, Math.floor((shareMb - HEAP_RESERVE_MB) / 2));
}

/** Three quarters of the machine shared by its executors (a `flint worker` says how much with --memory). */
export function defaultExecutorMemoryMb(executorsOnMachine: number): number {
  return budgetForShareMb((totalmem() / (1024 * 1024)) * 0.75 / Math.max(1, executorsOnMachine));
}

/** The executor of master 'local' shares the driver's thread and heap: a quarter of that heap at most. */
export function defaultInProcessMemoryMb(): number {
  const heapMb = getHeapStatistics().heap_size_limit / (1024 * 1024);
  return Math.max(MIN_BUDGET_MB, Math.min(defaultExecutorMemoryMb(1), Math.floor(heapMb / 4)));
}
