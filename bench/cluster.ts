/**
 * Cluster benchmark: `npm run bench:cluster [-- --quick] [--only 2,3] [--cpu-prof-dir DIR]`.
 *
 * Starts a real `flint serve` and two `flint worker --cores 1` processes on loopback and measures,
 * each against a baseline taken in the same run (contenders interleaved round by round, so that a
 * change of load on the shared machine hits both sides):
 *   1. empty tasks per second through the coordinator vs local[2]
 *      (`parallelize([], N).foreachPartition(() => {})`, as bench:engine measures local[2]);
 *   2. the built-in word count of D4 (100 MB Zipf(1) text, the file bench:ops and bench:engine
 *      use): `textFile(D4).flatMap(words).map(pairWith(1)).reduceByKey('sum').collect()`, cluster
 *      vs local[2]; both must agree and run on the WebAssembly scan;
 *   3. a `reduceByKey` with a lambda over 2M records with distinct keys, cluster vs local[2];
 *   4. shuffle MB/s between the two worker processes: blocks of binary records that cross from one
 *      worker to the other (bytes computed from where each map and reduce task ran) over the reduce
 *      stage's time, vs a bare `ws` stream between two processes;
 *   5. seconds from SIGKILL of a worker process (its executor running a task) to the driver's
 *      executorRemoved event, median over several kills; the job must still give the right answer.
 * Writes bench/results/cluster.json and prints the table README.md shows.
 *
 * `--cpu-prof-dir DIR` runs the coordinator and workers with `node --cpu-prof` and stops them
 * gently so that they write their profiles there (run the bench itself with `node --cpu-prof` for
 * the driver's).
 */
import { Flint, pairWith, words, type FlintEvent } from 'flint';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { startCluster, type TestCluster } from '../test/cluster/harness.js';
import { flag, option } from './lib/args.js';
import { CpuMeter, ownCpuMs, processCpuMs } from './lib/cpu.js';
import { machineFacts, metricsTable, writeReport, type Target } from './lib/report.js';
import { fmt, interleaved, median, rateStat, stat, type Stat } from './lib/stats.js';
import { ensureText } from './lib/textgen.js';
import { rawWebSocketTransfers } from './lib/ws-baseline.js';

const quick = flag('--quick');
const only = option('--only')?.split(',').map(Number) ?? null;
const want = (section: number) => !only || only.includes(section);
const profileDir = option('--cpu-prof-dir');
const root = join(dirname(process.argv[1]!), '..');
const benchDir = join(root, 'bench');
const log = (s: string) => console.log(s);

const P = quick
  ? { emptyTasks: 2000, emptyRuns: 5, textBytes: 10_000_000, wcRuns: 5, shuffleRecords: 200_000, shuffleRuns: 3, crossBlockBytes: 4 << 20, crossRuns: 3, kills: 3 }
  : { emptyTasks: 10_000, emptyRuns: 7, textBytes: 100_000_000, wcRuns: 9, shuffleRecords: 2_000_000, shuffleRuns: 5, crossBlockBytes: 32 << 20, crossRuns: 5, kills: 5 };
const WORKERS = 2;
/** Records of the cross-worker shuffle: 64 KiB binary values. */
const CROSS_RECORD = 64 << 10;

const GOALS = {
  emptyTasks: { ratio: 0.5, text: 'empty tasks per second through the coordinator ≥ 0.5 × local[2]' },
  wordCount: { ratio: 0.9, text: 'built-in word count of D4 on 2 workers ≥ 0.9 × local[2] (speed)' },
  shuffle: { ratio: 0.8, text: 'lambda reduceByKey of 2M records on 2 workers ≥ 0.8 × local[2] (speed)' },
  lossSeconds: { max: 5, text: 'a SIGKILLed worker is declared lost within 5 s' },
};

/** Bound inside closures through `{ env }`; declared for the type checker only. */
declare const K: number;
declare const SIZE: number;
declare const PER_BLOCK: number;
declare const SPIN_MS: number;

