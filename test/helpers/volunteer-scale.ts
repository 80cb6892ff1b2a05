/**
 * The scale scenario of issue 9 ("Scale, simulated"), shared by `npm run bench:volunteer-scale` and
 * test/cluster/volunteer-scale.test.ts: a real `flint serve` process, simulated browser volunteers
 * (test/helpers/volunteer-fleet.ts) joining it over real WebSockets, a share of them with real
 * WebRTC, and a sum-by-key job with a shuffle whose answer is known from arithmetic, run while a
 * share of the volunteers leave at random moments: some decommissioned (a tab closed), some crashed
 * (a socket gone without a word), and optionally a whole process of them SIGKILLed. It measures the
 * join, the job and every loss, checks the answer, and samples the coordinator's own health
 * (/api/v1/coordinator) throughout.
 */
import { mulberry32 } from '../../bench/lib/textgen.js';
import { Flint, type FlintEvent } from 'flint';
import { startCluster, type TestCluster } from '../cluster/harness.js';
import type { CoordinatorStatus, LoopDelay, ProcessHealth } from '../../host/ui/types.js';
import { VolunteerFleet, type LeaveHow, type ProcessStats } from './volunteer-fleet.js';

export interface ScaleParams {
  volunteers: number;
  /** Processes the volunteers (other than `killedProcessVolunteers`) are spread over. */
  processes: number;
  /** Volunteers of one more process that is SIGKILLed whole during the job (0: none). */
  killedProcessVolunteers: number;
  /** Fraction of the volunteers with WebRTC; the others reach peers through the relay only. */
  webRtcShare: number;
  mapPartitions: number;
  reducers: number;
  /** Records 0..records-1, keyed by `i % keys`, summed by key. */
  records: number;
  keys: number;
  /** Fraction of the volunteers that leave during the job (the killed process's count towards it). */
  leaveShare: number;
  /** Of the leavers that are not in the killed process, the fraction that decommission (the rest crash). */
  decommissionShare: number;
  seed: number;
  joinTimeoutMs: number;
  jobTimeoutMs: number;
  verbose?: boolean;
  /** Node's flags for the coordinator process (e.g. --cpu-prof); it is stopped gently to write them. */
  coordinatorNodeArgs?: string[];
  /** Node's flags for the volunteer processes. */
  volunteerNodeArgs?: string[];
}

export interface Leaver {
  workerId: string;
  how: LeaveHow;
  /** When it was made to leave, in ms after the job started (null: the job ended first). */
  atMs: number | null;
  /** What the job had done by then: the stage and how many of its partitions were done. */
  at: string | null;
  /** Whether it left while the job ran (else right after it: the job ended before its moment). */
  duringJob: boolean;
  /** Executors the driver had been given on it. */
  executors: string[];
  /** For each of them, ms from the leave to the driver's executorRemoved (null: never). */
  removedAfterMs: Array<number | null>;
}

export interface ScaleResult {
  params: ScaleParams;
  /** Every stage attempt of the job, in ms from its start. */
  stages: Array<{ stageId: number; attempt: number; kind: string; tasks: number; startMs: number; endMs: number | null; error?: string }>;
  /** Every second of the job: the stage, its partitions done, tasks running, executors. */
  progress: string[];
  /** From starting the volunteer processes to the coordinator counting every volunteer. */
  joinMs: number;
  joinedByCoordinatorMs: number;
  /** Per volunteer, ms from its process's start message to its welcome. */
  joinLatencyMs: { p50: number; max: number };
  /** Flint.start until the driver had an executor on every volunteer. */
  executorsUpMs: number;
  executorsAdded: number;
  jobMs: number;
  correct: boolean;
  error: string | null;
  distinctKeys: number;
  tasks: { started: number; success: number; failed: number; lost: number; killed: number; verified: number; disputed: number; stageAttempts: number; failures: string[] };
  leavers: Leaver[];
  /** Every leaver's executors known to the driver were declared lost. */
  allLeaversLost: boolean;
  /** The coordinator once the job ended, and its samples (every second) over the whole run. */
  coordinator: {
    final: CoordinatorStatus | null;
    peakRssBytes: number;
    peakHeapUsedBytes: number;
    eventLoopDelayWholeRunMs: LoopDelay | null;
    /** Over the job: the windows that overlap it (p50 is their median p50, p99 and max their worst). */
    eventLoopDelayDuringJobMs: { p50: number; p99: number; max: number; windows: number } | null;
    cpuMsDuringJob: number | null;
  };
  volunteerProcesses: ProcessStats[];
  /** Volunteer processes that died without being told to (a bug of the simulation or below it). */
  volunteerProcessCrashes: Array<{ index: number; code: number | null; signal: string | null; stderr: string }>;
  /** Workers the coordinator dropped after 3 s without a heartbeat; `ofStayers`: ones not told to leave. */
  heartbeatLosses: { total: number; ofStayers: number; maxSilentMs: number };
  /** Joins beyond the first of each volunteer: ones that came back after being dropped. */
  rejoined: number;
  links: { webRtcVolunteers: number };
}


