/**
 * Engine benchmark: `npm run bench:engine [-- --quick]`.
 *
 * `--only 5` (or `--only 4,5`) runs only those sections. Measures, each against a baseline taken in the same run (contenders interleaved round by round so
 * that load changes on a shared machine hit both sides):
 *   1. scheduler throughput: empty tasks per second on local[2] vs piscina with 2 threads;
 *   2. tiny-job latency: `parallelize(range(100)).count()` on local[2], warm, vs one bare
 *      postMessage round trip to a worker_threads Worker;
 *   3. shuffle throughput of `reduceByKey` between 2 executors, MB/s of encoded records written;
 *   4. word count over a generated Zipf text on local[1] and local[2] vs a plain single-threaded
 *      Node word count (readFileSync + split + Map); all three must agree;
 *   5. the same word count on the WebAssembly operators: on D4 of bench:ops (100 MB, Zipf(1) over
 *      100,000 words), `textFile(D4).flatMap(words).map(pairWith(1)).reduceByKey('sum').collect()`
 *      on local[2] vs the plain script and vs the same job with JavaScript lambdas on local[2].
 *   lambda (`--only lambda`): what users' own functions cost (issue 11), each on local[2] against a
 *      plain single-threaded script in the same run: the lambda word count of D4, a lambda
 *      reduceByKey of 10M pairs over 100k keys, a sortBy of 2M random floats (and the process's
 *      peak memory for it, in a fresh process), and the first job of a fresh process vs the same
 *      job again (cold start). Writes its table between the lambda-bench markers in README.md.
 *      `--only sort` runs just its sortBy part (timing against the plain sort, sampling, peak memory).
 * Writes bench/results/engine.json and prints a table with the targets' ratios and PASS/MISS.
 */
import { Flint, pairWith, words } from 'flint';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { PingPong, piscinaEmptyTasks, plainWordCount, startPiscina, ThreadedPlainWordCount } from './lib/baselines.js';
import { machineFacts, metricsTable, textTable, updateReadmeSection, writeReport, type Target } from './lib/report.js';
import { fmt, interleaved, median, rateStat, stat, timeMs, type Stat } from './lib/stats.js';
import { lambdaReduceByKey, lambdaSortBy, lambdaWordCount, randomFloats, plainReduceByKey, plainSortBy, plainWordCount as plainWordCountSummary, type Summary } from './lib/lambda-jobs.js';
import { ensureText } from './lib/textgen.js';

const quick = process.argv.includes('--quick');
// `--only 4,5` runs just those sections (1-3 share one context, so they run together).
const onlyArg = process.argv.find((a) => a.startsWith('--only'));
const only = onlyArg ? (onlyArg.includes('=') ? onlyArg.split('=')[1]! : process.argv[process.argv.indexOf(onlyArg) + 1]!).split(',') : null;
const want = (...sections: Array<number | string>) => !only || sections.some((n) => only.includes(String(n)));
// `--lambda-jobs wc` (or `rbk`, or `wc,rbk`) runs only those jobs of the lambda section and reports
// their ratios, without the sort, memory and cold-start jobs or the section's table.
const lambdaJobsArg = process.argv.find((a) => a.startsWith('--lambda-jobs'));
const lambdaJobs = lambdaJobsArg
  ? (lambdaJobsArg.includes('=') ? lambdaJobsArg.split('=')[1]! : process.argv[process.argv.indexOf(lambdaJobsArg) + 1]!).split(',')
  : null;
// `--only sort` runs just the sortBy part of the lambda section (its timing, sampling and peak memory).
const sortOnly = !want('lambda') && want('sort');
const wantJob = (name: string) => !sortOnly && (!lambdaJobs || lambdaJobs.includes(name));
const root = join(dirname(process.argv[1]!), '..');
const benchDir = join(root, 'bench');
const log = (s: string) => console.log(s);

const P = quick
  ? { emptyTasks: 2000, emptyRuns: 5, pingsPerRound: 1000, tinyPerRound: 10, latencyRounds: 5, shuffleRecords: 200_000, shuffleRuns: 5, textBytes: 10_000_000, wcRuns: 5, wcWarmup: 1 }
  : { emptyTasks: 10_000, emptyRuns: 7, pingsPerRound: 2000, tinyPerRound: 20, latencyRounds: 7, shuffleRecords: 2_000_000, shuffleRuns: 5, textBytes: 100_000_000, wcRuns: 5, wcWarmup: 1 };
const THREADS = 2;

/** Bound inside closures through `{ env: { K } }`; declared for the type checker only. */
declare const K: number;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