const metrics: Record<string, Stat & { note?: string }> = {};
const targets: Target[] = [];
const extra: Record<string, unknown> = {};
const sumOf = (pairs: Array<[string, number]>) => ({ distinct: pairs.length, total: pairs.reduce((a, [, n]) => a + n, 0) });

/** `${key}LocalMs` and `${key}ClusterMs` from the runs of both, and whether the cluster's speed meets `goal`. */
function compareSpeed(key: string, goal: { ratio: number; text: string }, runs: Record<string, number[]>): void {
  const local = (metrics[`${key}LocalMs`] = stat('ms', runs.local!));
  const onWorkers = (metrics[`${key}ClusterMs`] = stat('ms', runs.cluster!));
  const ratio = local.median / onWorkers.median;
  targets.push({ name: goal.text, measured: `${fmt(onWorkers.median)} ms vs ${fmt(local.median)} ms`, ratio, target: `≥ ${goal.ratio}`, pass: ratio >= goal.ratio });
}

function recordEvents(fl: Flint): { events: FlintEvent[]; clear(): void; stop(): void } {
  const events: FlintEvent[] = [];
  const stop = fl.events.on('*', (e) => void events.push(e));
  return { events, clear: () => void (events.length = 0), stop };
}

log(`Flint cluster bench (${quick ? 'quick' : 'full'}), ${cpus().length} CPUs, Node ${process.version}: ${WORKERS} flint worker processes of 1 core vs local[${WORKERS}]`);
const cluster: TestCluster = await startCluster({
  workers: WORKERS,
  cores: 1,
  nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`] : [],
});
const onCluster = await Flint.start({ master: cluster.url, token: cluster.token, appName: 'bench-cluster' });
const onLocal = await Flint.start({ master: `local[${WORKERS}]`, appName: 'bench-cluster-local' });
if (onCluster.defaultParallelism !== WORKERS) throw new Error(`the cluster lent ${onCluster.defaultParallelism} cores, expected ${WORKERS}`);

try {
  // -------------------------------------------------------------------------------------------
  if (want(1)) {
    const N = P.emptyTasks;
    log(`\n[1] empty tasks: ${N} per job`);
    // CPU time per task of every process involved: what the tasks cost, whatever else the shared
    // machine runs at the same time (wall-clock rates suffer from that; CPU time much less).
    const localCpu = new CpuMeter({ 'driver and its threads': ownCpuMs });
    const clusterCpu = new CpuMeter({
      driver: ownCpuMs,
      coordinator: () => processCpuMs(cluster.coordinator.child.pid!),
      ...Object.fromEntries(cluster.workers.map((w, i) => [`worker ${i + 1} and its thread`, () => processCpuMs(w.child.pid!)])),
    });
    let jobs = 0;
    const t = await interleaved(
      [
        { name: 'local', run: () => localCpu.measure(() => onLocal.parallelize([], N).foreachPartition(() => {})) },
        { name: 'cluster', run: () => (jobs++, clusterCpu.measure(() => onCluster.parallelize([], N).foreachPartition(() => {}))) },
      ],
      2,
      P.emptyRuns,
      log,
    );
    const perTask = (totals: Record<string, number>) => Object.fromEntries(Object.entries(totals).map(([k, ms]) => [k, +((ms * 1000) / (jobs * N)).toFixed(1)]));
    const cpu = { local: perTask(localCpu.totals), cluster: perTask(clusterCpu.totals) };
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    extra.emptyTaskCpuMicroseconds = { ...cpu, localTotal: +sum(cpu.local).toFixed(1), clusterTotal: +sum(cpu.cluster).toFixed(1) };
    log(`  CPU per task (µs): local[${WORKERS}] ${JSON.stringify(cpu.local)}; cluster ${JSON.stringify(cpu.cluster)}`);
    metrics.emptyTasksLocalPerSec = rateStat('tasks/s', N, t.local!);
    metrics.emptyTasksClusterPerSec = rateStat('tasks/s', N, t.cluster!);
    const ratio = metrics.emptyTasksClusterPerSec.median / metrics.emptyTasksLocalPerSec.median;
    targets.push({
      name: GOALS.emptyTasks.text,
      measured: `${fmt(metrics.emptyTasksClusterPerSec.median)} vs ${fmt(metrics.emptyTasksLocalPerSec.median)} tasks/s`,
      ratio,
      target: `≥ ${GOALS.emptyTasks.ratio}`,
      pass: ratio >= GOALS.emptyTasks.ratio,
    });
  }

  // -------------------------------------------------------------------------------------------
  if (want(2)) {
    log(`\n[2] built-in word count, D4: ${P.textBytes / 1e6} MB, Zipf(1) over 100,000 words`);
    // The same spec as D4 of bench:ops and section 5 of bench:engine: one cached file for all.
    const path = ensureText(join(benchDir, 'data'), { bytes: P.textBytes, seed: 4, vocabulary: 100_000, zipfS: 1 }, log);
    const results: Record<string, Array<{ distinct: number; total: number }>> = { local: [], cluster: [] };
    const operators = new Set<string>();
    const off = onCluster.events.on('taskEnd', (e) => e.metrics?.operators.forEach((o) => operators.add(o)));
    const count = (fl: Flint) => fl.textFile(path).flatMap(words).map(pairWith(1)).reduceByKey('sum').collect();
    const t = await interleaved(
      [
        { name: 'local', run: async () => void results.local!.push(sumOf(await count(onLocal))) },
        { name: 'cluster', run: async () => void results.cluster!.push(sumOf(await count(onCluster))) },
      ],
      1,
      P.wcRuns,
      log,
    );
    off();
    const all = [...results.local!, ...results.cluster!];
    if (!all.every((r) => r.distinct === all[0]!.distinct && r.total === all[0]!.total)) throw new Error(`word counts disagree: ${JSON.stringify(results)}`);
    if (!operators.has('wasm:wordScan')) throw new Error(`the cluster did not run the WebAssembly scan: ${[...operators].join(', ')}`);
    extra.wordCount = { file: relative(root, path), bytes: P.textBytes, distinctWords: all[0]!.distinct, totalWords: all[0]!.total, clusterOperators: [...operators].sort() };
    compareSpeed('wordCount', GOALS.wordCount, t);
  }

  // -------------------------------------------------------------------------------------------
  if (want(3)) {
    const M = P.shuffleRecords;
    log(`\n[3] reduceByKey with a lambda over ${M.toLocaleString('en-US')} records with distinct keys, 2 partitions`);
    const job = async (fl: Flint) => {
      const n = await fl
        .range(0, M, 1, 2)
        .map((i) => ['k' + (i % K), i] as [string, number], { env: { K: M } })
        .reduceByKey((a, b) => a + b, { numPartitions: 2 })
        .count();
      if (n !== M) throw new Error(`the shuffle counted ${n} keys, expected ${M}`);
    };
    const t = await interleaved(
      [
        { name: 'local', run: () => job(onLocal) },
        { name: 'cluster', run: () => job(onCluster) },
      ],
      1,
      P.shuffleRuns,
      log,
    );
    compareSpeed('shuffle', GOALS.shuffle, t);
  }

  // -------------------------------------------------------------------------------------------
  if (want(4)) {
    const perBlock = Math.max(1, Math.round(P.crossBlockBytes / CROSS_RECORD));
    log(`\n[4] shuffle between the two worker processes: 2 map tasks × 2 reduce partitions, blocks of ${perBlock} records of ${CROSS_RECORD / 1024} KiB`);
    const rec = recordEvents(onCluster);
    const mbps: number[] = [];
    const crossBytes: number[] = [];
    const job = async () => {
      const n = await onCluster
        .parallelize([0, 1], 2)
        .flatMap(
          () => {
            const out: Array<[number, Uint8Array]> = [];
            for (let r = 0; r < 2; r++) for (let i = 0; i < PER_BLOCK; i++) out.push([r, new Uint8Array(SIZE).fill(i & 255)]);
            return out;
          },
          { env: { SIZE: CROSS_RECORD, PER_BLOCK: perBlock } },
        )
        .partitionBy(2, (k: number) => k)
        .count();
      if (n !== 4 * perBlock) throw new Error(`the cross-worker shuffle counted ${n} records, expected ${4 * perBlock}`);
    };
    const raw: number[] = [];
    for (let r = 0; r < 1 + P.crossRuns; r++) {
      rec.clear();
      await job();
      await onCluster.events.delivered();
      const { bytes, ms } = crossingShuffle(rec.events);
      // The baseline moves the same bytes, in 1 MiB messages, between two bare processes.
      const rawMs = (await rawWebSocketTransfers(root, Math.max(1, Math.round(bytes / (1 << 20))), 1 << 20, 1))[0]!;
      const line = `${fmt(bytes / 1e6)} MB crossed in ${fmt(ms)} ms → ${fmt(bytes / 1e6 / (ms / 1000))} MB/s; bare ws: ${fmt(rawMs)} ms → ${fmt(bytes / 1e6 / (rawMs / 1000))} MB/s`;
      log(`  ${r === 0 ? 'warm-up' : `run ${r}/${P.crossRuns}`}: ${line}`);
      if (r === 0) continue;
      mbps.push(bytes / 1e6 / (ms / 1000));
      raw.push(bytes / 1e6 / (rawMs / 1000));
      crossBytes.push(bytes);
    }
    rec.stop();
    metrics.crossShuffleMBps = { ...stat('MB/s', mbps), note: 'bytes of shuffle blocks that crossed between the worker processes / the reduce stage time' };
    metrics.rawWebSocketMBps = { ...stat('MB/s', raw), note: 'the same bytes in 1 MiB messages from a bare ws server process to a bare ws client process' };
    extra.crossShuffle = { bytesCrossedPerRun: median(crossBytes), recordBytes: CROSS_RECORD, recordsPerBlock: perBlock };
    targets.push({
      name: 'shuffle between 2 worker processes (no goal; vs a bare WebSocket stream between 2 processes)',
      measured: `${fmt(metrics.crossShuffleMBps.median)} vs ${fmt(metrics.rawWebSocketMBps.median)} MB/s`,
      ratio: metrics.crossShuffleMBps.median / metrics.rawWebSocketMBps.median,
      target: '—',
      pass: true,
    });
  }

  // -------------------------------------------------------------------------------------------
  if (want(5)) {
    log(`\n[5] SIGKILL of a worker process whose executor runs a task, ${P.kills} times`);
    const seconds: number[] = [];
    for (let k = 0; k < P.kills; k++) seconds.push(await killAndTime(cluster, onCluster));
    metrics.lossDeclaredSeconds = { ...stat('s', seconds), note: 'from SIGKILL of the worker process to the driver’s executorRemoved event' };
    targets.push({
      name: GOALS.lossSeconds.text,
      measured: `${fmt(metrics.lossDeclaredSeconds.median)} s (max ${fmt(metrics.lossDeclaredSeconds.max)} s)`,
      ratio: metrics.lossDeclaredSeconds.median,
      target: `≤ ${GOALS.lossSeconds.max} s`,
      pass: metrics.lossDeclaredSeconds.max <= GOALS.lossSeconds.max,
    });
  }
} finally {
  await onLocal.stop();
  await onCluster.stop();
  await stopCluster(cluster, profileDir !== null);
}

/**
 * The bytes of the last job's shuffle blocks whose map task ran on another executor than the
 * reduce task that read them (every executor is its own process here), and the reduce stage's
 * time. Every map task writes the same bytes to each reduce partition (see section 4's job).
 */
function crossingShuffle(events: FlintEvent[]): { bytes: number; ms: number } {
  const submitted = events.filter((e): e is Extract<FlintEvent, { type: 'stageSubmitted' }> => e.type === 'stageSubmitted');
  const mapStage = submitted.find((s) => s.kind === 'shuffleMap')!;
  const resultStage = submitted.find((s) => s.kind === 'result')!;
  const ends = events.filter((e): e is Extract<FlintEvent, { type: 'taskEnd' }> => e.type === 'taskEnd' && e.status === 'success');
  const maps = ends.filter((e) => e.stageId === mapStage.stageId);
  const reduces = ends.filter((e) => e.stageId === resultStage.stageId);
  let bytes = 0;
  for (const r of reduces) for (const m of maps) if (m.executorId !== r.executorId) bytes += (m.metrics?.shuffleWriteBytes ?? 0) / resultStage.numTasks;
  const completed = events.find((e) => e.type === 'stageCompleted' && e.stageId === resultStage.stageId)!;
  return { bytes, ms: Math.max(1, completed.time - resultStage.time) };
}

/**
 * Adds a worker, waits until the application runs a task on its executor, SIGKILLs the worker's
 * process and returns the seconds until the driver declares the executor removed.
 */
async function killAndTime(c: TestCluster, fl: Flint): Promise<number> {
  const added = new Promise<string>((resolve) => {
    const off = fl.events.on('executorAdded', (e) => {
      off();
      resolve(e.executorId);
    });
  });
  const victimProc = await c.addWorker();
  const victim = await added;
  let killedAt = 0;
  const removed = new Promise<number>((resolve) => {
    const off = fl.events.on('executorRemoved', (e) => {
      if (e.executorId !== victim) return;
      off();
      resolve(e.time);
    });
  });
  const offStart = fl.events.on('taskStart', (e) => {
    if (e.executorId !== victim || killedAt) return;
    killedAt = -1;
    // Once the task surely runs there.
    setTimeout(() => {
      killedAt = Date.now();
      victimProc.child.kill('SIGKILL');
    }, 300);
  });
  const slices = fl.defaultParallelism;
  const sum = await fl
    .parallelize(
      Array.from({ length: slices }, (_, i) => i),
      slices,
    )
    .map(
      (x) => {
        const until = Date.now() + SPIN_MS;
        while (Date.now() < until);
        return x;
      },
      { env: { SPIN_MS: 1500 } },
    )
    .sum();
  offStart();
  if (sum !== (slices * (slices - 1)) / 2) throw new Error(`the job around the kill summed ${sum}`);
  const seconds = ((await removed) - killedAt) / 1000;
  log(`  kill ${seconds.toFixed(3)} s after SIGKILL: executor ${victim} removed; the job's answer is right`);
  await victimProc.exited;
  return seconds;
}

/** Stops the cluster; with profiles wanted, gently first so that every process writes its own. */
async function stopCluster(c: TestCluster, gently: boolean): Promise<void> {
  if (gently) {
    const within = (p: Promise<unknown>) => Promise.race([p, new Promise((r) => setTimeout(r, 10_000))]);
    for (const w of c.workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
    await within(Promise.all(c.workers.map((w) => w.exited)));
    c.coordinator.child.kill('SIGINT');
    await within(c.coordinator.exited);
  }
  await c.stop();
}

// ---------------------------------------------------------------------------------------------
const report = {
  bench: 'cluster',
  mode: quick ? 'quick' : 'full',
  machine: machineFacts(),
  setup: `flint serve and ${WORKERS} flint worker --cores 1 processes on 127.0.0.1, the driver in the bench process; baseline local[${WORKERS}] in the same process`,
  goals: GOALS,
  params: P,
  metrics,
  targets,
  extra,
};
const out = join(benchDir, 'results', 'cluster.json');
writeReport(out, report, only !== null);
log(`\n${metricsTable(metrics)}\n`);
log('| measurement | measured (medians) | ratio | goal | result |\n|---|---|---|---|---|');
for (const t of targets) log(`| ${t.name} | ${t.measured} | ${t.ratio.toFixed(2)} | ${t.target} | ${t.target === '—' ? '' : t.pass ? 'PASS' : 'MISS'} |`);
log(`\nload average at end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}; wrote ${relative(root, out)}`);
