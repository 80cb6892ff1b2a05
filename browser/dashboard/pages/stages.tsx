/** Every stage attempt of an application, grouped by status, newest first. */
import type { StageData } from '../../../host/ui/types.js';
import { api, useApi, useTicker } from '../api.js';
import { Card, ErrorBox, Loading, Progress, Status, Table, type Column } from '../components/ui.js';
import { bytes, count, duration, time } from '../format.js';

export function stageHref(appId: string, s: { stageId: number; attemptId: number }): string {
  return `/app/${encodeURIComponent(appId)}/stages/${s.stageId}/${s.attemptId}`;
}

export function stageColumns(appId: string, now: number): Column<StageData>[] {
  return [
    { key: 'id', title: 'Stage', numeric: true, sort: (s) => s.stageId * 1000 + s.attemptId, render: (s) => <a href={stageHref(appId, s)}>{s.attemptId > 0 ? `${s.stageId} (retry ${s.attemptId})` : s.stageId}</a> },
    { key: 'name', title: 'Description', sort: (s) => s.name, render: (s) => <a href={stageHref(appId, s)}>{s.name}</a> },
    { key: 'status', title: 'Status', sort: (s) => s.status, render: (s) => <Status status={s.status} /> },
    { key: 'submitted', title: 'Submitted', sort: (s) => s.submissionTime ?? 0, render: (s) => time(s.submissionTime) },
    {
      key: 'duration',
      title: 'Duration',
      numeric: true,
      sort: (s) => (s.submissionTime === null ? 0 : (s.completionTime ?? now) - s.submissionTime),
      render: (s) => (s.submissionTime === null ? '–' : duration((s.completionTime ?? now) - s.submissionTime)),
    },
    { key: 'tasks', title: 'Tasks', render: (s) => <Progress done={s.numCompletedIndices} running={s.numActiveTasks} failed={s.numFailedTasks} total={s.numTasks} /> },
    { key: 'records', title: 'Records in', numeric: true, sort: (s) => s.inputRecords + s.shuffleReadRecords, render: (s) => count(s.inputRecords + s.shuffleReadRecords) },
    { key: 'read', title: 'Shuffle read', numeric: true, sort: (s) => s.shuffleReadBytes, render: (s) => (s.shuffleReadBytes ? bytes(s.shuffleReadBytes) : '') },
    { key: 'write', title: 'Shuffle write', numeric: true, sort: (s) => s.shuffleWriteBytes, render: (s) => (s.shuffleWriteBytes ? bytes(s.shuffleWriteBytes) : '') },
  ];
}

const GROUPS: Array<{ status: string; title: string }> = [
  { status: 'ACTIVE', title: 'Active stages' },
  { status: 'PENDING', title: 'Pending stages' },
  { status: 'FAILED', title: 'Failed stages' },
  { status: 'COMPLETE', title: 'Completed stages' },
  { status: 'SKIPPED', title: 'Skipped stages' },
];

export function StageGroups(props: { appId: string; stages: StageData[]; now: number }) {
  const columns = stageColumns(props.appId, props.now);
  return (
    <>
      {GROUPS.map((g) => {
        const rows = props.stages.filter((s) => s.status === g.status);
        if (rows.length === 0 && g.status !== 'ACTIVE') return null;
        const cols = g.status === 'FAILED' ? [...columns, { key: 'reason', title: 'Failure reason', render: (s: StageData) => <span class="error-text">{s.failureReason}</span> }] : columns;
        return (
          <Card key={g.status} title={`${g.title} (${rows.length})`} id={`stages-${g.status.toLowerCase()}`}>
            <Table columns={cols} rows={rows} rowKey={(s) => `${s.stageId}.${s.attemptId}`} initialSort="id" initialDesc empty="No stage is running." />
          </Card>
        );
      })}
    </>
  );
}

export function StagesPage(props: { appId: string }) {
  const stages = useApi<StageData[]>(api(props.appId, '/stages'), { appId: props.appId });
  const running = !!stages.data?.some((s) => s.status === 'ACTIVE');
  const now = useTicker(running);
  if (stages.error) return <ErrorBox error={stages.error} />;
  if (!stages.data) return <Loading />;
  return (
    <div class="page">
      <StageGroups appId={props.appId} stages={stages.data} now={now} />
    </div>
  );
}
