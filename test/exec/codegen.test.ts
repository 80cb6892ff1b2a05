// Whole-stage code generation (exec/ops.ts generatedStage) against the composed push functions it
// replaces: random chains of record operators over random records give the same batches, or the
// same error.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { applyOps, applyOpsInto, setCodegen, splitForSink } from '../../host/exec/ops.js';
import { expectPair } from '../../host/shuffle/aggregator.js';
import type { OpDesc } from '../../host/plan/plan.js';

const fns: Record<string, Function> = {
  id: (x: unknown) => x,
  double: (x: unknown) => (typeof x === 'number' ? x * 2 : x),
  pair: (x: unknown) => [x, 1],
  odd: (x: unknown) => typeof x !== 'number' || x % 2 !== 0,
  truthy: (x: unknown) => x,
  twice: (x: unknown) => [x, x],
  none: () => [],
  set: (x: unknown) => new Set([x, 'k']),
  gen: function* (x: unknown) {
    yield x;
    yield [x];
  },
  notIterable: (x: unknown) => (typeof x === 'number' && x > 40 ? 7 : [x]),
  thrower: (x: unknown) => {
    if (x === 13) throw new RangeError('thirteen');
    return x;
  },
  str: (x: unknown) => String(x),
};
const instantiate = (spec: unknown) => fns[spec as string]!;

const op: fc.Arbitrary<OpDesc> = fc.oneof(
  fc.record({ op: fc.constantFrom('map' as const, 'keyBy' as const, 'mapValues' as const), f: fc.constantFrom('id', 'double', 'pair', 'str', 'thrower') }) as unknown as fc.Arbitrary<OpDesc>,
  fc.record({ op: fc.constant('filter' as const), f: fc.constantFrom('odd', 'truthy') }) as unknown as fc.Arbitrary<OpDesc>,
  fc.record({ op: fc.constantFrom('flatMap' as const, 'flatMapValues' as const), f: fc.constantFrom('twice', 'none', 'set', 'gen', 'notIterable') }) as unknown as fc.Arbitrary<OpDesc>,
  fc.record({ op: fc.constantFrom('keys' as const, 'values' as const, 'pairWithNull' as const, 'swap' as const) }) as unknown as fc.Arbitrary<OpDesc>,
);
const record = fc.oneof(fc.integer({ min: 0, max: 50 }), fc.string({ maxLength: 2 }), fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer()), fc.constant(null), fc.constant([1, 2, 3]));

async function* source(batches: unknown[][]): AsyncGenerator<unknown[]> {
  for (const b of batches) yield b;
}

async function run(ops: OpDesc[], batches: unknown[][], on: boolean): Promise<{ out: unknown[][] } | { error: string }> {
  setCodegen(on);
  const out: unknown[][] = [];
  try {
    for await (const b of applyOps(ops, source(batches), 0, instantiate as never, null as never)) out.push([...b]);
    return { out };
  } catch (err) {
    return { error: `${(err as Error).constructor.name}: ${(err as Error).message}` };
  }
}

afterEach(() => setCodegen(true));