const metrics: Record<string, Stat & { note?: string }> = {};
const targets: Target[] = [];
const extra: Record<string, unknown> = {};

// ---------------------------------------------------------------------------------------------
// 1 + 2: scheduler throughput and tiny-job latency on local[2], with piscina and ping-pong.
log(`Flint engine bench (${quick ? 'quick' : 'full'}), ${cpus().length} CPUs, Node ${process.version}`);
if (want(1, 2, 3)) {
  const fl = await Flint.start({ master: `local[${THREADS}]`, appName: 'bench-engine' });
  const pool = startPiscina(join(benchDir, 'piscina-noop.mjs'), THREADS);
  const N = P.emptyTasks;

  log(`\n[1] empty tasks: ${N} per run, ${THREADS} threads`);
  let flintTasksSeen = 0;
  const offTask = fl.events.on('taskEnd', () => void flintTasksSeen++);
  const t = await interleaved(
    [
      { name: 'piscina', run: () => piscinaEmptyTasks(pool, N) },
      { name: 'flint', run: () => fl.parallelize([], N).foreachPartition(() => {}) },
    ],
    2,
    P.emptyRuns,
    log,
  );
  offTask();
  metrics.piscinaEmptyTasksPerSec = rateStat('tasks/s', N, t.piscina!);
  metrics.flintEmptyTasksPerSec = rateStat('tasks/s', N, t.flint!);
  extra.flintEmptyTaskAttemptsPerJob = flintTasksSeen / (2 + P.emptyRuns);
  // Same workload through a different RDD: N empty range partitions, counted.
  const tr = await interleaved([{ name: 'flintRange', run: () => fl.range(0, 0, 1, N).count() }], 1, 3, log);
  metrics.flintEmptyRangeCountTasksPerSec = rateStat('tasks/s', N, tr.flintRange!);
  const ratio1 = metrics.flintEmptyTasksPerSec.median / metrics.piscinaEmptyTasksPerSec.median;
  targets.push({
    name: 'empty-task throughput ≥ 0.5 × piscina (2 threads)',
    measured: `${fmt(metrics.flintEmptyTasksPerSec.median)} vs ${fmt(metrics.piscinaEmptyTasksPerSec.median)} tasks/s`,
    ratio: ratio1,
    target: '≥ 0.5',
    pass: ratio1 >= 0.5,
  });

  log(`\n[2] tiny job latency vs bare postMessage round trip`);
  const pp = new PingPong();
  await pp.roundTrips(2000); // warm-up
  for (let i = 0; i < 20; i++) await fl.parallelize(range(100)).count(); // warm-up
  const rtts: number[] = [];
  const rttRounds: number[] = [];
  const tiny: number[] = [];
  for (let r = 0; r < P.latencyRounds; r++) {
    const rt = await pp.roundTrips(P.pingsPerRound);
    rtts.push(...rt);
    rttRounds.push(median(rt));
    const tj: number[] = [];
    for (let i = 0; i < P.tinyPerRound; i++) {
      let n = -1;
      tj.push(await timeMs(async () => (n = await fl.parallelize(range(100)).count())));
      if (n !== 100) throw new Error(`tiny job counted ${n}, expected 100`);
    }
    tiny.push(...tj);
    log(`  round ${r + 1}/${P.latencyRounds}: postMessage RTT median ${fmt(median(rt) * 1000)} µs, tiny job median ${fmt(median(tj))} ms`);
  }
  await pp.terminate();
  metrics.postMessageRoundTripMs = { ...stat('ms', rtts), runs: rttRounds, note: `median/min over ${rtts.length} sequential round trips; runs = per-round medians` };
  metrics.flintTinyJobMs = { ...stat('ms', tiny), note: `parallelize(range(100)).count() on local[${THREADS}] (${fl.defaultParallelism} tasks), warm` };
  const ratio2 = metrics.flintTinyJobMs.median / metrics.postMessageRoundTripMs.median;
  targets.push({
    name: 'tiny job ≤ 20 × postMessage round trip',
    measured: `${fmt(metrics.flintTinyJobMs.median)} ms vs ${fmt(metrics.postMessageRoundTripMs.median * 1000)} µs`,
    ratio: ratio2,
    target: '≤ 20',
    pass: ratio2 <= 20,
  });

  log(`\n[3] shuffle: reduceByKey over ${P.shuffleRecords.toLocaleString('en-US')} records with distinct keys, 2 partitions`);
  const M = P.shuffleRecords;
  let writeBytes = 0;
  let readBytes = 0;
  const shufflePlacement: Record<string, number> = {};
  const offShuffle = fl.events.on('taskEnd', (e) => {
    if (e.status !== 'success') return;
    shufflePlacement[e.executorId] = (shufflePlacement[e.executorId] ?? 0) + 1;
    writeBytes += e.metrics?.shuffleWriteBytes ?? 0;
    readBytes += e.metrics?.shuffleReadBytes ?? 0;
  });
  const shuffleMs: number[] = [];
  const shuffleMBps: number[] = [];
  const shuffleBytes: number[] = [];
  for (let r = 0; r < 1 + P.shuffleRuns; r++) {
    writeBytes = 0;
    readBytes = 0;
    let n = -1;
    const ms = await timeMs(async () => {
      n = await fl
        .range(0, M, 1, 2)
        .map((i) => ['k' + (i % K), i] as [string, number], { env: { K: M } })
        .reduceByKey((a, b) => a + b, { numPartitions: 2 })
        .count();
    });
    if (n !== M) throw new Error(`shuffle job counted ${n} keys, expected ${M}`);
    const mbps = writeBytes / 1e6 / (ms / 1000);
    log(`  ${r === 0 ? 'warm-up' : `run ${r}/${P.shuffleRuns}`}: ${fmt(ms)} ms, shuffle write ${fmt(writeBytes / 1e6)} MB (read ${fmt(readBytes / 1e6)} MB) → ${fmt(mbps)} MB/s`);
    if (r === 0) continue;
    shuffleMs.push(ms);
    shuffleMBps.push(mbps);
    shuffleBytes.push(writeBytes);
  }
  offShuffle();
  extra.shuffleTasksPerExecutor = shufflePlacement;
  log(`  shuffle tasks (map + reduce) per executor over all runs: ${JSON.stringify(shufflePlacement)}`);
  metrics.shuffleJobMs = stat('ms', shuffleMs);
  metrics.shuffleWriteMBps = { ...stat('MB/s', shuffleMBps), note: `shuffle write bytes (encoded records, ${fmt(median(shuffleBytes) / 1e6)} MB) / job time` };
  metrics.shuffleRecordsPerSec = rateStat('records/s', M, shuffleMs);

  await pool.destroy();
  await fl.stop();
}

