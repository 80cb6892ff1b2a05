// The reduce side of sortByKey/sortBy over column blocks (shuffle/column-sort.ts) gives exactly what
// the external sorter gives over the decoded records, whatever the frames: column blocks of number
// or string keys, msgpack frames, shapes that switch mid-partition, budgets that force the sorter to
// take over and spill.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeNumberColumns } from '../../host/codec/columns.js';
import { decodeRecords, encodeRecords } from '../../host/codec/records.js';
import { createTwinOps } from '../../host/ops/twins.js';
import type { FlintOps } from '../../host/ops/types.js';
import { ExternalSorter } from '../../host/shuffle/external-sort.js';
import { gatherSorted, reduceFrames } from '../../host/shuffle/reader.js';
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
/**
 * A frame's pairs: mostly one column shape, sometimes strays (other key types, non-pairs are not
 * allowed in a sort); 'same' pairs are [x, x] (sortBy(x => x) of numbers).
 */
const frameOf = fc
  .tuple(fc.constantFrom('nn', 'ns', 'sn', 'ss', 'same', 'same', 'mixed'), fc.integer({ min: 0, max: 60 }))
  .chain(([shape, len]) => {
    if (shape === 'same') return fc.array(num.map((x) => [x, x] as [unknown, unknown]), { minLength: len, maxLength: len });
    const k = shape === 'mixed' ? fc.oneof(num, str, fc.constantFrom(null, true, [1])) : shape[0] === 'n' ? num : ascii;
    const v = shape === 'mixed' ? fc.oneof(num, str, fc.constantFrom(null, { a: 1 })) : shape[1] === 'n' ? num : ascii;
    return fc.array(fc.tuple(k, v), { minLength: len, maxLength: len });
  });

/**
 * The block a map task writes for these pairs: number pairs as columns written without records
 * (range-writer.ts; one column when every value is its key), anything else as encodeRecords does.
 */
function blockOf(pairs: Array<[unknown, unknown]>): Uint8Array {
  if (pairs.length === 0 || !pairs.every(([k, v]) => typeof k === 'number' && typeof v === 'number')) return encodeRecords(pairs);
  const keys = Float64Array.from(pairs, ([k]) => k as number);
  const values = Float64Array.from(pairs, ([, v]) => v as number);
  return encodeNumberColumns(pairs.length, keys, pairs.every(([k, v]) => Object.is(k, v)) ? 'same' : values);
}

/** Plain reference: a stable sort of numbers (-0 equal to 0, NaN after all) or of code points. */
function referenceSort(pairs: Array<[unknown, unknown]>, ascending: boolean): Array<[unknown, unknown]> {
  const rank = (k: unknown) => (typeof k === 'number' ? (k !== k ? [1, 0] : [0, k]) : [2, 0]);
  const cmp = (a: unknown, b: unknown): number => {
    if (typeof a === 'string' && typeof b === 'string') {
      const x = [...a].map((c) => c.codePointAt(0)!);
      const y = [...b].map((c) => c.codePointAt(0)!);
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
      return x.length - y.length;
    }
    const [ra, xa] = rank(a) as [number, number];
    const [rb, xb] = rank(b) as [number, number];
    return ra !== rb ? ra - rb : xa < xb ? -1 : xa > xb ? 1 : 0;
  };
  return pairs
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (ascending ? 1 : -1) * cmp(a.p[0], b.p[0]) || a.i - b.i)
    .map((r) => r.p);
}

async function* source(frames: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const f of frames) yield f;
}

describe('sorting column blocks on the reduce side', () => {
  it('gives what the external sorter gives over the records, in both directions, at any budget', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(frameOf, { maxLength: 8 }), fc.boolean(), fc.constantFrom(1 << 30, 4096, 64), fc.boolean(), async (frames, ascending, budget, useWasm) => {
        const ops = useWasm ? wasm : createTwinOps();
        const blocks = frames.map((f) => blockOf(f as Array<[unknown, unknown]>));
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

  it('writes number pairs sorted as the result block: a plain stable sort\'s records, SAME blocks or not', async () => {
    // Frames of number pairs, which the columns take whole (a map task writes no empty frame).
    const numberFrame = fc.tuple(fc.constantFrom('nn', 'same', 'same'), fc.integer({ min: 1, max: 80 })).chain(([shape, len]) =>
      shape === 'same'
        ? fc.array(num.map((x) => [x, x] as [unknown, unknown]), { minLength: len, maxLength: len })
        : fc.array(fc.tuple(num, num).map((t) => [t[0], t[1]] as [unknown, unknown]), { minLength: len, maxLength: len }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(numberFrame, { maxLength: 8 }), fc.boolean(), fc.boolean(), async (frames, ascending, useWasm) => {
        const ops = useWasm ? wasm : createTwinOps();
        const all = frames.flat();
        const expected = referenceSort(all, ascending);
        const t = task(1 << 30);
        const spec = { aggregator: null, mapSideCombined: false, sort: { ascending }, where: 'sortByKey', ops, used: () => {}, memory: t.memory, scratch: t.scratch };
        for (const valuesOnly of [false, true]) {
          const gathered = await gatherSorted(source(frames.map(blockOf)), ascending, spec, 1000);
          expect('columns' in gathered).toBe(true);
          const result = 'columns' in gathered ? gathered.columns.sortedBlock(ascending, () => {}, valuesOnly) : null;
          expect(result).not.toBeNull();
          const want = valuesOnly ? expected.map((r) => r[1]) : expected;
          expect(result!.rows).toBe(want.length);
          expect(same(decodeRecords(result!.block), want)).toBe(true);
          // The bytes the records would give (what another executor's record path sends).
          expect(new Uint8Array(result!.block)).toEqual(new Uint8Array(encodeRecords(want)));
        }
        t.done();
      }),
      { numRuns: 300 },
    );
  });
});
