/**
 * Volunteers at scale, simulated: `npm run bench:volunteer-scale [-- --quick] [--runs N] [--seed S]
 * [--volunteers N] [--tasks N]`.
 *
 * Issue 9's "Scale, simulated": a real `flint serve` process; 200 simulated browser volunteers
 * (test/helpers/simulated-volunteer.ts: WorkerHosts configured as a tab, running the built browser
 * executor bundle in worker threads, over real WebSockets to /ws, a quarter of them with real WebRTC
 * through node-datachannel) in five processes; the bench process is the driver. It measures the time
 * until every volunteer has joined (goal < 30 s), then runs a 2,000-task job — `range(0, 2M, 1, 2000)
 * .map(i => [i % 1000, i]).reduceByKey('sum', 20).collect()`, 2,000 map tasks and a shuffle, its
 * answer computed here in plain TypeScript — while 30% of the volunteers leave at random points of the
 * job's progress: the 12 of one process by SIGKILL, the others half by decommission (a tab closing),
 * half by crashing (their socket destroyed without a close frame, executors and links stopped). It
 * checks the answer, that every leaver's executors were declared lost, and reports the coordinator's
 * RSS, heap and event-loop delay (its /api/v1/coordinator, sampled every second).
 *
 * Writes bench/results/volunteer-scale.json and prints the tables README.md shows.
 */
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { runVolunteerScale, type ScaleParams, type ScaleResult } from '../test/helpers/volunteer-scale.js';
import { flag, option } from './lib/args.js';
import { machineFacts, metricsTable, writeReport, type Target } from './lib/report.js';
import { fmt, median, stat, type Stat } from './lib/stats.js';

const quick = flag('--quick');
const root = join(dirname(process.argv[1]!), '..');
const log = (s: string) => console.log(s);

const volunteers = Number(option('--volunteers') ?? (quick ? 48 : 200));
const tasks = Number(option('--tasks') ?? (quick ? 400 : 2000));
const runs = Number(option('--runs') ?? (quick ? 1 : 3));
const seed = Number(option('--seed') ?? 1);
const killed = Math.max(2, Math.round(volunteers * 0.06));
const P: Omit<ScaleParams, 'seed'> = {
  volunteers,
  // About 47 volunteers (and their executor threads) per process, plus the one that is killed.
  processes: Math.max(1, Math.round((volunteers - killed) / 47)),
  killedProcessVolunteers: killed,
  webRtcShare: 0.25,
  mapPartitions: tasks,
  reducers: Math.max(4, Math.round(tasks / 100)),
  records: tasks * 1000,
  keys: 1000,
  leaveShare: 0.3,
  decommissionShare: 0.5,
  joinTimeoutMs: 120_000,
  jobTimeoutMs: 600_000,
};

const GOALS = {
  join: { maxSeconds: 30, text: `${volunteers} volunteers join in under 30 s` },
  correct: { text: 'the job’s answer is exactly right, with 30% of the volunteers leaving during it' },
  lost: { text: 'every leaver’s executors are declared lost to the driver' },
};

