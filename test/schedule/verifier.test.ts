import { describe, expect, it } from 'vitest';
import type { TaskSuccess } from '../../host/plan/plan.js';
import { MAX_REPLICAS, TRUSTED_AFTER, Verifier } from '../../host/schedule/verifier.js';

const out = (digest: string): TaskSuccess => ({
  taskId: 0,
  ok: true,
  result: null,
  mapSizes: [1],
  blocksAdded: [],
  digest,
  metrics: { durationMs: 1, recordsRead: 0, recordsWritten: 0, shuffleReadBytes: 0, shuffleWriteBytes: 0, resultBytes: 0, operators: [] },
});

describe('Verifier', () => {
  it('needs a plurality of at least two', () => {
    const v = new Verifier('untrusted');
    expect(v.onSuccess('s', 0, 'a', false, 0, out('x')).kind).toBe('replicate');
    expect(v.onSuccess('s', 0, 'b', false, 1, out('y')).kind).toBe('replicate');
    const third = v.onSuccess('s', 0, 'c', false, 2, out('x'));
    expect(third).toMatchObject({ kind: 'accept', executorId: 'a', convicted: ['b'] });
  });

  it('settles two honest copies against lies that differ from each other', () => {
    const v = new Verifier('untrusted');
    // Two liars first, each with its own lie, then the honest: 2 of 4 is no majority but wins.
    expect(v.onSuccess('s', 0, 'l1', false, 0, out('lie1')).kind).toBe('replicate');
    expect(v.onSuccess('s', 0, 'h1', false, 1, out('x')).kind).toBe('replicate');
    expect(v.onSuccess('s', 0, 'l2', false, 2, out('lie2')).kind).toBe('replicate');
    expect(v.onSuccess('s', 0, 'h2', false, 3, out('x'))).toMatchObject({ kind: 'accept', executorId: 'h1', agreed: ['h1', 'h2'], convicted: ['l1', 'l2'] });
  });

  it("in 'all' mode even trusted executors need a second opinion; in 'none' nobody does", () => {
    const all = new Verifier('all');
    expect(all.onSuccess('s', 0, 't', true, 0, out('x')).kind).toBe('replicate');
    expect(all.onSuccess('s', 0, 'u', true, 1, out('x')).kind).toBe('accept');
    expect(new Verifier('none').onSuccess('s', 0, 'u', false, 0, out('x')).kind).toBe('accept');
  });

  it('spot-checks the outputs of an executor that kept agreeing, less and less often', () => {
    let draw = 0.5;
    const v = new Verifier('untrusted', () => draw);
    // Earn a record of TRUSTED_AFTER verified tasks.
    for (let p = 0; p < TRUSTED_AFTER; p++) {
      v.onSuccess('s', p, 'a', false, 0, out(`d${p}`));
      expect(v.onSuccess('s', p, 'b', false, 1, out(`d${p}`)).kind).toBe('accept');
    }
    // At a record of 10, BOINC's rule checks with probability 1/10: a draw of 0.5 skips it, 0.05 checks it.
    expect(v.onSuccess('s', 100, 'a', false, 0, out('z')).kind).toBe('accept');
    draw = 0.05;
    expect(v.onSuccess('s', 101, 'a', false, 0, out('z')).kind).toBe('replicate');
    v.onSuccess('s', 101, 'b', false, 1, out('z'));
    for (let p = 200; p < 240; p++) {
      v.onSuccess('s', p, 'a', false, 0, out(`e${p}`));
      v.onSuccess('s', p, 'b', false, 1, out(`e${p}`));
    }
    // Record 51: 1/51 is below the floor, so checked with probability 5%: 0.1 skips it, 0.04 checks it.
    draw = 0.1;
    expect(v.onSuccess('s', 300, 'a', false, 0, out('q')).kind).toBe('accept');
    draw = 0.04;
    expect(v.onSuccess('s', 301, 'a', false, 0, out('q')).kind).toBe('replicate');
    draw = 0.99;
    expect(v.onSuccess('s', 302, 'a', false, 0, out('r')).kind).toBe('accept');
    // A trusted executor's output counts alone whatever the record.
    expect(v.onSuccess('s', 303, 'trusted', true, 0, out('t')).kind).toBe('accept');
  });

  it('starts the record of an executor at the reputation its worker earned for earlier applications', () => {
    const v = new Verifier('untrusted', () => 0.5);
    v.credit('known', TRUSTED_AFTER);
    v.credit('new', TRUSTED_AFTER - 1);
    // At a record of 10 a draw of 0.5 skips the check; at 9 every map output is still checked.
    expect(v.onSuccess('s', 0, 'known', false, 0, out('x')).kind).toBe('accept');
    expect(v.onSuccess('s', 1, 'new', false, 0, out('y')).kind).toBe('replicate');
    // A carried record counts no further than the first vetting: a draw of 0.05 is under 1/10.
    const capped = new Verifier('untrusted', () => 0.05);
    capped.credit('boasting', 1_000_000);
    expect(capped.onSuccess('s', 0, 'boasting', false, 0, out('x')).kind).toBe('replicate');
    // A credit never lowers a record built here.
    for (let p = 10; p < 40; p++) {
      v.onSuccess('s', p, 'new', false, 0, out(`d${p}`));
      v.onSuccess('s', p, 'other', false, 1, out(`d${p}`));
    }
    v.credit('new', 1);
    expect(v.onSuccess('s', 50, 'new', false, 0, out('w')).kind).toBe('accept');
  });

  it(`gives up after ${MAX_REPLICAS} copies that do not agree`, () => {
    const v = new Verifier('untrusted');
    let last;
    for (let i = 0; i < MAX_REPLICAS; i++) last = v.onSuccess('s', 0, `e${i}`, false, i, out(`d${i}`));
    expect(last!.kind).toBe('fail');
  });
});

describe('Verifier and executors that left', () => {
  it('of copies that agree, accepts one whose executor is still there: a map output counts only where it can be fetched', () => {
    const v = new Verifier('untrusted');
    const gone = new Set(['a']);
    expect(v.onSuccess('s', 0, 'a', false, 0, out('x')).kind).toBe('replicate');
    // a left before b's copy came back: both agree, and b's output is the one that still exists.
    expect(v.onSuccess('s', 0, 'b', false, 1, out('x'), (id) => !gone.has(id))).toMatchObject({ kind: 'accept', executorId: 'b', attempt: 1, agreed: ['a', 'b'] });
    // With both there, the first copy counts, as before.
    expect(v.onSuccess('s', 1, 'a', false, 0, out('y')).kind).toBe('replicate');
    expect(v.onSuccess('s', 1, 'b', false, 1, out('y'), () => true)).toMatchObject({ kind: 'accept', executorId: 'a' });
  });
});
