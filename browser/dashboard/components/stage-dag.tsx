/**
 * A job's stage DAG, as Spark draws it: each stage a box holding the RDDs it pipelines (name, id,
 * the user's call site), edges along the lineage, shuffles where an edge crosses from one stage to
 * the next. Skipped stages are dashed and grey, cached RDDs carry a green mark; a stage links to
 * its page. Laid out by dagre (compound graph).
 */
import { Graph, layout } from '@dagrejs/dagre';
import type { JobGraph } from '../../../host/ui/types.js';
import { navigate } from '../api.js';

const NODE_W = 210;
const NODE_H = 44;
/** Room above a stage's RDDs for its title (dagre sizes clusters to their nodes only). */
const TITLE_H = 22;

interface Laid {
  width: number;
  height: number;
  stages: Array<{ id: string; stage: JobGraph['stages'][number]; x: number; y: number; w: number; h: number }>;
  nodes: Array<{ id: string; rdd: JobGraph['stages'][number]['rdds'][number]; x: number; y: number }>;
  edges: Array<{ points: Array<{ x: number; y: number }>; shuffle: boolean }>;
}

function lay(graph: JobGraph): Laid {
  const g = new Graph({ compound: true, multigraph: false });
  g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 44, marginx: 12, marginy: 12 + TITLE_H });
  g.setDefaultEdgeLabel(() => ({}));
  const rddStage = new Map<number, number>();
  for (const s of graph.stages) {
    const sid = `s${s.stageId}`;
    g.setNode(sid, { label: sid, paddingTop: 28, paddingLeft: 12, paddingRight: 12, paddingBottom: 12 } as never);
    for (const r of s.rdds) {
      const nid = `r${s.stageId}_${r.id}`;
      g.setNode(nid, { width: NODE_W, height: NODE_H });
      g.setParent(nid, sid);
      rddStage.set(r.id, s.stageId);
    }
  }
  const shuffles = new Set<string>();
  for (const s of graph.stages) {
    const inStage = new Set(s.rdds.map((r) => r.id));
    for (const r of s.rdds) {
      for (const p of r.parentIds) {
        if (inStage.has(p)) g.setEdge(`r${s.stageId}_${p}`, `r${s.stageId}_${r.id}`);
        else {
          // A shuffle read: the parent RDD is the map side, in one of this stage's parent stages.
          const from = s.parentIds.map((ps) => graph.stages.find((x) => x.stageId === ps)).find((ps) => ps?.rdds.some((x) => x.id === p));
          if (from) {
            const key = `r${from.stageId}_${p}`;
            g.setEdge(key, `r${s.stageId}_${r.id}`);
            shuffles.add(`${key}->r${s.stageId}_${r.id}`);
          }
        }
      }
    }
  }
  layout(g);
  const out: Laid = { width: g.graph().width ?? 0, height: g.graph().height ?? 0, stages: [], nodes: [], edges: [] };
  for (const s of graph.stages) {
    const n = g.node(`s${s.stageId}`) as unknown as { x: number; y: number; width: number; height: number } | undefined;
    if (n && s.rdds.length > 0) out.stages.push({ id: `s${s.stageId}`, stage: s, x: n.x - n.width / 2, y: n.y - n.height / 2 - TITLE_H, w: n.width, h: n.height + TITLE_H });
    for (const r of s.rdds) {
      const m = g.node(`r${s.stageId}_${r.id}`) as unknown as { x: number; y: number };
      out.nodes.push({ id: `r${s.stageId}_${r.id}`, rdd: r, x: m.x, y: m.y });
    }
  }
  for (const e of g.edges()) {
    const edge = g.edge(e) as unknown as { points: Array<{ x: number; y: number }> };
    out.edges.push({ points: edge.points, shuffle: shuffles.has(`${e.v}->${e.w}`) });
  }
  return out;
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function StageDag(props: { graph: JobGraph; appId: string }) {
  const l = lay(props.graph);
  if (l.nodes.length === 0) return <div class="empty">No lineage recorded for this job.</div>;
  return (
    <div class="dag-wrap">
      <svg width={l.width} height={l.height} class="dag" role="img" aria-label="Stage DAG">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" class="dag-arrow" />
          </marker>
        </defs>
        {l.stages.map((s) => (
          <g
            key={s.id}
            class={`dag-stage dag-${s.stage.status.toLowerCase()}`}
            data-stage={s.stage.stageId}
            data-status={s.stage.status}
            onClick={() => navigate(`/app/${encodeURIComponent(props.appId)}/stages/${s.stage.stageId}/${s.stage.attemptId}`)}
          >
            <rect x={s.x} y={s.y} width={s.w} height={s.h} rx={8} />
            <text x={s.x + 10} y={s.y + 18} class="dag-stage-title">
              {`Stage ${s.stage.stageId}`}
              <tspan class="dag-stage-status">{`  ${s.stage.status.toLowerCase()} · ${s.stage.numTasks} tasks`}</tspan>
            </text>
            <title>{`${s.stage.name}\n${s.stage.kind === 'result' ? 'result stage' : 'shuffle map stage'}, ${s.stage.status.toLowerCase()}`}</title>
          </g>
        ))}
        {l.edges.map((e, i) => (
          <polyline key={i} points={e.points.map((p) => `${p.x},${p.y}`).join(' ')} class={e.shuffle ? 'dag-edge dag-shuffle' : 'dag-edge'} marker-end="url(#arrow)" />
        ))}
        {l.nodes.map((n) => (
          <g key={n.id} class={`dag-rdd ${n.rdd.cached ? 'dag-cached' : ''}`} data-rdd={n.rdd.id}>
            <rect x={n.x - NODE_W / 2} y={n.y - NODE_H / 2} width={NODE_W} height={NODE_H} rx={6} />
            <text x={n.x - NODE_W / 2 + 10} y={n.y - 4} class="dag-rdd-name">
              {clip(`${n.rdd.name} [${n.rdd.id}]`, 30)}
            </text>
            <text x={n.x - NODE_W / 2 + 10} y={n.y + 13} class="dag-rdd-site">
              {clip(n.rdd.callSite, 34)}
            </text>
            {n.rdd.cached && (
              <g>
                <circle cx={n.x + NODE_W / 2 - 12} cy={n.y - NODE_H / 2 + 12} r={5} class="dag-cache-dot" />
              </g>
            )}
            <title>{`${n.rdd.name} [${n.rdd.id}] at ${n.rdd.callSite}\n${n.rdd.numPartitions} partitions${n.rdd.cached ? `\ncached: ${n.rdd.numCachedPartitions} of ${n.rdd.numPartitions} partitions in memory` : ''}`}</title>
          </g>
        ))}
      </svg>
      <div class="legend">
        <span class="lg lg-complete">succeeded</span>
        <span class="lg lg-active">running</span>
        <span class="lg lg-pending">pending</span>
        <span class="lg lg-skipped">skipped (output already there)</span>
        <span class="lg lg-failed">failed</span>
        <span class="lg lg-cached">cached RDD</span>
        <span class="lg lg-shuffle">shuffle</span>
      </div>
    </div>
  );
}
