/**
 * One stage attempt, laid out for finding out why it is slow: where the time went, how uneven the
 * tasks are (quantiles, with skew called out), what each executor did, the task timeline, and the
 * tasks themselves, slowest first.
 */
import { useState } from 'preact/hooks';
import { PHASES, type Phase, type StageData, type TaskData, type TaskMetricDistributions } from '../../../host/ui/types.js';
import { api, useApi, useTicker } from '../api.js';
import { PHASE_COLORS, PHASE_LABELS, TaskTimeline } from '../components/task-timeline.js';
import { Card, ErrorBox, Loading, Progress, Stat, Status, Table, type Column } from '../components/ui.js';
import { bytes, count, duration, time } from '../format.js';

const QUANTILES = [0, 0.25, 0.5, 0.75, 1];
const PAGE = 50;

function TimeBreakdown(props: { stage: StageData }) {
  const s = props.stage;
  const write = s.shuffleWriteTime / 1e6;
  const totals: Record<Phase, number> = {
    schedulerDelay: s.schedulerDelay,
    fetchWait: s.shuffleFetchWaitTime,
    compute: Math.max(0, s.executorRunTime - s.shuffleFetchWaitTime - write - s.resultSerializationTime),
    shuffleWrite: write,
    resultSend: s.resultSerializationTime,
  };
  const sum = PHASES.reduce((n, p) => n + totals[p], 0);
  if (sum <= 0) return <div class="muted">No finished task yet.</div>;
  return (
    <div class="breakdown">
      <div class="breakdown-bar">
        {PHASES.map((p) => (totals[p] > 0 ? <div key={p} style={{ width: `${(100 * totals[p]) / sum}%`, background: PHASE_COLORS[p] }} title={`${PHASE_LABELS[p]}: ${duration(totals[p])}`} /> : null))}
      </div>
      <div class="breakdown-legend">
        {PHASES.map((p) => (
          <span key={p} data-phase={p}>
            <i style={{ background: PHASE_COLORS[p] }} />
            {PHASE_LABELS[p]} <b class="num">{Math.round((100 * totals[p]) / sum)}%</b> <span class="muted num">{duration(totals[p])}</span>
          </span>
        ))}
      </div>
    </div>
  );
}

interface MetricRow {
  key: string;
  label: string;
  values: number[];
  fmt: (n: number) => string;
  extra?: number[];
  extraFmt?: (n: number) => string;
}

