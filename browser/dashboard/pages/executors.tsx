/** An application's executors: what kind, where, how busy, how reliable, and those that left. */
import type { ExecutorSummary } from '../../../host/ui/types.js';
import { api, useApi } from '../api.js';
import { Card, ErrorBox, Kind, Loading, Stat, Table, type Column } from '../components/ui.js';
import { bytes, count, duration, time } from '../format.js';

function state(e: ExecutorSummary) {
  if (!e.isActive) return <span class="status status-muted">gone</span>;
  if (e.isExcluded) return <span class="status status-bad">excluded</span>;
  if (e.isDraining) return <span class="status status-pending">draining</span>;
  return <span class="status status-ok">active</span>;
}

function verification(e: ExecutorSummary) {
  if (e.capabilities.includes('trusted') && e.resultsVerified === 0 && e.resultsDisputed === 0) return <span class="muted">trusted</span>;
  return (
    <span class="num">
      {count(e.resultsVerified)} ✓{e.resultsDisputed > 0 && <span class="bad-text"> · {count(e.resultsDisputed)} ✗</span>}
    </span>
  );
}

/** A leaving executor's shuffle outputs, under the reason it left: handed on, or lost. */
function handedOn(e: ExecutorSummary) {
  const h = e.shuffleOutputsHandedOn;
  if (!h || (h.outputs === 0 && h.lost === 0)) return null;
  return (
    <div data-field="handed-on">
      {h.outputs > 0 && (
        <span>
          {count(h.outputs)} shuffle output{h.outputs === 1 ? '' : 's'} ({bytes(h.bytes)}) handed on to <span class="mono">{h.toExecutorId}</span>
        </span>
      )}
      {h.outputs > 0 && h.lost > 0 && ' · '}
      {h.lost > 0 && <span class="bad-text" title={h.reason}>{count(h.lost)} lost</span>}
    </div>
  );
}

export function executorColumns(withApp = false): Column<ExecutorSummary>[] {
  const cols: Column<ExecutorSummary>[] = [
    { key: 'id', title: 'Executor', sort: (e) => e.id, render: (e) => <span class="mono">{e.id}</span> },
    { key: 'kind', title: 'Kind', sort: (e) => e.kind, render: (e) => <Kind kind={e.kind} /> },
    { key: 'host', title: 'Host', sort: (e) => e.hostPort, render: (e) => e.hostPort },
    { key: 'state', title: 'State', sort: (e) => (e.isActive ? (e.isExcluded ? 1 : 0) : 2), render: state },
    { key: 'cores', title: 'Cores', numeric: true, sort: (e) => e.totalCores, render: (e) => e.totalCores },
    { key: 'active', title: 'Active', numeric: true, sort: (e) => e.activeTasks, render: (e) => count(e.activeTasks) },
    { key: 'completed', title: 'Completed', numeric: true, sort: (e) => e.completedTasks, render: (e) => count(e.completedTasks) },
    { key: 'failed', title: 'Failed', numeric: true, sort: (e) => e.failedTasks, render: (e) => (e.failedTasks ? <span class="bad-text">{count(e.failedTasks)}</span> : '0') },
    { key: 'time', title: 'Task time', numeric: true, sort: (e) => e.totalDuration, render: (e) => duration(e.totalDuration) },
    { key: 'read', title: 'Shuffle read', numeric: true, sort: (e) => e.totalShuffleRead, render: (e) => bytes(e.totalShuffleRead) },
    { key: 'write', title: 'Shuffle write', numeric: true, sort: (e) => e.totalShuffleWrite, render: (e) => bytes(e.totalShuffleWrite) },
    {
      key: 'memory',
      title: 'Cached',
      numeric: true,
      sort: (e) => e.memoryUsed,
      render: (e) => (
        <span>
          {bytes(e.memoryUsed)}
          {e.maxMemory > 0 && <span class="muted"> / {bytes(e.maxMemory)}</span>}
          {e.rddBlocks > 0 && <span class="muted"> · {e.rddBlocks} blocks</span>}
        </span>
      ),
    },
    { key: 'verified', title: 'Results verified', title_: 'Results of this executor confirmed by another executor (✓) or caught disagreeing (✗)', sort: (e) => e.resultsVerified - 10 * e.resultsDisputed, render: verification },
  ];
  if (withApp) cols.splice(3, 0, { key: 'app', title: 'Application', sort: (e) => e.appId ?? '', render: (e) => (e.appId ? <a href={`/app/${encodeURIComponent(e.appId)}/jobs`}>{e.appId}</a> : <span class="muted">idle</span>) });
  else cols.push({ key: 'added', title: 'Added', sort: (e) => e.addTime, render: (e) => time(e.addTime) });
  return cols;
}

export function ExecutorsPage(props: { appId: string }) {
  const executors = useApi<ExecutorSummary[]>(api(props.appId, '/allexecutors'), { appId: props.appId });
  if (executors.error) return <ErrorBox error={executors.error} />;
  if (!executors.data) return <Loading />;
  const all = executors.data;
  const active = all.filter((e) => e.isActive);
  const gone = all.filter((e) => !e.isActive);
  const byKind = (k: string) => active.filter((e) => e.kind === k).length;
  const kinds = ['driver', 'thread', 'node', 'browser'].filter((k) => byKind(k) > 0);
  return (
    <div class="page">
      <div class="stats">
        <Stat label="Active executors" field="active-executors" value={count(active.length)} sub={kinds.map((k) => `${byKind(k)} ${k}`).join(' · ') || 'none'} />
        <Stat label="Cores" value={count(active.reduce((n, e) => n + e.totalCores, 0))} sub={`${active.reduce((n, e) => n + e.activeTasks, 0)} tasks running`} />
        <Stat label="Tasks" value={count(all.reduce((n, e) => n + e.completedTasks, 0))} sub={`${all.reduce((n, e) => n + e.failedTasks, 0)} failed`} />
        <Stat label="Cached" value={bytes(all.reduce((n, e) => n + e.memoryUsed, 0))} sub={`${all.reduce((n, e) => n + e.rddBlocks, 0)} blocks`} />
        <Stat label="Gone" value={count(gone.length)} tone={gone.some((e) => e.isExcluded) ? 'bad' : undefined} sub={all.filter((e) => e.isExcluded).length ? `${all.filter((e) => e.isExcluded).length} excluded` : ''} />
      </div>
      <Card title={`Active executors (${active.length})`}>
        <Table columns={executorColumns()} rows={active} rowKey={(e) => e.id} initialSort="id" id="executors-active" empty="No executor is active." />
      </Card>
      {gone.length > 0 && (
        <Card title={`Removed executors (${gone.length})`}>
          <Table
            columns={[
              ...executorColumns(),
              { key: 'removed', title: 'Removed', render: (e) => time(e.removeTime) },
              {
                key: 'reason',
                title: 'Reason',
                title_: 'Why it left, and for one that left on purpose what it did with its shuffle outputs: handed on to another executor, or lost and recomputed',
                render: (e) => (
                  <span>
                    <span class="muted">{e.removeReason}</span>
                    {handedOn(e)}
                  </span>
                ),
              },
            ]}
            rows={gone}
            rowKey={(e) => e.id}
            initialSort="id"
            id="executors-removed"
          />
        </Card>
      )}
    </div>
  );
}
