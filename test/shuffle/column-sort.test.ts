// The reduce side of sortByKey/sortBy over column blocks (shuffle/column-sort.ts) gives exactly what
// the external sorter gives over the decoded records, whatever the frames: column blocks of number
// or string keys, msgpack frames, shapes that switch mid-partition, budgets that force the sorter to
// take over and spill.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeRecords, encodeRecords } from '../../host/codec/records.js';
import { createTwinOps } from '../../host/ops/twins.js';
import type { FlintOps } from '../../host/ops/types.js';
import { ExternalSorter } from '../../host/shuffle/external-sort.js';
import { reduceFrames } from '../../host/shuffle/reader.js';
import { loadWasmOps } from '../ops/helpers.js';
import { scratchTasks } from './scratch-tasks.js';

const { task } = scratchTasks('column-sort');
let wasm: FlintOps;
beforeAll(async () => {
  wasm = await loadWasmOps();
});


function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number') return Object.is(a, b);
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a !== null && typeof a === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

const num = fc.oneof(fc.double(), fc.integer({ min: -5, max: 5 }), fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** 40));
const ascii = fc.string({ unit: 'grapheme-ascii', maxLength: 3 });
const str = fc.oneof(ascii, fc.constantFrom('é', '😀', '\uD800', '\uFFFF'));
/** A frame's pairs: mostly one column shape, sometimes strays (other key types, non-pairs are not allowed in a sort). */
const frameOf = fc
  .tuple(fc.constantFrom('nn', 'ns', 'sn', 'ss', 'mixed'), fc.integer({ min: 0, max: 60 }))
  .chain(([shape, len]) => {
    const k = shape === 'mixed' ? fc.oneof(num, str, fc.constantFrom(null, true, [1])) : shape[0] === 'n' ? num : ascii;
    const v = shape === 'mixed' ? fc.oneof(num, str, fc.constantFrom(null, { a: 1 })) : shape[1] === 'n' ? num : ascii;
    return fc.array(fc.tuple(k, v), { minLength: len, maxLength: len });
  });

async function* source(frames: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const f of frames) yield f;
}

describe('sorting column blocks on the reduce side', () => {
  it('gives what the external sorter gives over the records, in both directions, at any budget', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(frameOf, { maxLength: 8 }), fc.boolean(), fc.constantFrom(1 << 30, 4096, 64), fc.boolean(), async (frames, ascending, budget, useWasm) => {
        const ops = useWasm ? wasm : createTwinOps();
        const blocks = frames.map((f) => encodeRecords(f));
        const t1 = task(1 << 30);
        const expected: unknown[] = [];
        const sorter = new ExternalSorter(t1.memory, t1.scratch, (r) => (r as unknown[])[0], ascending, ops, () => {});
        for (const b of blocks) sorter.add(decodeRecords(b));
        for (const batch of sorter.sorted()) expected.push(...batch);
        sorter.release();
        t1.done();
        const t2 = task(budget);
        const got: unknown[] = [];
        const spec = { aggregator: null, mapSideCombined: false, sort: { ascending }, where: 'sortByKey', ops, used: () => {}, memory: t2.memory, scratch: t2.scratch };
        for await (const batch of reduceFrames(source(blocks), spec)) got.push(...batch);
        t2.done();
        expect(same(got, expected)).toBe(true);
        // sortBy's values straight from the sort.
        const t3 = task(budget);
        const values: unknown[] = [];
        for await (const batch of reduceFrames(source(blocks), { ...spec, valuesOnly: true, memory: t3.memory, scratch: t3.scratch })) values.push(...batch);
        t3.done();
        expect(same(values, expected.map((r) => (r as unknown[])[1]))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
