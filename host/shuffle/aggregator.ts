/**
 * Spark's Aggregator at run time: how values of one key become a combiner and how combiners merge.
 * Built-in aggregators are the seam where the WebAssembly hash aggregation takes over; here they are
 * plain functions with exactly the semantics of the equivalent lambdas (`(a, b) => a + b`,
 * `Math.min`, `Math.max`), so both paths give the same answer.
 */
import type { ClosureSpec } from '../codec/closure-spec.js';
import type { AggregatorDesc } from '../plan/plan.js';

export interface Aggregator {
  createCombiner(value: unknown): unknown;
  mergeValue(combiner: unknown, value: unknown): unknown;
  mergeCombiners(a: unknown, b: unknown): unknown;
}

function numeric(name: string, v: unknown): number {
  if (typeof v !== 'number') {
    throw new TypeError(
      `built-in aggregator '${name}' needs number values, got ${v === null ? 'null' : typeof v} (${String(v).slice(0, 40)}); ` +
        `pass a function such as (a, b) => a + b for other types`,
    );
  }
  return v;
}

const builtins: Record<'sum' | 'min' | 'max' | 'count', Aggregator> = {
  sum: {
    createCombiner: (v) => numeric('sum', v),
    mergeValue: (c, v) => (c as number) + numeric('sum', v),
    mergeCombiners: (a, b) => (a as number) + (b as number),
  },
  min: {
    createCombiner: (v) => numeric('min', v),
    mergeValue: (c, v) => Math.min(c as number, numeric('min', v)),
    mergeCombiners: (a, b) => Math.min(a as number, b as number),
  },
  max: {
    createCombiner: (v) => numeric('max', v),
    mergeValue: (c, v) => Math.max(c as number, numeric('max', v)),
    mergeCombiners: (a, b) => Math.max(a as number, b as number),
  },
  count: {
    createCombiner: () => 1,
    mergeValue: (c) => (c as number) + 1,
    mergeCombiners: (a, b) => (a as number) + (b as number),
  },
};

const group: Aggregator = {
  createCombiner: (v) => [v],
  mergeValue: (c, v) => {
    (c as unknown[]).push(v);
    return c;
  },
  mergeCombiners: (a, b) => {
    for (const v of b as unknown[]) (a as unknown[]).push(v);
    return a;
  },
};

export function aggregatorOf(desc: AggregatorDesc, instantiate: (spec: ClosureSpec) => Function): Aggregator {
  switch (desc.kind) {
    case 'builtin':
      return builtins[desc.name];
    case 'group':
      return group;
    case 'closures': {
      const createCombiner = instantiate(desc.createCombiner) as (v: unknown) => unknown;
      const mergeValue = instantiate(desc.mergeValue) as (c: unknown, v: unknown) => unknown;
      const mergeCombiners = instantiate(desc.mergeCombiners) as (a: unknown, b: unknown) => unknown;
      return { createCombiner, mergeValue, mergeCombiners };
    }
  }
}

export function expectPair(record: unknown, where: string): [unknown, unknown] {
  if (!Array.isArray(record) || record.length !== 2) {
    let shown: string;
    try {
      shown = JSON.stringify(record)?.slice(0, 80) ?? String(record);
    } catch {
      shown = String(record);
    }
    throw new TypeError(`${where} expects [key, value] pairs, got ${shown}`);
  }
  return record as [unknown, unknown];
}
