/**
 * The coordinator's front page: the cluster's capacity and who uses it. Workers (machines and
 * browser tabs), every executor slot with the application it is lent to, and the applications,
 * each opening its full application UI (built from the events its driver shares).
 */
import type { ApplicationInfo, ExecutorSummary, UiInfo, WorkerSummary } from '../../../host/ui/types.js';
import { useApi, useTicker } from '../api.js';
import { Card, ErrorBox, Kind, Loading, Stat, Table, type Column } from '../components/ui.js';
import { count, duration, time } from '../format.js';
import { applicationColumns } from './applications.js';
import { executorColumns } from './executors.js';

export function ClusterPage(props: { info: UiInfo }) {
  const workers = useApi<WorkerSummary[]>('/api/v1/workers', { cluster: true, applications: true });
  const executors = useApi<ExecutorSummary[]>('/api/v1/executors', { cluster: true, applications: true });
  const apps = useApi<ApplicationInfo[]>('/api/v1/applications', { applications: true, cluster: true });
  const now = useTicker(true);
  if (workers.error) return <ErrorBox error={workers.error} />;
  if (!workers.data || !executors.data || !apps.data) return <Loading />;
  const w = workers.data;
  const cores = w.reduce((n, x) => n + x.cores, 0);
  const used = executors.data.filter((e) => e.appId).length;
  const running = apps.data.filter((a) => !a.attempts[0]!.completed);
  const workerColumns: Column<WorkerSummary>[] = [
    { key: 'id', title: 'Worker', sort: (x) => x.id, render: (x) => <span class="mono">{x.id}</span> },
    { key: 'kind', title: 'Kind', sort: (x) => x.kind, render: (x) => <Kind kind={x.kind} /> },
    { key: 'host', title: 'Host', sort: (x) => x.host, render: (x) => x.host },
    { key: 'cores', title: 'Slots used', numeric: true, sort: (x) => x.coresUsed, render: (x) => `${x.coresUsed}/${x.cores}` },
    { key: 'memory', title: 'Memory', numeric: true, sort: (x) => x.memoryMb, render: (x) => `${count(x.memoryMb)} MB` },
    { key: 'caps', title: 'Capabilities', render: (x) => <span class="muted">{x.capabilities.join(', ')}</span> },
    {
      key: 'verified',
      title: 'Verified in a row',
      numeric: true,
      sort: (x) => x.verifiedTasks,
      render: (x) => (x.capabilities.includes('trusted') ? <span class="muted">trusted</span> : count(x.verifiedTasks)),
    },
    { key: 'since', title: 'Joined', sort: (x) => x.connectedAt, render: (x) => `${time(x.connectedAt)} (${duration(now - x.connectedAt)})` },
    { key: 'state', title: 'State', render: (x) => (x.decommissioning ? <span class="status status-pending">decommissioning</span> : <span class="status status-ok">active</span>) },
  ];
  return (
    <div class="page">
      <div class="stats">
        <Stat label="Workers" field="workers" value={count(w.length)} sub={`${w.filter((x) => x.kind === 'node').length} node · ${w.filter((x) => x.kind === 'browser').length} browser`} />
        <Stat label="Executor slots" field="slots" value={`${used}/${cores}`} sub="lent / total" />
        <Stat label="Running tasks" value={count(executors.data.reduce((n, e) => n + e.activeTasks, 0))} />
        <Stat label="Applications" field="apps" value={count(running.length)} sub={`running · ${apps.data.length - running.length} finished`} />
      </div>
      <Card title={`Applications (${apps.data.length})`}>
        <Table columns={applicationColumns(now, 'cluster')} rows={apps.data} rowKey={(a) => a.id} initialSort="started" initialDesc id="cluster-apps" empty="No application has registered yet." />
      </Card>
      <Card title={`Workers (${w.length})`}>
        <Table columns={workerColumns} rows={w} rowKey={(x) => x.id} initialSort="id" id="cluster-workers" empty="No worker has joined. Start one with: npx flint worker <flint://…> --token <token>" />
      </Card>
      <Card title={`Executor slots (${executors.data.length})`}>
        <Table columns={executorColumns(true)} rows={executors.data} rowKey={(e) => e.id} initialSort="id" id="cluster-executors" empty="No executor slot yet." />
      </Card>
    </div>
  );
}
