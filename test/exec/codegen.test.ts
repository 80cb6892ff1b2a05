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
  /** Plain reservoir of the keys with the operator's fixed LCG, over pairs built by hand. */
  function reference(xs: unknown[], key: (x: unknown) => unknown, n: number): unknown[] {
    const out: unknown[] = [];
    let state = 0x2545f491;
    xs.forEach((x, i) => {
      const k = key(x);
      if (out.length < n) out.push(k);
      else {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        const j = state % (i + 1);
        if (j < n) out[j] = k;
      }
    });
    return out;
  }

  it('samples the keys a pair per record would give, or fails with the key function\'s error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(record, { maxLength: 40 }), { maxLength: 4 }), fc.constantFrom('id', 'double', 'str', 'thrower'), fc.integer({ min: 1, max: 12 }), async (batches, f, n) => {
        const ops = [{ op: 'map', f: 'double' }, { op: 'keyBy', f }, { op: 'sampleKeys', n }] as unknown as OpDesc[];
        const got = await run(ops, batches, true);
        const xs = batches.flat().map((x) => fns.double!(x));
        let expected: { out: unknown[][] } | { error: string };
        try {
          expected = { out: [reference(xs, fns[f] as (x: unknown) => unknown, n)] };
        } catch (err) {
          expected = { error: `${(err as Error).constructor.name}: ${(err as Error).message}` };
        }
        expect(got).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
