/**
 * Chaos lies must be independent: two liars agreeing outvote an honest copy, so each lie has to be
 * its own even where a partition holds a single record.
 */
import { describe, expect, it } from 'vitest';
import { lieInStream } from '../../host/exec/chaos.js';

async function* batches<T>(...bs: T[][]): AsyncGenerator<T[]> {
  for (const b of bs) yield b;
}

async function lie<T>(bs: T[][]): Promise<T[]> {
  const out: T[] = [];
  for await (const b of lieInStream(batches(...bs))) out.push(...b);
  return out;
}

describe('lieInStream', () => {
  it.each([
    ['a number', [[42]]],
    ['a string', [['word']]],
    ['a pair of string and number', [[['word', 3]]]],
    ['a pair whose value is a list', [[[1, [2, 3]]]]],
    ['a bigint', [[10n]]],
  ])('changes a partition of one record (%s) differently for each liar', async (_name, bs) => {
    const truth = bs.flat();
    const lies = await Promise.all(Array.from({ length: 5 }, () => lie(bs as unknown[][])));
    for (const l of lies) expect(l).not.toEqual(truth);
    expect(new Set(lies.map((l) => JSON.stringify(l, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)))).size).toBe(5);
  });

  it('keeps a pair\'s key, so the record stays in its shuffle partition', async () => {
    const out = await lie([[['k', 1]], [['j', 2]]]);
    expect(out.map((r) => r[0])).toEqual(['k', 'j']);
    expect(out[1]).toEqual(['j', 2]);
  });

  it('leaves a record of another kind out, and tells the truth about an empty partition', async () => {
    expect(await lie([[{ a: 1 }, { b: 2 }]])).toHaveLength(1);
    expect(await lie([[], []])).toEqual([]);
  });
});