log(`Flint volunteer-scale bench (${quick ? 'quick' : 'full'}), ${cpus().length} CPUs, Node ${process.version}: ${volunteers} simulated volunteers, a ${tasks}-task job, ${runs} run(s)`);
const results: ScaleResult[] = [];
for (let r = 0; r < runs; r++) {
  log(`\n[run ${r + 1}/${runs}] seed ${seed + r}, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const res = await runVolunteerScale({ ...P, seed: seed + r }, (line) => log(`  ${line}`));
  results.push(res);
  const lossBy = lossLatencies(res);
  log(
    `  coordinator: peak RSS ${fmt(res.coordinator.peakRssBytes / 2 ** 20)} MiB, heap ${fmt(res.coordinator.peakHeapUsedBytes / 2 ** 20)} MiB; ` +
      `event-loop delay over the job p50 ${fmt(res.coordinator.eventLoopDelayDuringJobMs?.p50 ?? NaN)} / p99 ${fmt(res.coordinator.eventLoopDelayDuringJobMs?.p99 ?? NaN)} / max ${fmt(res.coordinator.eventLoopDelayDuringJobMs?.max ?? NaN)} ms`,
  );
  log(`  losses declared after (median ms): ${Object.entries(lossBy).map(([k, v]) => `${k} ${fmt(median(v))}`).join(', ')}; stage attempts ${res.tasks.stageAttempts}, task runs ${res.tasks.started}, heartbeat losses of stayers ${res.heartbeatLosses.ofStayers}`);
}

/** Ms from each leave to the driver's executorRemoved, by how the volunteer left. */
function lossLatencies(res: ScaleResult): Record<string, number[]> {
  const by: Record<string, number[]> = {};
  for (const l of res.leavers) for (const ms of l.removedAfterMs) if (ms !== null) (by[l.how] ??= []).push(ms);
  return by;
}

const mb = (b: number) => b / 2 ** 20;
const all = <T>(f: (r: ScaleResult) => T): T[] => results.map(f);
const metrics: Record<string, Stat & { note?: string }> = {
  joinSeconds: { ...stat('s', all((r) => r.joinMs / 1000)), note: 'from starting the volunteer processes to every volunteer welcomed (and counted by the coordinator)' },
  executorsUpSeconds: { ...stat('s', all((r) => r.executorsUpMs / 1000)), note: 'Flint.start until the driver has an executor (a worker thread running the browser bundle) on every volunteer' },
  jobSeconds: { ...stat('s', all((r) => r.jobMs / 1000)), note: `the ${tasks}-task job while 30% of the volunteers leave` },
  taskRuns: { ...stat('runs', all((r) => r.tasks.started)), note: 'task attempts launched: copies compared for verification, and recomputation of what leavers held' },
  stageAttempts: stat('attempts', all((r) => r.tasks.stageAttempts)),
  coordinatorPeakRssMiB: { ...stat('MiB', all((r) => mb(r.coordinator.peakRssBytes))), note: 'the coordinator process’s peak resident set (its /api/v1/coordinator, sampled every second, and its maxRSS)' },
  coordinatorPeakHeapMiB: stat('MiB', all((r) => mb(r.coordinator.peakHeapUsedBytes))),
  coordinatorCpuSecondsDuringJob: stat('s', all((r) => (r.coordinator.cpuMsDuringJob ?? NaN) / 1000)),
  loopDelayJobP50Ms: { ...stat('ms', all((r) => r.coordinator.eventLoopDelayDuringJobMs?.p50 ?? NaN)), note: 'the coordinator’s event-loop delay over the job: the median of its 5 s windows’ p50' },
  loopDelayJobP99Ms: { ...stat('ms', all((r) => r.coordinator.eventLoopDelayDuringJobMs?.p99 ?? NaN)), note: 'the worst p99 of its 5 s windows over the job' },
  loopDelayJobMaxMs: stat('ms', all((r) => r.coordinator.eventLoopDelayDuringJobMs?.max ?? NaN)),
  loopDelayRunP50Ms: { ...stat('ms', all((r) => r.coordinator.eventLoopDelayWholeRunMs?.p50 ?? NaN)), note: 'since the coordinator started: joins, executors starting, the job, the leaves' },
  loopDelayRunP99Ms: stat('ms', all((r) => r.coordinator.eventLoopDelayWholeRunMs?.p99 ?? NaN)),
  loopDelayRunMaxMs: stat('ms', all((r) => r.coordinator.eventLoopDelayWholeRunMs?.max ?? NaN)),
  volunteerProcessRssMiBPerVolunteer: {
    ...stat('MiB', all((r) => median(r.volunteerProcesses.map((p) => mb(p.maxRssBytes) / Math.max(1, p.volunteers))))),
    note: 'peak RSS of a volunteer process over the volunteers it hosted (host, socket and one executor thread each)',
  },
};
for (const how of ['process-kill', 'crash', 'decommission']) {
  const v = results.flatMap((r) => lossLatencies(r)[how] ?? []);
  if (v.length) metrics[`lossDeclaredMs_${how}`] = { ...stat('ms', [median(v)]), note: `median over every executor of every run: from the ${how} to the driver’s executorRemoved` };
}

const joinWorst = Math.max(...all((r) => r.joinMs / 1000));
const targets: Target[] = [
  { name: GOALS.join.text, measured: `${fmt(metrics.joinSeconds.median)} s (worst ${fmt(joinWorst)} s)`, ratio: joinWorst, target: `< ${GOALS.join.maxSeconds} s`, pass: joinWorst < GOALS.join.maxSeconds },
  { name: GOALS.correct.text, measured: `${results.filter((r) => r.correct).length} of ${runs} runs right`, ratio: results.filter((r) => r.correct).length / runs, target: 'every run', pass: results.every((r) => r.correct) },
  {
    name: GOALS.lost.text,
    measured: `${results.filter((r) => r.allLeaversLost).length} of ${runs} runs; ${results.reduce((n, r) => n + r.leavers.length, 0)} leavers`,
    ratio: results.filter((r) => r.allLeaversLost).length / runs,
    target: 'every run',
    pass: results.every((r) => r.allLeaversLost),
  },
];

const report = {
  bench: 'volunteer-scale',
  mode: quick ? 'quick' : 'full',
  machine: machineFacts(),
  setup:
    `flint serve on 127.0.0.1; ${volunteers} simulated volunteers (kind browser, capabilities [wasm], untrusted, 1 core each, the built browser executor bundle ` +
    `in a worker thread each) in ${P.processes + 1} processes, ${Math.round(volunteers * P.webRtcShare)} with WebRTC (node-datachannel on 127.0.0.1), the rest relay-only; the driver in the bench process`,
  goals: GOALS,
  params: { ...P, runs, seed },
  metrics,
  targets,
  extra: {
    runs: results.map((r) => ({
      seed: r.params.seed,
      correct: r.correct,
      error: r.error,
      joinMs: r.joinMs,
      joinLatencyMs: r.joinLatencyMs,
      executorsUpMs: r.executorsUpMs,
      jobMs: r.jobMs,
      stages: r.stages,
      tasks: r.tasks,
      leavers: r.leavers.map((l) => ({ how: l.how, at: l.at, atMs: l.atMs, duringJob: l.duringJob, executors: l.executors.length, removedAfterMs: l.removedAfterMs })),
      heartbeatLosses: r.heartbeatLosses,
      rejoined: r.rejoined,
      volunteerProcessCrashes: r.volunteerProcessCrashes,
      volunteerProcesses: r.volunteerProcesses,
      coordinator: { ...r.coordinator, final: r.coordinator.final ? { ...r.coordinator.final, process: r.coordinator.final.process ? { ...r.coordinator.final.process, eventLoopDelayWindows: undefined } : null } : null },
      coordinatorLoopWindows: r.coordinator.final?.process?.eventLoopDelayWindows ?? [],
    })),
  },
};
const out = join(root, 'bench', 'results', 'volunteer-scale.json');
writeReport(out, report, false);
log(`\n${metricsTable(metrics)}\n`);
log('| goal | measured | goal | result |\n|---|---|---|---|');
for (const t of targets) log(`| ${t.name} | ${t.measured} | ${t.target} | ${t.pass ? 'PASS' : 'MISS'} |`);
log(`\nload average at end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}; wrote ${relative(root, out)}`);
