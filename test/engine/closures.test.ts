import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flint, FlintError } from 'flint';

// Names closures receive through env.
declare const min: number;
declare const b: { value: Map<number, string> };

let fl: Flint;
beforeAll(async () => {
  fl = await Flint.start({ master: 'local[2]' });
});
afterAll(async () => {
  await fl.stop();
});

describe('closures', () => {
  it('rejects a free variable when the transformation is created, naming it and showing the env fix', () => {
    const min = 3;
    const words = fl.parallelize(['a', 'bbb', 'cccc']);
    let error: unknown;
    try {
      words.filter((w) => w.length >= min);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FlintError);
    expect((error as FlintError).code).toBe('CLOSURE_FREE_VARIABLE');
    expect((error as FlintError).message).toContain('"min"');
    expect((error as FlintError).message).toContain('env: { min }');
  });

  it('makes env values visible inside the closure', async () => {
    const out = await fl
      .parallelize(['a', 'bbb', 'cccc', 'dd'], 2)
      .filter((w) => w.length >= min, { env: { min: 3 } })
      .collect();
    expect(out).toEqual(['bbb', 'cccc']);
  });

  it('ships a broadcast to each executor once, however many tasks and jobs use it', async () => {
    const sent: string[] = [];
    const off = fl.events.on('broadcastSent', (e) => sent.push(e.executorId));
    const table = fl.broadcast(new Map([[1, 'one'], [2, 'two'], [3, 'three']]));
    const rdd = fl.parallelize([1, 2, 3, 1, 2, 3, 1, 2], 8).map((x) => b.value.get(x), { env: { b: table } });
    expect(await rdd.collect()).toEqual(['one', 'two', 'three', 'one', 'two', 'three', 'one', 'two']);
    expect(await rdd.count()).toBe(8);
    off();
    expect(sent.length).toBe(fl.executorIds().length);
    expect(new Set(sent).size).toBe(sent.length);
  });

  it('fails the job with the user message and stack after 4 attempts, and the context stays usable', async () => {
    const attempts: number[] = [];
    const off = fl.events.on('taskEnd', (e) => {
      if (e.status === 'failed') attempts.push(e.attempt);
    });
    const rdd = fl.parallelize([1, 2, 3, 4, 5, 6], 3).map((x) => {
      if (x === 5) throw new RangeError(`boom at ${x}`);
      return x;
    });
    const err = (await rdd.collect().catch((e: unknown) => e)) as FlintError & { cause?: Error };
    off();
    expect(err).toBeInstanceOf(FlintError);
    expect(err.code).toBe('JOB_ABORTED');
    expect(err.message).toContain('boom at 5');
    expect(err.cause).toBeInstanceOf(Error);
    expect(err.cause!.name).toBe('RangeError');
    expect(err.cause!.message).toBe('boom at 5');
    // The user's own frame: the closure is compiled with a readable source name.
    expect(err.cause!.stack).toMatch(/flint-closure-map/);
    expect(attempts.sort()).toEqual([0, 1, 2, 3]);
    expect(await fl.parallelize([1, 2, 3], 3).map((x) => x * 2).collect()).toEqual([2, 4, 6]);
  });
});
