/**
 * An application's front page: how it is doing (numbers first), what needs attention (failures,
 * lost or excluded executors, skipped work), when things happened (event timeline, busy cores) and
 * its jobs with their progress.
 */
import type { AppTimeline, ApplicationInfo, ExecutorSummary, JobData, StageData } from '../../../host/ui/types.js';
import { api, useApi, useTicker } from '../api.js';
import { EventTimeline } from '../components/event-timeline.js';
import { Card, Empty, ErrorBox, Loading, Progress, Stat, Status, Table, type Column } from '../components/ui.js';
import { Utilization } from '../components/utilization.js';
import { bytes, count, duration, time } from '../format.js';

export function jobColumns(appId: string, now: number): Column<JobData>[] {
  return [
    { key: 'id', title: 'Job', numeric: true, sort: (j) => j.jobId, render: (j) => <a href={`/app/${encodeURIComponent(appId)}/jobs/${j.jobId}`}>{j.jobId}</a> },
    { key: 'name', title: 'Description', sort: (j) => j.name, render: (j) => <a href={`/app/${encodeURIComponent(appId)}/jobs/${j.jobId}`}>{j.name}</a> },
    { key: 'status', title: 'Status', sort: (j) => j.status, render: (j) => <Status status={j.status} /> },
    { key: 'submitted', title: 'Submitted', sort: (j) => j.submissionTime, render: (j) => time(j.submissionTime) },
    {
      key: 'duration',
      title: 'Duration',
      numeric: true,
      sort: (j) => (j.completionTime ?? now) - j.submissionTime,
      render: (j) => duration((j.completionTime ?? now) - j.submissionTime),
    },
    {
      key: 'stages',
      title: 'Stages',
      render: (j) => (
        <span class="num">
          {j.numCompletedStages}/{j.stageIds.length - j.numSkippedStages}
          {j.numSkippedStages > 0 && <span class="muted"> ({j.numSkippedStages} skipped)</span>}
          {j.numFailedStages > 0 && <span class="bad-text"> ({j.numFailedStages} failed)</span>}
        </span>
      ),
    },
    {
      key: 'tasks',
      title: 'Tasks (all stages)',
      render: (j) => <Progress done={j.numCompletedIndices} running={j.numActiveTasks} failed={j.numFailedTasks} total={j.numTasks - j.numSkippedTasks} />,
    },
  ];
}

interface Attention {
  tone: 'bad' | 'warn';
  text: string;
  href?: string;
}

function attention(appId: string, jobs: JobData[], stages: StageData[], executors: ExecutorSummary[]): Attention[] {
  const out: Attention[] = [];
  const base = `/app/${encodeURIComponent(appId)}`;
  for (const j of jobs.filter((j) => j.status === 'FAILED').slice(0, 3)) {
    out.push({ tone: 'bad', text: `Job ${j.jobId} (${j.name}) failed${j.failureReason ? `: ${j.failureReason}` : ''}`, href: `${base}/jobs/${j.jobId}` });
  }
  const failedTasks = stages.reduce((n, s) => n + s.numFailedTasks, 0);
  if (failedTasks > 0) {
    const worst = stages.filter((s) => s.numFailedTasks > 0).sort((a, b) => b.numFailedTasks - a.numFailedTasks)[0]!;
    out.push({ tone: 'warn', text: `${count(failedTasks)} task attempt${failedTasks === 1 ? '' : 's'} failed; most in stage ${worst.stageId} (${worst.name})`, href: `${base}/stages/${worst.stageId}/${worst.attemptId}` });
  }
  const retried = stages.filter((s) => s.attemptId > 0);
  if (retried.length > 0) out.push({ tone: 'warn', text: `${retried.length} stage attempt${retried.length === 1 ? ' was' : 's were'} resubmitted after lost shuffle output`, href: `${base}/stages` });
  const removed = executors.filter((e) => !e.isActive && e.removeReason && !/stopped|ended|gave it back|lent to another/.test(e.removeReason));
  if (removed.length > 0) out.push({ tone: 'warn', text: `${removed.length} executor${removed.length === 1 ? '' : 's'} lost: ${removed[0]!.removeReason}`, href: `${base}/executors` });
  const excluded = executors.filter((e) => e.isExcluded);
  if (excluded.length > 0) out.push({ tone: 'bad', text: `${excluded.length} executor${excluded.length === 1 ? ' is' : 's are'} excluded for failing tasks repeatedly`, href: `${base}/executors` });
  const disputed = executors.reduce((n, e) => n + e.resultsDisputed, 0);
  if (disputed > 0) out.push({ tone: 'bad', text: `${disputed} result${disputed === 1 ? '' : 's'} disagreed with the majority (an executor lied or is broken)`, href: `${base}/executors` });
  return out;
}