function Quantiles(props: { summary: TaskMetricDistributions }) {
  const s = props.summary;
  const rows: MetricRow[] = [
    { key: 'duration', label: 'Duration', values: s.duration, fmt: duration },
    { key: 'schedulerDelay', label: 'Scheduler delay', values: s.schedulerDelay, fmt: duration },
    { key: 'fetchWait', label: 'Shuffle fetch wait', values: s.shuffleReadMetrics.fetchWaitTime, fmt: duration },
    { key: 'recordsIn', label: 'Records in', values: s.inputMetrics.recordsRead.map((v, i) => v + s.shuffleReadMetrics.readRecords[i]!), fmt: count },
    { key: 'recordsOut', label: 'Records out', values: s.outputMetrics.recordsWritten.map((v, i) => v + s.shuffleWriteMetrics.writeRecords[i]!), fmt: count },
    { key: 'shuffleRead', label: 'Shuffle read', values: s.shuffleReadMetrics.readBytes, fmt: bytes, extra: s.shuffleReadMetrics.readRecords, extraFmt: (n) => `${count(n)} rec` },
    { key: 'shuffleWrite', label: 'Shuffle write', values: s.shuffleWriteMetrics.writeBytes, fmt: bytes, extra: s.shuffleWriteMetrics.writeRecords, extraFmt: (n) => `${count(n)} rec` },
  ];
  const med = s.duration[2]!;
  const max = s.duration[4]!;
  const skewed = s.count >= 4 && max >= 2 * med && max - med >= 50;
  return (
    <>
      {skewed && (
        <div class="hint hint-warn" data-field="skew">
          Skew: the slowest task took {(max / Math.max(med, 0.01)).toFixed(1)}× the median ({duration(max)} against {duration(med)}). Look at its records and shuffle read below, and at the executor it ran on.
        </div>
      )}
      <div class="table-wrap">
        <table class="table quantiles" id="task-quantiles">
          <thead>
            <tr>
              <th>Metric ({count(s.count)} succeeded tasks)</th>
              <th class="numeric">Min</th>
              <th class="numeric">25th percentile</th>
              <th class="numeric">Median</th>
              <th class="numeric">75th percentile</th>
              <th class="numeric">Max</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key} data-metric={r.key}>
                <td>{r.label}</td>
                {r.values.map((v, i) => (
                  <td key={i} class={`numeric num ${i === 4 && r.values[2]! > 0 && v >= 2 * r.values[2]! && r.key !== 'schedulerDelay' ? 'skew-cell' : ''}`} data-q={QUANTILES[i]} data-value={v}>
                    {r.fmt(v)}
                    {r.extra && r.extra[i]! > 0 && <span class="muted"> / {r.extraFmt!(r.extra[i]!)}</span>}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

const TASK_SORTS: Record<string, string> = { id: 'ID', launch: 'launchTime', duration: 'duration', delay: 'schedulerDelay', fetch: 'fetchWait', records: 'records', read: 'shuffleRead', write: 'shuffleWrite' };

function TaskTable(props: { appId: string; stage: StageData; now: number }) {
  const [sort, setSort] = useState<{ key: string; desc: boolean }>({ key: 'duration', desc: true });
  const [page, setPage] = useState(0);
  const total = props.stage.numCompleteTasks + props.stage.numFailedTasks + props.stage.numKilledTasks + props.stage.numActiveTasks;
  const sortBy = `${sort.desc ? '-' : ''}${TASK_SORTS[sort.key]}`;
  const tasks = useApi<TaskData[]>(api(props.appId, `/stages/${props.stage.stageId}/${props.stage.attemptId}/taskList?offset=${page * PAGE}&length=${PAGE}&sortBy=${sortBy}`), {
    appId: props.appId,
    stageId: props.stage.stageId,
  });
  const pages = Math.max(1, Math.ceil(total / PAGE));
  const th = (key: string, label: string, numeric = true) => (
    <th
      class={`${numeric ? 'numeric' : ''} sortable ${sort.key === key ? (sort.desc ? 'sorted-desc' : 'sorted-asc') : ''}`}
      onClick={() => {
        setSort({ key, desc: sort.key === key ? !sort.desc : true });
        setPage(0);
      }}
    >
      {label}
    </th>
  );
  return (
    <div>
      <div class="table-wrap">
        <table class="table" id="task-table">
          <thead>
            <tr>
              {th('id', 'Task')}
              <th class="numeric">Partition</th>
              <th>Status</th>
              <th>Executor</th>
              {th('launch', 'Launched', false)}
              {th('duration', 'Duration')}
              {th('delay', 'Sched. delay')}
              {th('fetch', 'Fetch wait')}
              {th('records', 'Records in')}
              {th('read', 'Shuffle read')}
              {th('write', 'Shuffle write')}
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {(tasks.data ?? []).map((t) => {
              const m = t.taskMetrics;
              return (
                <tr key={t.taskId} data-task={t.taskId}>
                  <td class="numeric num">
                    {t.taskId}
                    {t.attempt > 0 && <span class="muted"> (attempt {t.attempt})</span>}
                    {t.speculative && <span class="tag">spec</span>}
                  </td>
                  <td class="numeric num">{t.index}</td>
                  <td>
                    <Status status={t.status} />
                  </td>
                  <td class="mono">{t.executorId}</td>
                  <td class="num">{time(t.launchTime)}</td>
                  <td class="numeric num" data-col="duration">{duration(t.duration ?? props.now - t.launchTime)}</td>
                  <td class="numeric num">{m ? duration(t.schedulerDelay) : ''}</td>
                  <td class="numeric num">{m && m.shuffleReadMetrics.fetchWaitTime > 0 ? duration(m.shuffleReadMetrics.fetchWaitTime) : ''}</td>
                  <td class="numeric num">{m ? count(m.inputMetrics.recordsRead + m.shuffleReadMetrics.recordsRead) : ''}</td>
                  <td class="numeric num">{m && m.shuffleReadMetrics.localBytesRead + m.shuffleReadMetrics.remoteBytesRead > 0 ? bytes(m.shuffleReadMetrics.localBytesRead + m.shuffleReadMetrics.remoteBytesRead) : ''}</td>
                  <td class="numeric num">{m && m.shuffleWriteMetrics.bytesWritten > 0 ? bytes(m.shuffleWriteMetrics.bytesWritten) : ''}</td>
                  <td class="error-text">{t.errorMessage ? t.errorMessage.split('\n')[0] : ''}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <div class="pager">
        <button class="btn" disabled={page === 0} onClick={() => setPage(0)}>
          « First
        </button>
        <button class="btn" disabled={page === 0} onClick={() => setPage(page - 1)}>
          ‹ Previous
        </button>
        <span class="muted num">
          {count(page * PAGE + 1)}–{count(Math.min(total, (page + 1) * PAGE))} of {count(total)}
        </span>
        <button class="btn" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
          Next ›
        </button>
        <button class="btn" disabled={page + 1 >= pages} onClick={() => setPage(pages - 1)}>
          Last »
        </button>
      </div>
    </div>
  );
}

interface ExecRow {
  id: string;
  s: NonNullable<StageData['executorSummary']>[string];
}

export function StagePage(props: { appId: string; stageId: number; attempt: number }) {
  const interest = { appId: props.appId, stageId: props.stageId };
  const base = `/stages/${props.stageId}/${props.attempt}`;
  const stage = useApi<StageData>(api(props.appId, `${base}?details=false&executorSummary=true`), interest);
  const summary = useApi<TaskMetricDistributions>(api(props.appId, `${base}/taskSummary?quantiles=${QUANTILES.join(',')}`), interest);
  const running = stage.data?.status === 'ACTIVE';
  const now = useTicker(running);
  if (stage.error) return <ErrorBox error={stage.error} />;
  if (!stage.data) return <Loading />;
  const s = stage.data;
  const elapsed = s.submissionTime === null ? null : (s.completionTime ?? now) - s.submissionTime;
  const execRows: ExecRow[] = Object.entries(s.executorSummary ?? {}).map(([id, e]) => ({ id, s: e }));
  const execColumns: Column<ExecRow>[] = [
    { key: 'id', title: 'Executor', sort: (r) => r.id, render: (r) => <span class="mono">{r.id}</span> },
    { key: 'time', title: 'Task time', numeric: true, sort: (r) => r.s.taskTime, render: (r) => duration(r.s.taskTime) },
    { key: 'ok', title: 'Succeeded', numeric: true, sort: (r) => r.s.succeededTasks, render: (r) => count(r.s.succeededTasks) },
    { key: 'failed', title: 'Failed', numeric: true, sort: (r) => r.s.failedTasks, render: (r) => (r.s.failedTasks ? <span class="bad-text">{r.s.failedTasks}</span> : '0') },
    { key: 'killed', title: 'Killed', numeric: true, sort: (r) => r.s.killedTasks, render: (r) => count(r.s.killedTasks) },
    { key: 'avg', title: 'Avg task', numeric: true, sort: (r) => r.s.taskTime / Math.max(1, r.s.succeededTasks + r.s.failedTasks), render: (r) => duration(r.s.taskTime / Math.max(1, r.s.succeededTasks + r.s.failedTasks + r.s.killedTasks)) },
    { key: 'records', title: 'Records in', numeric: true, sort: (r) => r.s.inputRecords + r.s.shuffleReadRecords, render: (r) => count(r.s.inputRecords + r.s.shuffleReadRecords) },
    { key: 'read', title: 'Shuffle read', numeric: true, sort: (r) => r.s.shuffleRead, render: (r) => bytes(r.s.shuffleRead) },
    { key: 'write', title: 'Shuffle write', numeric: true, sort: (r) => r.s.shuffleWrite, render: (r) => bytes(r.s.shuffleWrite) },
  ];
  return (
    <div class="page">
      <div class="page-title">
        <h1>
          Stage {s.stageId}
          {s.attemptId > 0 && <span class="subtle"> (attempt {s.attemptId})</span>} <span class="subtle">{s.name}</span>
        </h1>
        <Status status={s.status} />
        <span class="tag">{s.kind === 'result' ? 'result stage' : 'shuffle map stage'}</span>
        {s.jobIds.map((j) => (
          <a key={j} class="tag tag-link" href={`/app/${encodeURIComponent(props.appId)}/jobs/${j}`}>
            job {j}
          </a>
        ))}
      </div>
      {s.failureReason && <ErrorBox error={s.failureReason} />}
      <div class="stats">
        <Stat label="Duration" field="stage-duration" value={duration(elapsed)} sub={s.submissionTime ? `submitted ${time(s.submissionTime)}` : 'not submitted'} />
        <Stat
          label="Tasks"
          field="stage-tasks"
          value={count(s.numCompleteTasks)}
          sub={<Progress done={s.numCompletedIndices} running={s.numActiveTasks} failed={s.numFailedTasks} total={s.numTasks} label={false} />}
          tone={s.numFailedTasks ? 'warn' : undefined}
        />
        <Stat label="Records in" field="stage-records" value={count(s.inputRecords + s.shuffleReadRecords)} sub={`${count(s.outputRecords + s.shuffleWriteRecords)} out`} />
        <Stat label="Shuffle read" field="stage-shuffle-read" value={bytes(s.shuffleReadBytes)} sub={`${bytes(s.shuffleRemoteBytesRead)} from other executors`} />
        <Stat label="Shuffle write" field="stage-shuffle-write" value={bytes(s.shuffleWriteBytes)} sub={`${count(s.shuffleWriteRecords)} records`} />
      </div>
      <Card title="Where the time went">
        <TimeBreakdown stage={s} />
      </Card>
      <Card title="Summary of tasks">{summary.data ? summary.data.count > 0 ? <Quantiles summary={summary.data} /> : <div class="muted">No task has succeeded yet.</div> : <Loading />}</Card>
      <Card title="Task timeline">
        <TaskTimeline appId={props.appId} stageId={s.stageId} attempt={s.attemptId} version={stage.version} running={running} />
      </Card>
      <Card title={`By executor (${execRows.length})`}>
        <Table columns={execColumns} rows={execRows} rowKey={(r) => r.id} initialSort="time" initialDesc id="stage-executors" empty="No task has run yet." />
      </Card>
      <Card title="Tasks">
        <TaskTable appId={props.appId} stage={s} now={now} />
      </Card>
    </div>
  );
}