// ---------------------------------------------------------------------------------------------
// 4: word count on local[1], local[2] and a plain single-threaded script.
if (want(4)) {
  log(`\n[4] word count over ${P.textBytes / 1e6} MB of generated text`);
  const path = ensureText(join(benchDir, 'data'), { bytes: P.textBytes, seed: 42, vocabulary: 50_000, zipfS: 1.05 }, log);
  const fl1 = await Flint.start({ master: 'local[1]', appName: 'bench-wc-1' });
  const fl2 = await Flint.start({ master: 'local[2]', appName: 'bench-wc-2' });
  const plain2 = new ThreadedPlainWordCount(2);
  const results: Record<string, Array<{ distinct: number; total: number }>> = { plain: [], local1: [], local2: [], plain2threads: [] };
  const flintCount = async (fl: Flint) => {
    const { n, check } = await lambdaWordCount(fl, path);
    return { distinct: n, total: check };
  };
  // Where the map tasks of local[2] ran: tasks per executor, over all word-count jobs on fl2.
  const placement: Record<string, number> = {};
  fl2.events.on('taskStart', (e) => void (placement[e.executorId] = (placement[e.executorId] ?? 0) + 1));
  const t = await interleaved(
    [
      { name: 'plain', run: () => void results.plain!.push(plainWordCount(path)) },
      { name: 'local1', run: async () => void results.local1!.push(await flintCount(fl1)) },
      { name: 'local2', run: async () => void results.local2!.push(await flintCount(fl2)) },
      { name: 'plain2threads', run: async () => void results.plain2threads!.push(await plain2.run(path)) },
    ],
    P.wcWarmup,
    P.wcRuns,
    log,
  );
  const all = Object.values(results).flat();
  const agree = all.every((r) => r.distinct === all[0]!.distinct && r.total === all[0]!.total);
  extra.wordCount = {
    file: relative(root, path),
    bytes: P.textBytes,
    distinctWords: all[0]!.distinct,
    totalWords: all[0]!.total,
    allRunsAgree: agree,
    partitions: { local1: fl1.textFile(path).getNumPartitions(), local2: fl2.textFile(path).getNumPartitions() },
    local2TasksPerExecutor: placement,
  };
  if (!agree) throw new Error(`word counts disagree: ${JSON.stringify(results)}`);
  log(`  local[2] tasks per executor over all word-count jobs: ${JSON.stringify(placement)}`);
  log(`  all ${all.length} runs agree: ${all[0]!.distinct} distinct words, ${all[0]!.total} words`);
  metrics.wordCountPlainMs = stat('ms', t.plain!);
  metrics.wordCountLocal1Ms = stat('ms', t.local1!);
  metrics.wordCountLocal2Ms = stat('ms', t.local2!);
  metrics.wordCountPlain2ThreadsMs = { ...stat('ms', t.plain2threads!), note: 'machine ceiling, not a target: the plain algorithm on 2 raw worker threads (half the file each), Maps merged' };
  metrics.wordCountPlainMBps = rateStat('MB/s', P.textBytes / 1e6, t.plain!);
  metrics.wordCountLocal1MBps = rateStat('MB/s', P.textBytes / 1e6, t.local1!);
  metrics.wordCountLocal2MBps = rateStat('MB/s', P.textBytes / 1e6, t.local2!);
  const speedup = metrics.wordCountLocal1Ms.median / metrics.wordCountLocal2Ms.median;
  extra.wordCountPlain2ThreadsSpeedup = metrics.wordCountPlainMs.median / metrics.wordCountPlain2ThreadsMs.median;
  extra.wordCountLocal1VsPlain = metrics.wordCountPlainMs.median / metrics.wordCountLocal1Ms.median;
  extra.wordCountLocal2VsPlain = metrics.wordCountPlainMs.median / metrics.wordCountLocal2Ms.median;
  targets.push({
    name: 'word count local[2] ≥ 1.7 × local[1]',
    measured: `${fmt(metrics.wordCountLocal2Ms.median)} ms vs ${fmt(metrics.wordCountLocal1Ms.median)} ms`,
    ratio: speedup,
    target: '≥ 1.7',
    pass: speedup >= 1.7,
  });
  await plain2.terminate();
  await fl1.stop();
  await fl2.stop();
}

