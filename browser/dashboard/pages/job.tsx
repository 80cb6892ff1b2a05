/** One job: how far it is, its stage DAG, and its stages. */
import type { JobData, JobGraph, StageData } from '../../../host/ui/types.js';
import { api, useApi, useTicker } from '../api.js';
import { StageDag } from '../components/stage-dag.js';
import { Card, ErrorBox, Loading, Progress, Stat, Status } from '../components/ui.js';
import { count, duration, time } from '../format.js';
import { StageGroups } from './stages.js';

export function JobPage(props: { appId: string; jobId: number }) {
  const interest = { appId: props.appId };
  const job = useApi<JobData>(api(props.appId, `/jobs/${props.jobId}`), interest);
  const graph = useApi<JobGraph>(api(props.appId, `/jobs/${props.jobId}/graph`), interest);
  const stages = useApi<StageData[]>(api(props.appId, '/stages'), interest);
  const now = useTicker(job.data?.status === 'RUNNING');
  if (job.error) return <ErrorBox error={job.error} />;
  if (!job.data || !stages.data) return <Loading />;
  const j = job.data;
  // Within this job a stage is what the job's graph says (skipped here even if another job ran it).
  const statusInJob = new Map(graph.data?.stages.map((s) => [s.stageId, s.status]) ?? []);
  const own = stages.data
    .filter((s) => j.stageIds.includes(s.stageId))
    .map((s) => (statusInJob.get(s.stageId) === 'SKIPPED' ? { ...s, status: 'SKIPPED' as const } : s))
    // One row per stage and attempt; a stage skipped here is listed once.
    .filter((s, i, all) => s.status !== 'SKIPPED' || all.findIndex((x) => x.stageId === s.stageId && x.status === 'SKIPPED') === i);
  return (
    <div class="page">
      <div class="page-title">
        <h1>
          Job {j.jobId} <span class="subtle">{j.name}</span>
        </h1>
        <Status status={j.status} />
      </div>
      {j.failureReason && <ErrorBox error={j.failureReason} />}
      <div class="stats">
        <Stat label="Submitted" value={time(j.submissionTime)} />
        <Stat label="Duration" field="job-duration" value={duration((j.completionTime ?? now) - j.submissionTime)} />
        <Stat label="Stages" value={`${j.numCompletedStages}/${j.stageIds.length - j.numSkippedStages}`} sub={`${j.numSkippedStages} skipped · ${j.numFailedStages} failed`} />
        <Stat
          label="Tasks"
          field="job-tasks"
          value={count(j.numCompletedIndices)}
          sub={<Progress done={j.numCompletedIndices} running={j.numActiveTasks} failed={j.numFailedTasks} total={j.numTasks - j.numSkippedTasks} label={false} />}
        />
      </div>
      <Card title="Stage DAG">{graph.data ? <StageDag graph={graph.data} appId={props.appId} /> : <Loading />}</Card>
      <StageGroups appId={props.appId} stages={own} now={now} />
    </div>
  );
}
