/** The applications a history server or a coordinator knows, newest first. */
import type { ApplicationInfo, UiInfo } from '../../../host/ui/types.js';
import { useApi, useTicker } from '../api.js';
import { Card, ErrorBox, Loading, Status, Table, type Column } from '../components/ui.js';
import { duration, time } from '../format.js';

export function applicationColumns(now: number, mode: UiInfo['mode']): Column<ApplicationInfo>[] {
  return [
    { key: 'id', title: 'Application', sort: (a) => a.id, render: (a) => <a href={`/app/${encodeURIComponent(a.id)}/jobs`} class="mono">{a.id}</a> },
    { key: 'name', title: 'Name', sort: (a) => a.name, render: (a) => <a href={`/app/${encodeURIComponent(a.id)}/jobs`}>{a.name}</a> },
    {
      key: 'state',
      title: 'State',
      sort: (a) => (a.attempts[0]!.completed ? 1 : 0),
      render: (a) => <Status status={a.attempts[0]!.completed ? 'COMPLETE' : mode === 'history' ? 'UNKNOWN' : 'RUNNING'} />,
    },
    { key: 'started', title: 'Started', sort: (a) => a.attempts[0]!.startTime, render: (a) => time(a.attempts[0]!.startTime) },
    {
      key: 'duration',
      title: 'Duration',
      numeric: true,
      sort: (a) => a.attempts[0]!.duration,
      render: (a) => duration(a.attempts[0]!.completed || mode === 'history' ? a.attempts[0]!.duration : now - a.attempts[0]!.startTime),
    },
    { key: 'user', title: 'User', sort: (a) => a.attempts[0]!.sparkUser, render: (a) => a.attempts[0]!.sparkUser },
  ];
}

export function ApplicationsPage(props: { info: UiInfo }) {
  const apps = useApi<ApplicationInfo[]>('/api/v1/applications', { applications: true });
  const now = useTicker(props.info.mode !== 'history');
  if (apps.error) return <ErrorBox error={apps.error} />;
  if (!apps.data) return <Loading />;
  const incomplete = apps.data.filter((a) => !a.attempts[0]!.completed);
  const complete = apps.data.filter((a) => a.attempts[0]!.completed);
  const cols = applicationColumns(now, props.info.mode);
  return (
    <div class="page">
      <Card title={`${props.info.mode === 'history' ? 'Incomplete' : 'Running'} applications (${incomplete.length})`}>
        <Table columns={cols} rows={incomplete} rowKey={(a) => a.id} initialSort="started" initialDesc id="apps-running" empty={props.info.mode === 'history' ? 'Every log ends with its application.' : 'No application is running.'} />
      </Card>
      <Card title={`Completed applications (${complete.length})`}>
        <Table columns={cols} rows={complete} rowKey={(a) => a.id} initialSort="started" initialDesc id="apps-completed" empty="No application has finished yet." />
      </Card>
    </div>
  );
}