// ---------------------------------------------------------------------------------------------
// 5: the word count on the WebAssembly operators (fused scan + hash aggregation + batch shuffle).
if (want(5)) {
  const bytes = quick ? 10_000_000 : 100_000_000;
  log(`\n[5] word count on the WebAssembly operators, D4: ${bytes / 1e6} MB, Zipf(1) over 100,000 words`);
  // The same spec as bench:ops D4, so both benches share one cached file.
  const path = ensureText(join(benchDir, 'data'), { bytes, seed: 4, vocabulary: 100_000, zipfS: 1 }, log);
  const fl = await Flint.start({ master: `local[${THREADS}]`, appName: 'bench-wc-wasm' });
  const operators = new Set<string>();
  fl.events.on('taskEnd', (e) => e.metrics?.operators.forEach((o) => operators.add(o)));
  const summary = (pairs: Array<[string, number]>) => {
    let total = 0;
    for (const [, n] of pairs) total += n;
    return { distinct: pairs.length, total };
  };
  const results: Record<string, Array<{ distinct: number; total: number }>> = { plain: [], lambdas: [], builtins: [] };
  const t = await interleaved(
    [
      { name: 'plain', run: () => void results.plain!.push(plainWordCount(path)) },
      {
        name: 'lambdas',
        run: async () =>
          void results.lambdas!.push(
            summary(await fl.textFile(path).flatMap((l) => l.split(/\s+/).filter((w) => w.length > 0)).map((w) => [w, 1] as [string, number]).reduceByKey((a, b) => a + b).collect()),
          ),
      },
      {
        name: 'builtins',
        run: async () => void results.builtins!.push(summary(await fl.textFile(path).flatMap(words).map(pairWith(1)).reduceByKey('sum').collect())),
      },
    ],
    P.wcWarmup,
    P.wcRuns,
    log,
  );
  const all = Object.values(results).flat();
  const agree = all.every((r) => r.distinct === all[0]!.distinct && r.total === all[0]!.total);
  if (!agree) throw new Error(`word counts disagree: ${JSON.stringify(results)}`);
  if (!operators.has('wasm:wordScan')) throw new Error(`the built-in job did not run on the WebAssembly scan: ${[...operators].join(', ')}`);
  log(`  all ${all.length} runs agree: ${all[0]!.distinct} distinct words, ${all[0]!.total} words; operators used: ${[...operators].sort().join(', ')}`);
  metrics.wasmWordCountPlainMs = stat('ms', t.plain!);
  metrics.wasmWordCountLambdasMs = stat('ms', t.lambdas!);
  metrics.wasmWordCountBuiltinsMs = stat('ms', t.builtins!);
  metrics.wasmWordCountBuiltinsMBps = rateStat('MB/s', bytes / 1e6, t.builtins!);
  const vsPlain = metrics.wasmWordCountPlainMs.median / metrics.wasmWordCountBuiltinsMs.median;
  const vsLambdas = metrics.wasmWordCountLambdasMs.median / metrics.wasmWordCountBuiltinsMs.median;
  extra.wasmWordCount = { file: relative(root, path), bytes, distinctWords: all[0]!.distinct, totalWords: all[0]!.total, operators: [...operators].sort() };
  targets.push({
    name: 'D4 word count, built-ins on local[2] ≥ 8 × plain script',
    measured: `${fmt(metrics.wasmWordCountBuiltinsMs.median)} ms vs ${fmt(metrics.wasmWordCountPlainMs.median)} ms`,
    ratio: vsPlain,
    target: '≥ 8',
    pass: vsPlain >= 8,
  });
  targets.push({
    name: 'D4 word count, built-ins ≥ 5 × lambdas (local[2])',
    measured: `${fmt(metrics.wasmWordCountBuiltinsMs.median)} ms vs ${fmt(metrics.wasmWordCountLambdasMs.median)} ms`,
    ratio: vsLambdas,
    target: '≥ 5',
    pass: vsLambdas >= 5,
  });
  await fl.stop();
}

