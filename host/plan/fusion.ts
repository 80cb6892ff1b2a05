/**
 * Scan fusion, Flint's small share of Tungsten's whole-stage code generation: narrow operators that
 * the WebAssembly byte scanner can do on a text split's raw bytes are folded into one `textScan`
 * node, so that no JavaScript string is made per line or per word:
 *
 *   textFile → flatMap(words) [→ map(pairWith(v))]  ⇒  textScan { words, pair }
 *   textFile → count()                               ⇒  textScan { count: 'lines' }
 *   textFile → flatMap(words) → countByValue()       ⇒  textScan { words, count: 'words' }
 *
 * Only built-in functions (builtins.ts) are recognised: a lambda that happens to split on spaces is
 * opaque source text and takes the general path, which gives the same answer.
 */
import type { ClosureSpec } from '../codec/closure-spec.js';
import type { OpDesc, PlanNode } from './plan.js';

function isBuiltin(spec: ClosureSpec, name: string): boolean {
  return spec.builtin?.name === name;
}

export function fuseScans(node: PlanNode): PlanNode {
  if (node.kind !== 'pipe') return node;
  const parent = node.parent;
  let scan: Extract<PlanNode, { kind: 'textScan' }>;
  if (parent.kind === 'textFile') scan = { kind: 'textScan', rddId: parent.rddId, splits: parent.splits, words: false };
  else if (parent.kind === 'textScan' && parent.words && !parent.pair && !parent.count) scan = { ...parent };
  else return node;
  let ops: OpDesc[] = node.ops;
  const take = () => (ops = ops.slice(1));
  if (!scan.words) {
    const first = ops[0];
    if (first?.op === 'count') {
      scan.count = 'lines';
      take();
    } else if (first?.op === 'flatMap' && isBuiltin(first.f, 'words')) {
      scan.words = true;
      take();
    } else {
      return node;
    }
  }
  if (scan.words) {
    const next = ops[0];
    if (next?.op === 'map' && isBuiltin(next.f, 'pairWith')) {
      scan.pair = { value: next.f.builtin!.args[0] };
      take();
    } else if (next?.op === 'countByValue') {
      scan.count = 'words';
      take();
    }
  }
  if (ops.length === node.ops.length) return node;
  return ops.length === 0 ? scan : { kind: 'pipe', rddId: node.rddId, parent: scan, ops };
}