export function JobsPage(props: { appId: string }) {
  const interest = { appId: props.appId };
  const app = useApi<ApplicationInfo>(api(props.appId), interest);
  const jobs = useApi<JobData[]>(api(props.appId, '/jobs'), interest);
  const stages = useApi<StageData[]>(api(props.appId, '/stages'), interest);
  const executors = useApi<ExecutorSummary[]>(api(props.appId, '/allexecutors'), interest);
  const timeline = useApi<AppTimeline>(api(props.appId, '/timeline'), interest);
  const attempt = app.data?.attempts[0];
  const running = !!attempt && !attempt.completed;
  const now = useTicker(running, 1000);
  const endOrNow = attempt?.completed ? attempt.endTime : now;
  if (jobs.error) return <ErrorBox error={jobs.error} />;
  if (!jobs.data || !stages.data || !executors.data) return <Loading />;
  const all = jobs.data;
  const active = all.filter((j) => j.status === 'RUNNING');
  const done = all.filter((j) => j.status === 'SUCCEEDED');
  const failed = all.filter((j) => j.status === 'FAILED');
  const ex = executors.data.filter((e) => e.isActive);
  const st = stages.data;
  const tasksDone = st.reduce((n, s) => n + s.numCompleteTasks, 0);
  const tasksFailed = st.reduce((n, s) => n + s.numFailedTasks, 0);
  const tasksActive = st.reduce((n, s) => n + s.numActiveTasks, 0);
  const shuffleRead = st.reduce((n, s) => n + s.shuffleReadBytes, 0);
  const shuffleWrite = st.reduce((n, s) => n + s.shuffleWriteBytes, 0);
  const cores = ex.reduce((n, e) => n + e.totalCores, 0);
  const issues = attention(props.appId, all, st, executors.data);
  const columns = jobColumns(props.appId, endOrNow);
  return (
    <div class="page">
      <div class="stats">
        <Stat label="Jobs" field="jobs" value={count(all.length)} sub={`${active.length} running · ${done.length} succeeded${failed.length ? ` · ${failed.length} failed` : ''}`} tone={failed.length ? 'bad' : undefined} />
        <Stat label="Tasks" field="tasks" value={count(tasksDone)} sub={`${tasksActive} running${tasksFailed ? ` · ${tasksFailed} failed` : ''}`} tone={tasksFailed ? 'warn' : undefined} />
        <Stat label="Executors" field="executors" value={count(ex.length)} sub={`${cores} cores · ${executors.data.length - ex.length} gone`} />
        <Stat label="Shuffle" field="shuffle" value={bytes(shuffleWrite)} sub={`written · ${bytes(shuffleRead)} read`} />
        <Stat label="Duration" field="duration" value={attempt ? duration(endOrNow - attempt.startTime) : '–'} sub={attempt ? `since ${time(attempt.startTime)}` : ''} />
      </div>
      {issues.length > 0 && (
        <Card title="Needs attention" class="attention">
          <ul class="attention-list">
            {issues.map((i, k) => (
              <li key={k} class={`att-${i.tone}`}>
                {i.href ? <a href={i.href}>{i.text}</a> : i.text}
              </li>
            ))}
          </ul>
        </Card>
      )}
      <Card title="Event timeline">
        {timeline.data ? (
          <>
            <EventTimeline data={timeline.data} appId={props.appId} now={endOrNow} />
            <Utilization data={timeline.data} now={endOrNow} />
          </>
        ) : (
          <Loading />
        )}
      </Card>
      <Card title={`Active jobs (${active.length})`} id="active-jobs">
        <Table columns={columns} rows={active} rowKey={(j) => j.jobId} initialSort="id" initialDesc empty="No job is running." />
      </Card>
      {failed.length > 0 && (
        <Card title={`Failed jobs (${failed.length})`} id="failed-jobs">
          <Table
            columns={[...columns, { key: 'reason', title: 'Failure reason', render: (j) => <span class="error-text">{j.failureReason}</span> }]}
            rows={failed}
            rowKey={(j) => j.jobId}
            initialSort="id"
            initialDesc
          />
        </Card>
      )}
      <Card title={`Completed jobs (${done.length})`} id="completed-jobs">
        {done.length === 0 ? <Empty>No job has finished yet.</Empty> : <Table columns={columns} rows={done} rowKey={(j) => j.jobId} initialSort="id" initialDesc />}
      </Card>
    </div>
  );
}