// ---------------------------------------------------------------------------------------------
// lambda: users' own functions on local[2] against plain single-threaded scripts (issue 11).
let lambdaTable: string | null = null;
if (want('lambda') || sortOnly) {
  const L = quick ? { textBytes: 10_000_000, pairs: 1_000_000, floats: 200_000, runs: 3, coldRuns: 2 } : { textBytes: 100_000_000, pairs: 10_000_000, floats: 2_000_000, runs: 5, coldRuns: 3 };
  log(`\n[lambda] users' functions on local[${THREADS}] vs plain single-threaded scripts`);
  const path = sortOnly ? '' : ensureText(join(benchDir, 'data'), { bytes: L.textBytes, seed: 4, vocabulary: 100_000, zipfS: 1 }, log);
  const fl = await Flint.start({ master: `local[${THREADS}]`, appName: 'bench-lambda' });
  const agree = (what: string, rs: Summary[]) => {
    if (!rs.every((r) => r.n === rs[0]!.n && r.check === rs[0]!.check)) throw new Error(`${what}: results disagree: ${JSON.stringify(rs)}`);
    log(`  ${what}: all ${rs.length} runs agree (${JSON.stringify(rs[0])})`);
  };
  const res: Record<string, Summary[]> = { wcPlain: [], wcFlint: [], rbkPlain: [], rbkFlint: [], sortPlain: [], sortFlint: [] };
  const push = (k: string) => (s: Summary) => void res[k]!.push(s);

  const skipped: Record<string, number[]> = { plain: [0], flint: [0] };
  // Steady state, not the first jobs: a job's new closures deoptimize the stage code V8 optimized
  // for the last job's (--trace-deopt: "wrong call target") until its call sites have seen a few,
  // so a job's time keeps falling over its first ~4 runs in a process (the reduceByKey: 290, 170,
  // 150, 130, 120 ms). The first job of a process has a row of its own.
  const WARM_UPS = 3;
  if (wantJob('wc')) log(`  word count, ${L.textBytes / 1e6} MB (D4)`);
  const wc = !wantJob('wc') ? skipped : await interleaved(
    [
      { name: 'plain', run: () => push('wcPlain')(plainWordCountSummary(path)) },
      { name: 'flint', run: async () => push('wcFlint')(await lambdaWordCount(fl, path)) },
    ],
    WARM_UPS,
    L.runs,
    log,
  );
  if (wantJob('wc')) agree('word count', [...res.wcPlain!, ...res.wcFlint!]);

  if (wantJob('rbk')) log(`  reduceByKey((a, b) => a + b) of ${L.pairs.toLocaleString('en-US')} pairs [i % 100000, i]`);
  const rbk = !wantJob('rbk') ? skipped : await interleaved(
    [
      { name: 'plain', run: () => push('rbkPlain')(plainReduceByKey(L.pairs)) },
      { name: 'flint', run: async () => push('rbkFlint')(await lambdaReduceByKey(fl, L.pairs)) },
    ],
    WARM_UPS,
    L.runs,
    log,
  );
  if (wantJob('rbk')) agree('reduceByKey', [...res.rbkPlain!, ...res.rbkFlint!]);
  if (lambdaJobs) {
    for (const [name, job, r] of [['word count', 'wc', wc], ['reduceByKey', 'rbk', rbk]] as const) {
      if (!wantJob(job)) continue;
      log(`  ${name}: flint ${fmt(median(r.flint!))} ms, plain ${fmt(median(r.plain!))} ms, ratio ${fmt(median(r.plain!) / median(r.flint!))}× (per-round ratios ${r.plain!.map((p, i) => fmt(p / r.flint![i]!)).join(', ')})`);
    }
  }

  if (lambdaJobs) {
    await fl.stop();
  } else {
  log(`  sortBy(x => x) of ${L.floats.toLocaleString('en-US')} random floats`);
  // The jobs a sortBy runs: the range partitioner's sampling, then the sort itself.
  const jobStarts = new Map<number, number>();
  let sortJobs: number[] = [];
  const offStart = fl.events.on('jobStart', (e) => void jobStarts.set(e.jobId, e.time));
  const offEnd = fl.events.on('jobEnd', (e) => void sortJobs.push(e.time - (jobStarts.get(e.jobId) ?? e.time)));
  const samplingMs: number[] = [];
  const sort = await interleaved(
    [
      { name: 'plain', run: () => push('sortPlain')(plainSortBy(L.floats)) },
      {
        name: 'flint',
        run: async () => {
          sortJobs = [];
          push('sortFlint')(await lambdaSortBy(fl, L.floats));
          await new Promise((r) => setTimeout(r, 0));
          if (sortJobs.length > 1) samplingMs.push(sortJobs.slice(0, -1).reduce((a, b) => a + b, 0));
        },
      },
      { name: 'count', run: () => randomFloats(fl, L.floats).count() },
    ],
    WARM_UPS,
    L.runs,
    log,
  );
  offStart();
  offEnd();
  agree('sortBy', [...res.sortPlain!, ...res.sortFlint!]);
  await fl.stop();

  // Fresh processes: peak memory of the sort, and the first job vs the same job again.
  const child = (...args: string[]) => {
    const out = execFileSync(process.execPath, [join(root, 'scripts', 'run-ts.mjs'), join(benchDir, 'lambda-child.ts'), ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
    return JSON.parse(out.trim().split('\n').at(-1)!);
  };
  // Beside the sort, the same floats collected and counted without it: what the result alone and
  // the input alone take, alternating with the sort's runs.
  type MemoryRun = { peakOverBefore: number; peakRss: number; rssBefore: number; ms: number };
  const memJobs = ['sort', 'collect', 'count'] as const;
  const memRuns: Record<(typeof memJobs)[number], MemoryRun[]> = { sort: [], collect: [], count: [] };
  log(`  peak memory in a fresh process: the sortBy + collect, the floats' collect() alone, their count()`);
  for (let r = 0; r < (quick ? 1 : 3); r++) {
    for (const job of memJobs) {
      const m = child('memory', String(L.floats), job);
      log(`    run ${r + 1} ${job}: peak RSS ${fmt(m.peakRss / 1e6)} MB, ${fmt(m.peakOverBefore / 1e6)} MB over the ${fmt(m.rssBefore / 1e6)} MB before the job (${fmt(m.ms)} ms)`);
      memRuns[job].push(m);
    }
  }
  const mem = memRuns.sort;
  if (!sortOnly) log(`  cold start: the first job of a fresh process (textFile 10 MB, lambdas, reduceByKey, sortBy, take) vs the same job again`);
  const coldPath = sortOnly ? '' : ensureText(join(benchDir, 'data'), { bytes: 10_000_000, seed: 4, vocabulary: 100_000, zipfS: 1 }, log);
  const colds: Array<{ startMs: number; coldMs: number; warmMs: number[] }> = [];
  for (let r = 0; r < (sortOnly ? 0 : L.coldRuns); r++) {
    const c = child('cold', coldPath, '3');
    log(`    run ${r + 1}: Flint.start ${fmt(c.startMs)} ms, first job ${fmt(c.coldMs)} ms, again ${c.warmMs.map((x: number) => fmt(x)).join(', ')} ms`);
    colds.push(c);
  }

  metrics.lambdaWordCountPlainMs = stat('ms', wc.plain!);
  metrics.lambdaWordCountFlintMs = stat('ms', wc.flint!);
  metrics.lambdaReduceByKeyPlainMs = stat('ms', rbk.plain!);
  metrics.lambdaReduceByKeyFlintMs = stat('ms', rbk.flint!);
  metrics.lambdaSortByPlainMs = stat('ms', sort.plain!);
  metrics.lambdaSortByFlintMs = stat('ms', sort.flint!);
  metrics.lambdaSortBySamplingMs = { ...stat('ms', samplingMs.length ? samplingMs.slice(-L.runs) : [0]), note: 'the range partitioner sampling job(s) of each sortBy' };
  metrics.lambdaSortByInputCountMs = { ...stat('ms', sort.count!), note: 'count() of the RDD sortBy sorts' };
  metrics.lambdaSortByPeakRssOverMB = { ...stat('MB', mem.map((m) => m.peakOverBefore / 1e6)), note: 'fresh process: peak RSS during the sort job over RSS before it (driver + 2 executor threads)' };
  metrics.lambdaCollectPeakRssOverMB = { ...stat('MB', memRuns.collect.map((m) => m.peakOverBefore / 1e6)), note: "fresh process: the sort's input collected without the sort" };
  metrics.lambdaCountPeakRssOverMB = { ...stat('MB', memRuns.count.map((m) => m.peakOverBefore / 1e6)), note: "fresh process: the sort's input counted" };
  metrics.lambdaColdFirstJobMs = stat('ms', colds.map((c) => c.coldMs));
  metrics.lambdaWarmJobMs = stat('ms', colds.map((c) => median(c.warmMs)));
  metrics.lambdaStartMs = stat('ms', colds.map((c) => c.startMs));
  const encodedMB = (L.floats * 8) / 1e6;
  const rWc = metrics.lambdaWordCountPlainMs.median / metrics.lambdaWordCountFlintMs.median;
  const rRbk = metrics.lambdaReduceByKeyPlainMs.median / metrics.lambdaReduceByKeyFlintMs.median;
  const rSort = metrics.lambdaSortByPlainMs.median / metrics.lambdaSortByFlintMs.median;
  const rMem = metrics.lambdaSortByPeakRssOverMB.median / encodedMB;
  const rCold = median(colds.map((c) => c.coldMs / median(c.warmMs)));
  const rSample = metrics.lambdaSortBySamplingMs.median / metrics.lambdaSortByInputCountMs.median;
  const lt: Target[] = [
    { name: `lambda word count (${L.textBytes / 1e6} MB) ≥ 3 × plain script`, measured: `${fmt(metrics.lambdaWordCountFlintMs.median)} ms vs ${fmt(metrics.lambdaWordCountPlainMs.median)} ms`, ratio: rWc, target: '≥ 3', pass: rWc >= 3 },
    { name: `lambda reduceByKey (${L.pairs / 1e6}M pairs) ≥ 2 × plain Map loop`, measured: `${fmt(metrics.lambdaReduceByKeyFlintMs.median)} ms vs ${fmt(metrics.lambdaReduceByKeyPlainMs.median)} ms`, ratio: rRbk, target: '≥ 2', pass: rRbk >= 2 },
    { name: `sortBy (${L.floats / 1e6}M floats) ≥ 1 × plain Float64Array sort`, measured: `${fmt(metrics.lambdaSortByFlintMs.median)} ms vs ${fmt(metrics.lambdaSortByPlainMs.median)} ms`, ratio: rSort, target: '≥ 1', pass: rSort >= 1 },
    { name: `sortBy peak memory ≤ 2 × encoded data (${fmt(encodedMB)} MB of f64)`, measured: `${fmt(metrics.lambdaSortByPeakRssOverMB.median)} MB`, ratio: rMem, target: '≤ 2', pass: rMem <= 2 },
    { name: 'first job of a fresh process ≤ 1.3 × warm', measured: `${fmt(metrics.lambdaColdFirstJobMs.median)} ms vs ${fmt(metrics.lambdaWarmJobMs.median)} ms`, ratio: rCold, target: '≤ 1.3', pass: rCold <= 1.3 },
  ];
  if (sortOnly) {
    for (const k of ['lambdaWordCountPlainMs', 'lambdaWordCountFlintMs', 'lambdaReduceByKeyPlainMs', 'lambdaReduceByKeyFlintMs', 'lambdaColdFirstJobMs', 'lambdaWarmJobMs', 'lambdaStartMs']) delete metrics[k];
  }
  targets.push(...(sortOnly ? lt.filter((t) => t.name.startsWith('sortBy')) : lt));
  extra.lambda = { textFile: relative(root, path), sortSamplingVsCount: rSample, memory: memRuns, cold: colds };
  log(`  sortBy's sampling job(s): ${fmt(metrics.lambdaSortBySamplingMs.median)} ms, a count() of its input ${fmt(metrics.lambdaSortByInputCountMs.median)} ms (${fmt(rSample)}×)`);
  const s = (ms: number) => `${(ms / 1000).toFixed(ms < 1000 ? 3 : 2)} s`;
  if (!sortOnly) lambdaTable = [
    '| job (local[2]) | Flint | plain single-threaded script | ratio | goal |',
    '|---|---|---|---|---|',
    `| word count with lambdas (\`split(/\\s+/)\`, \`reduceByKey((a, b) => a + b)\`) over D4 (${L.textBytes / 1e6} MB) | ${s(metrics.lambdaWordCountFlintMs.median)} | \`split\` + \`Map\`: ${s(metrics.lambdaWordCountPlainMs.median)} | ${rWc.toFixed(2)}× | ≥ 3× |`,
    `| \`reduceByKey((a, b) => a + b)\` of ${L.pairs.toLocaleString('en-US')} pairs \`[i % 100000, i]\` | ${s(metrics.lambdaReduceByKeyFlintMs.median)} | \`Map\` loop: ${s(metrics.lambdaReduceByKeyPlainMs.median)} | ${rRbk.toFixed(2)}× | ≥ 2× |`,
    `| \`sortBy(x => x)\` of ${L.floats.toLocaleString('en-US')} random floats, \`collect()\` | ${s(metrics.lambdaSortByFlintMs.median)} | build + sort a \`Float64Array\`: ${s(metrics.lambdaSortByPlainMs.median)} | ${rSort.toFixed(2)}× | ≥ 1× |`,
    `| its peak memory (fresh process, resident set over before the job) | ${fmt(metrics.lambdaSortByPeakRssOverMB.median)} MB | the floats as f64: ${fmt(encodedMB)} MB | ${rMem.toFixed(2)}× | ≤ 2× |`,
    `| beside it: the same floats' \`collect()\` alone, their \`count()\` | ${fmt(metrics.lambdaCollectPeakRssOverMB.median)} MB, ${fmt(metrics.lambdaCountPeakRssOverMB.median)} MB | the floats as f64: ${fmt(encodedMB)} MB | ${(metrics.lambdaCollectPeakRssOverMB.median / encodedMB).toFixed(2)}×, ${(metrics.lambdaCountPeakRssOverMB.median / encodedMB).toFixed(2)}× | |`,
    `| its range partitioner's sampling | ${s(metrics.lambdaSortBySamplingMs.median)} | \`count()\` of its input: ${s(metrics.lambdaSortByInputCountMs.median)} | ${rSample.toFixed(2)}× | ≈ 1× |`,
    `| first job of a fresh process (10 MB text, lambdas, \`reduceByKey\`, \`sortBy\`, \`take\`) | ${s(metrics.lambdaColdFirstJobMs.median)} | the same job again: ${s(metrics.lambdaWarmJobMs.median)} | ${rCold.toFixed(2)}× | ≤ 1.3× |`,
    '',
    `Medians of ${L.runs} runs (${L.coldRuns} fresh processes for the first job), ${new Date().toISOString().slice(0, 10)}, load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}.`,
  ].join('\n');
  if (lambdaTable) log(`\n${lambdaTable}`);
  }
}

// ---------------------------------------------------------------------------------------------
const report = {
  bench: 'engine',
  mode: quick ? 'quick' : 'full',
  machine: machineFacts(),
  params: P,
  metrics,
  targets,
  extra,
};
const out = join(benchDir, 'results', 'engine.json');
writeReport(out, report, only !== null);
log(`\n${metricsTable(metrics)}\n`);
const trows: string[][] = [['target', 'measured (medians)', 'ratio', 'goal', 'result']];
for (const t of targets) trows.push([t.name, t.measured, t.ratio.toFixed(2), t.target, t.pass ? 'PASS' : 'MISS']);
log(textTable(trows));
if (want(4)) {
  log(`\nword count: local[1] ${fmt(extra.wordCountLocal1VsPlain as number)}× and local[2] ${fmt(extra.wordCountLocal2VsPlain as number)}× the speed of the plain script`);
  log(`machine ceiling: the plain word count on 2 raw threads ran ${fmt(extra.wordCountPlain2ThreadsSpeedup as number)}× the 1-thread plain script (load average at end: ${loadavg().map((x) => x.toFixed(1)).join(' ')})`);
}
if (lambdaTable && !quick) {
  const readme = join(root, 'README.md');
  if (updateReadmeSection(readme, 'lambda-bench', lambdaTable)) log(`updated the lambda table in ${relative(root, readme)}`);
}
log(`wrote ${relative(root, out)}`);
