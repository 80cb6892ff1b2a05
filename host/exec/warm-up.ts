/**
 * What a fresh executor does before it says it is ready (issue 11: the first job of a process should
 * cost about what the same job costs again). It compiles and instantiates the WebAssembly operators
 * (otherwise done by the first task that needs them) and runs the code every job runs, on a few
 * thousand synthetic records, so that V8 has compiled it before the first task: encoding and
 * decoding record frames (columns and msgpack), hashing keys into a KeyMap, the hash aggregation,
 * the radix sorts and the column sort. Threads start in parallel, so Flint.start pays this once, a
 * few tens of milliseconds.
 */
import { KeyMap } from '../codec/keys.js';
import { decodeColumnFields } from '../codec/columns.js';
import { decodeRecords, encodeRecords } from '../codec/records.js';
import { executorOps } from '../ops/executor-ops.js';
import { isWasmAvailable } from '../ops/wasm-ops.js';
import { addColumns, batchRecords, pairColumns } from '../shuffle/agg-batches.js';
import { ExecutorMemory } from '../memory/memory-manager.js';
import { ColumnSortBuffer } from '../shuffle/column-sort.js';

const N = 1024;

export function warmUp(): void {
  const flavours = [isWasmAvailable()];
  const numbers: unknown[] = [];
  const words: unknown[] = [];
  const mixed: unknown[] = [];
  for (let i = 0; i < N; i++) {
    numbers.push([(i * 7919) % N + 0.5, i]);
    words.push(['w' + ((i * 31) % 997), 1]);
    mixed.push(i % 2 ? { k: i, v: [String(i), null] } : [i, 'é' + i]);
  }
  for (let round = 0; round < 3; round++) {
    for (const batch of [numbers, words, mixed]) decodeRecords(encodeRecords(batch));
    const counts = new KeyMap<number>();
    for (const [w, n] of words as Array<[string, number]>) counts.set(w, (counts.get(w) ?? 0) + n);
    for (const [k, v] of numbers as Array<[number, number]>) counts.set(k, (counts.get(k) ?? 0) + v);
  }
  for (const useWasm of flavours) {
    const ops = executorOps(useWasm);
    for (const batch of [numbers, words]) {
      const cols = pairColumns(batch, true)!;
      const agg = ops.createAggregator(cols.keyKind, 'sum');
      try {
        addColumns(agg, cols);
        batchRecords(agg.finish());
      } finally {
        agg.release();
      }
      const memory = new ExecutorMemory(1 << 30, false).task(0);
      const sorter = new ColumnSortBuffer(memory);
      sorter.add(decodeColumnFields(encodeRecords(batch)));
      for (const _ of sorter.sorted(true, ops, () => {}));
      memory.close();
    }
  }
}