/** The answer, computed plainly: for each key k, the sum of i in [0, records) with i % keys = k. */
export function expectedSums(records: number, keys: number): Map<number, number> {
  const sums = new Map<number, number>();
  for (let i = 0; i < records; i++) sums.set(i % keys, (sums.get(i % keys) ?? 0) + i);
  return sums;
}

const until = async (predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 50): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
};

declare const KEYS: number;

export async function runVolunteerScale(p: ScaleParams, log: (line: string) => void): Promise<ScaleResult> {
  const random = mulberry32(p.seed);
  const cluster: TestCluster = await startCluster({ workers: 0, nodeArgs: p.coordinatorNodeArgs });
  const auth = { authorization: `Bearer ${cluster.token}` };
  const coordinatorStatus = async (): Promise<CoordinatorStatus | null> => {
    try {
      return (await (await fetch(`${cluster.httpUrl}/api/v1/coordinator`, { headers: auth })).json()) as CoordinatorStatus;
    } catch {
      return null;
    }
  };
  // The coordinator's health, every second, for the whole run.
  const samples: Array<{ time: number; health: ProcessHealth }> = [];
  const windows = new Map<number, ProcessHealth['eventLoopDelayWindows'][number]>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const s = await coordinatorStatus();
      if (s?.process) {
        samples.push({ time: Date.now(), health: s.process });
        for (const w of s.process.eventLoopDelayWindows) windows.set(w.start, w);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();

  let fleet: VolunteerFleet | null = null;
  let fl: Flint | null = null;
  try {
    // ---- join -----------------------------------------------------------------------------------
    const perProcess = Array.from({ length: p.processes }, (_, i) => Math.floor((p.volunteers - p.killedProcessVolunteers) / p.processes) + (i < (p.volunteers - p.killedProcessVolunteers) % p.processes ? 1 : 0));
    const sizes = p.killedProcessVolunteers > 0 ? [...perProcess, p.killedProcessVolunteers] : perProcess;
    const webRtcTotal = Math.round(p.volunteers * p.webRtcShare);
    // WebRTC volunteers spread over processes in proportion to their size.
    let rtcLeft = webRtcTotal;
    const processes = sizes.map((n, i) => {
      const rtc = i === sizes.length - 1 ? rtcLeft : Math.min(rtcLeft, Math.round((n * webRtcTotal) / p.volunteers));
      rtcLeft -= rtc;
      return { volunteers: n, webRtc: rtc };
    });
    log(`joining ${p.volunteers} simulated volunteers in ${sizes.length} processes (${sizes.join(' + ')}), ${webRtcTotal} with WebRTC`);
    const joinStart = Date.now();
    fleet = await VolunteerFleet.start({ httpUrl: cluster.httpUrl, token: cluster.token, processes, verbose: p.verbose, log, nodeArgs: p.volunteerNodeArgs });
    await fleet.whenJoined(p.volunteers, p.joinTimeoutMs);
    const joinMs = Date.now() - joinStart;
    await until(async () => (await coordinatorStatus())?.workers === p.volunteers, p.joinTimeoutMs, 'the coordinator to count every volunteer');
    const joinedByCoordinatorMs = Date.now() - joinStart;
    const latencies = [...fleet.volunteers.values()].map((v) => v.joinedMs!).sort((a, b) => a - b);
    log(`all ${p.volunteers} joined in ${(joinMs / 1000).toFixed(2)} s (the coordinator counted them at ${(joinedByCoordinatorMs / 1000).toFixed(2)} s)`);

    // ---- the driver and its executors -------------------------------------------------------------
    const upStart = Date.now();
    fl = await Flint.start({ master: cluster.url, token: cluster.token, appName: 'volunteer-scale' });
    const events: FlintEvent[] = [];
    const added = new Map<string, number>();
    const removed = new Map<string, number>();
    const done = new Map<number, Set<number>>();
    let stageNow: { stageId: number; kind: string; numTasks: number } | null = null;
    const onProgress = new Set<() => void>();
    fl.events.on('*', (e) => {
      events.push(e);
      if (e.type === 'executorAdded') added.set(e.executorId, Date.now());
      else if (e.type === 'executorRemoved') removed.set(e.executorId, Date.now());
      else if (e.type === 'stageSubmitted') stageNow = { stageId: e.stageId, kind: e.kind, numTasks: e.numTasks };
      else if (e.type === 'taskEnd' && e.status === 'success') {
        let set = done.get(e.stageId);
        if (!set) done.set(e.stageId, (set = new Set()));
        set.add(e.partition);
        for (const f of onProgress) f();
      }
    });
    // Executors added while Flint.start ran were announced before anyone could listen.
    for (const id of fl.executorIds()) if (!added.has(id)) added.set(id, Date.now());
    await until(() => fl!.defaultParallelism >= p.volunteers, 120_000, `executors on all ${p.volunteers} volunteers (${fl!.defaultParallelism} so far)`);
    const executorsUpMs = Date.now() - upStart;
    log(`the driver has ${fl.defaultParallelism} executors, ${(executorsUpMs / 1000).toFixed(2)} s after Flint.start`);

    // ---- who leaves, and when ---------------------------------------------------------------------
    const ids = [...fleet.volunteers.values()];
    const killedProcess = p.killedProcessVolunteers > 0 ? sizes.length - 1 : -1;
    const inKilled = ids.filter((v) => v.process === killedProcess);
    const others = ids.filter((v) => v.process !== killedProcess);
    for (let i = others.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [others[i], others[j]] = [others[j]!, others[i]!];
    }
    const leaving = Math.max(0, Math.round(p.volunteers * p.leaveShare) - inKilled.length);
    const chosen = others.slice(0, leaving);
    const decommissions = Math.round(chosen.length * p.decommissionShare);
    const leavers: Leaver[] = [
      ...inKilled.map((v) => ({ workerId: v.workerId, how: 'process-kill' as LeaveHow, atMs: null, at: null, duringJob: false, executors: [], removedAfterMs: [] })),
      ...chosen.map((v, i) => ({ workerId: v.workerId, how: (i < decommissions ? 'decommission' : 'crash') as LeaveHow, atMs: null, at: null, duringJob: false, executors: [], removedAfterMs: [] })),
    ];
    // A moment is a point of progress: most leave during the map stage, a fifth while reducers fetch.
    type Plan = { stage: 'map' | 'reduce'; after: number; go: () => void };
    const plans: Plan[] = [];
    let jobStart = 0;
    let jobRunning = false;
    const leaveAt: Map<string, number> = new Map();
    const moment = (): { stage: 'map' | 'reduce'; after: number } =>
      random() < 0.8 ? { stage: 'map', after: Math.floor(random() * p.mapPartitions * 0.95) } : { stage: 'reduce', after: Math.floor(random() * p.reducers * 0.8) };
    const progressNow = () => {
      const s = stageNow as { stageId: number; kind: string; numTasks: number } | null;
      return s ? `${s.kind === 'result' ? 'reduce' : 'map'} stage ${s.stageId}, ${done.get(s.stageId)?.size ?? 0}/${s.numTasks} partitions done` : 'before the first stage';
    };
    if (inKilled.length > 0) {
      const m = { stage: 'map' as const, after: Math.floor(random() * p.mapPartitions * 0.9) };
      plans.push({
        ...m,
        go: () => {
          const at = progressNow();
          for (const l of leavers) {
            if (l.how !== 'process-kill') continue;
            l.atMs = Date.now() - jobStart;
            l.at = at;
            l.duringJob = jobRunning;
            leaveAt.set(l.workerId, Date.now());
          }
          log(`  SIGKILL of the process of ${inKilled.length} volunteers (${at})`);
          void fleet!.killProcess(killedProcess);
        },
      });
    }
    for (const l of leavers) {
      if (l.how === 'process-kill') continue;
      plans.push({
        ...moment(),
        go: () => {
          l.atMs = Date.now() - jobStart;
          l.at = progressNow();
          l.duringJob = jobRunning;
          leaveAt.set(l.workerId, Date.now());
          if (p.verbose) log(`  ${l.how} ${l.workerId} (${l.at})`);
          fleet!.leave(l.workerId, l.how as 'decommission' | 'crash');
        },
      });
    }
    const stageKinds = new Map<number, 'map' | 'reduce'>();
    const fire = () => {
      for (const plan of [...plans]) {
        let progress = -1;
        for (const [stageId, kind] of stageKinds) if (kind === plan.stage) progress = Math.max(progress, done.get(stageId)?.size ?? 0);
        if (progress >= plan.after) {
          plans.splice(plans.indexOf(plan), 1);
          plan.go();
        }
      }
    };
    fl.events.on('stageSubmitted', (e) => {
      stageKinds.set(e.stageId, e.kind === 'result' ? 'reduce' : 'map');
      fire();
    });
    onProgress.add(fire);

    // ---- the job ----------------------------------------------------------------------------------
    const want = expectedSums(p.records, p.keys);
    log(`job: range(0, ${p.records}, 1, ${p.mapPartitions}).map(i => [i % ${p.keys}, i]).reduceByKey('sum', ${p.reducers}).collect(); ${leavers.length} volunteers leave (${leavers.filter((l) => l.how === 'decommission').length} decommission, ${leavers.filter((l) => l.how === 'crash').length} crash, ${inKilled.length} in a killed process)`);
    const cpuBefore = (await coordinatorStatus())?.process;
    jobStart = Date.now();
    jobRunning = true;
    let running = 0;
    const offRunning = fl.events.on('*', (e) => {
      if (e.type === 'taskStart') running++;
      else if (e.type === 'taskEnd') running--;
    });
    const progress: string[] = [];
    const progressTimer = setInterval(() => {
      const s = stageNow as { stageId: number; kind: string; numTasks: number } | null;
      progress.push(`${((Date.now() - jobStart) / 1000).toFixed(1)}s ${s ? `stage ${s.stageId} ${done.get(s.stageId)?.size ?? 0}/${s.numTasks}` : '-'} running=${running} executors=${fl!.executorIds().length}`);
    }, 1000);
    let error: string | null = null;
    let got: Array<[number, number]> = [];
    try {
      const job = fl
        .range(0, p.records, 1, p.mapPartitions)
        .map((i) => [i % KEYS, i] as [number, number], { env: { KEYS: p.keys } })
        .reduceByKey('sum', p.reducers)
        .collect();
      let timer: NodeJS.Timeout | undefined;
      got = await Promise.race([job, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the job did not end within ${p.jobTimeoutMs} ms`)), p.jobTimeoutMs)))]);
      clearTimeout(timer);
    } catch (err) {
      error = (err as Error).stack ?? String(err);
    }
    const jobEnd = Date.now();
    jobRunning = false;
    clearInterval(progressTimer);
    offRunning();
    const jobMs = jobEnd - jobStart;
    const cpuAfter = (await coordinatorStatus())?.process;
    onProgress.clear();
    // Leaves the job did not reach happen now, so that every leaver's loss is still checked.
    for (const plan of plans.splice(0)) plan.go();
    const correct = error === null && got.length === want.size && got.every(([k, v]) => want.get(k) === v);
    log(`the job ${error ? `FAILED: ${error.split('\n')[0]}` : `ended in ${(jobMs / 1000).toFixed(2)} s; the answer is ${correct ? 'right' : 'WRONG'}`}`);

    // ---- every leaver's executors declared lost ---------------------------------------------------
    for (const l of leavers) l.executors = (fleet.volunteers.get(l.workerId)?.executors ?? []).filter((id) => added.has(id));
    let allLeaversLost = true;
    try {
      await until(() => leavers.every((l) => l.executors.every((id) => removed.has(id))), 30_000, 'every leaver’s executors to be declared lost');
    } catch {
      allLeaversLost = false;
    }
    for (const l of leavers) l.removedAfterMs = l.executors.map((id) => (removed.has(id) ? Math.max(0, removed.get(id)! - leaveAt.get(l.workerId)!) : null));

    await fl.events.delivered();
    const count = (pred: (e: FlintEvent) => boolean) => events.filter(pred).length;
    const tasks = {
      started: count((e) => e.type === 'taskStart'),
      success: count((e) => e.type === 'taskEnd' && e.status === 'success'),
      failed: count((e) => e.type === 'taskEnd' && e.status === 'failed'),
      lost: count((e) => e.type === 'taskEnd' && e.status === 'lost'),
      killed: count((e) => e.type === 'taskEnd' && e.status === 'killed'),
      verified: count((e) => e.type === 'taskVerified' && e.agreed),
      disputed: count((e) => e.type === 'taskVerified' && !e.agreed),
      stageAttempts: count((e) => e.type === 'stageSubmitted'),
      failures: [...new Set(events.flatMap((e) => (e.type === 'taskEnd' && e.status === 'failed' ? [String(e.error ?? '').split('\n')[0]!] : [])))].slice(0, 10),
    };
    await new Promise((r) => setTimeout(r, 1100));
    const final = await coordinatorStatus();
    const volunteerProcesses = await fleet.stats();
    // Workers the coordinator dropped for silence: a leaver that crashed may be one; anyone else is a false loss.
    const leaverIds = new Set(leavers.map((l) => l.workerId));
    const silent = [...cluster.coordinator.output().matchAll(/worker (\S+) \(\S+\) left: no heartbeat for (\d+) ms/g)].map((m) => ({ workerId: m[1]!, silentMs: Number(m[2]) }));
    const heartbeatLosses = { total: silent.length, ofStayers: silent.filter((x) => !leaverIds.has(x.workerId)).length, maxSilentMs: Math.max(0, ...silent.map((x) => x.silentMs)) };
    const rejoined = [...cluster.coordinator.output().matchAll(/worker (\S+) joined from/g)].length - p.volunteers;
    const during = [...windows.values()].filter((w) => w.end > jobStart && w.start < jobEnd);
    const sortedP50 = during.map((w) => w.p50).sort((a, b) => a - b);
    const stages = events.flatMap((e) => {
      if (e.type !== 'stageSubmitted') return [];
      const end = events.find((c) => c.type === 'stageCompleted' && c.stageId === e.stageId && c.attempt === e.attempt);
      const error = end?.type === 'stageCompleted' && !end.succeeded ? end.error : undefined;
      return [{ stageId: e.stageId, attempt: e.attempt, kind: e.kind, tasks: e.numTasks, startMs: e.time - jobStart, endMs: end ? end.time - jobStart : null, ...(error ? { error } : {}) }];
    });
    return {
      params: p,
      stages,
      progress,
      joinMs,
      joinedByCoordinatorMs,
      joinLatencyMs: { p50: latencies[Math.floor(latencies.length / 2)]!, max: latencies.at(-1)! },
      executorsUpMs,
      executorsAdded: added.size,
      jobMs,
      correct,
      error,
      distinctKeys: got.length,
      tasks,
      leavers,
      allLeaversLost,
      coordinator: {
        final,
        peakRssBytes: Math.max(0, ...samples.map((s) => s.health.rssBytes), final?.process?.maxRssBytes ?? 0),
        peakHeapUsedBytes: Math.max(0, ...samples.map((s) => s.health.heapUsedBytes)),
        eventLoopDelayWholeRunMs: final?.process?.eventLoopDelayMs ?? null,
        eventLoopDelayDuringJobMs: during.length
          ? { p50: sortedP50[Math.floor(sortedP50.length / 2)]!, p99: Math.max(...during.map((w) => w.p99)), max: Math.max(...during.map((w) => w.max)), windows: during.length }
          : null,
        cpuMsDuringJob: cpuBefore && cpuAfter ? cpuAfter.cpuUserMs + cpuAfter.cpuSystemMs - cpuBefore.cpuUserMs - cpuBefore.cpuSystemMs : null,
      },
      volunteerProcesses,
      volunteerProcessCrashes: fleet.unexpectedExits(),
      heartbeatLosses,
      rejoined,
      links: { webRtcVolunteers: webRtcTotal },
    };
  } finally {
    sampling = false;
    await sampler;
    await fl?.stop().catch(() => undefined);
    await fleet?.stop().catch(() => undefined);
    if (p.coordinatorNodeArgs?.length) {
      cluster.coordinator.child.kill('SIGINT');
      await Promise.race([cluster.coordinator.exited, new Promise((r) => setTimeout(r, 10_000))]);
    }
    await cluster.stop();
  }
}