describe('whole-stage code generation', () => {
  it('gives the batches (or the error) the composed push functions give', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 6 }), fc.array(fc.array(record, { maxLength: 40 }), { maxLength: 4 }), async (ops, batches) => {
        const composed = await run(ops, batches, false);
        const generated = await run(ops, batches, true);
        expect(generated).toEqual(composed);
      }),
      { numRuns: 400 },
    );
  });

  it('hands output on in batches of at most 4,096 records after the record that filled them', async () => {
    const lines = Array.from({ length: 3000 }, (_, i) => i);
    const ops: OpDesc[] = [{ op: 'flatMap', f: 'twice' as never }, { op: 'map', f: 'pair' as never }];
    const composed = await run(ops, [lines, lines.slice(0, 10)], false);
    const generated = await run(ops, [lines, lines.slice(0, 10)], true);
    expect(generated).toEqual(composed);
    expect((generated as { out: unknown[][] }).out.map((b) => b.length)).toEqual([4096, 1904, 20]);
  });

  it('feeds a pair sink the pairs (or the error) the composed push functions hand on record by record', async () => {
    const notPair = (r: unknown): never => expectPair(r, 'shuffle') as never;
    const outcome = async (feed: (add: (k: unknown, v: unknown) => void) => Promise<void>) => {
      const pairs: unknown[] = [];
      try {
        await feed((k, v) => void pairs.push([k, v]));
        return { pairs };
      } catch (err) {
        return { pairs, error: `${(err as Error).constructor.name}: ${(err as Error).message}` };
      }
    };
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 6 }), fc.array(fc.array(record, { maxLength: 40 }), { maxLength: 4 }), async (ops, batches) => {
        // The composed functions with the writer's check as a last operator: each record reaches
        // the check as soon as the operators before it made it, as in the generated loop.
        setCodegen(false);
        const composed = await outcome(async (add) => {
          fns.check = (r: unknown) => {
            const [k, v] = expectPair(r, 'shuffle');
            add(k, v);
            return r;
          };
          for await (const b of applyOps([...ops, { op: 'map', f: 'check' as never }], source(batches), 0, instantiate as never, null as never)) void b;
        });
        setCodegen(true);
        const split = splitForSink(ops);
        if (!split) {
          // Chains of more than three flatMaps are not generated at all.
          expect(ops.filter((o) => o.op === 'flatMap').length).toBeGreaterThan(3);
          return;
        }
        expect(split.tail).toEqual(ops);
        const fused = await outcome(async (add) => {
          let yielded = 0;
          for await (const b of applyOpsInto(split, source(batches), 0, instantiate as never, null as never, { addValue: add }, notPair)) {
            expect(b).toEqual([]);
            yielded++;
          }
          expect(yielded).toBe(batches.length);
        });
        expect(fused).toEqual(composed);
      }),
      { numRuns: 400 },
    );
  });

  it('leaves a chain that does not end in generated operators to the batches', () => {
    expect(splitForSink([])).toBeNull();
    expect(splitForSink([{ op: 'map', f: 'pair' as never }, { op: 'glom' } as OpDesc])).toBeNull();
    const zip = { op: 'zipWithIndex', startIndices: [0] } as unknown as OpDesc;
    const split = splitForSink([{ op: 'map', f: 'id' as never }, zip, { op: 'map', f: 'pair' as never }]);
    expect(split).toEqual({ head: [{ op: 'map', f: 'id' }, zip], tail: [{ op: 'map', f: 'pair' }] });
  });
});

describe("sortBy's sample (keyBy then sampleKeys, fused)", () => {
  const sampleOps = (f: string, n: number) => [{ op: 'map', f: 'double' }, { op: 'keyBy', f }, { op: 'sampleKeys', n }] as unknown as OpDesc[];

  it('samples min(n, records) keys of the records, the same ones on a rerun, or fails with the key function\'s error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(record, { maxLength: 40 }), { maxLength: 4 }), fc.constantFrom('id', 'double', 'str', 'thrower'), fc.integer({ min: 1, max: 12 }), async (batches, f, n) => {
        const got = await run(sampleOps(f, n), batches, true);
        expect(await run(sampleOps(f, n), batches, true)).toEqual(got);
        const xs = batches.flat().map((x) => fns.double!(x));
        const key = fns[f] as (x: unknown) => unknown;
        const throwsOn = (x: unknown) => f === 'thrower' && x === 13;
        if ('error' in got) {
          // Only a record that was looked at can fail: the thrower's error, from a record that throws.
          expect(got.error).toBe('RangeError: thirteen');
          expect(xs.some(throwsOn)).toBe(true);
          return;
        }
        if (xs.length <= n) {
          // Every record enters a reservoir that is not full: all keys, in order.
          expect(xs.some(throwsOn)).toBe(false);
          expect(got.out).toEqual([xs.map(key)]);
          return;
        }
        // n keys, each taken from a distinct record (a sub-multiset of the records' keys).
        const sample = got.out[0]!;
        expect(sample).toHaveLength(n);
        const left = xs.filter((x) => !throwsOn(x)).map((x) => JSON.stringify(key(x)));
        for (const k of sample) {
          const at = left.indexOf(JSON.stringify(k));
          expect(at).toBeGreaterThanOrEqual(0);
          left.splice(at, 1);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('samples uniformly: every tenth of a partition gives about a tenth of the reservoir', async () => {
    // 200,000 records in batches of 4096, a reservoir of 2,000: each decile expects 200 (sd about 13).
    const total = 200_000;
    const batches: number[][] = [];
    for (let i = 0; i < total; i += 4096) batches.push(Array.from({ length: Math.min(4096, total - i) }, (_, j) => (i + j) / 2));
    const got = await run(sampleOps('id', 2000), batches, true);
    if (!('out' in got)) throw new Error(got.error);
    const sample = got.out[0] as number[];
    expect(new Set(sample).size).toBe(2000);
    const deciles = new Array<number>(10).fill(0);
    for (const k of sample) deciles[Math.floor(k / (total / 10))]!++;
    for (const d of deciles) expect(d).toBeGreaterThan(150);
    for (const d of deciles) expect(d).toBeLessThan(250);
    // And not merely the first records of each decile: half of each lies in its upper half.
    const upper = sample.filter((k) => k % (total / 10) >= total / 20).length;
    expect(upper).toBeGreaterThan(850);
    expect(upper).toBeLessThan(1150);
  });
});
