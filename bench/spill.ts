/**
 * Larger-than-memory bench: `npm run bench:spill [-- --quick]` (about 20 minutes; --quick: a tenth).
 *
 * 1. Timed, same data, same run, contenders interleaved round by round on local[2] and DuckDB with 2
 *    threads, every answer checked against arithmetic:
 *    - aggregation: a CSV of 20M lines `k<i mod N>,<i>` (N = 10M distinct keys), summed per key;
 *    - sort: a CSV of 20M lines `<7919·i mod M>,<i>` (a permutation of 0..M-1), sorted by key.
 *    Flint runs unbounded (its default budget), then with `executorMemoryMb` a quarter of what the
 *    unbounded run needed (its tasks' peak execution memory); DuckDB runs with its default memory
 *    limit and with `memory_limit` set to the same budget (both executors' together).
 * 2. Issue 12's other jobs at full size (a lambda reduceByKey over 10M keys, groupByKey with 5M values
 *    under one key, a join of two 5M-record RDDs, persist(MEMORY_AND_DISK) four times the cache
 *    memory), each unbounded and at a quarter of its need: right answers, no failed task, spills.
 *
 * Writes bench/results/spill.json and the table between the spill-bench markers in README.md.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Flint } from 'flint';
import { groupJob, joinJob, lambdaJob, persistJob, runJob, sortSummary, type JobRun, type SortSummary, type SpillJob } from './lib/spill-jobs.js';
import { fmt, median, stat, type Stat } from './lib/stats.js';
import { updateReadmeSection } from './lib/report.js';

const quick = process.argv.includes('--quick');
const root = join(dirname(process.argv[1]!), '..');
const benchDir = join(root, 'bench');
const dataDir = join(benchDir, 'data');
const spillRoot = join(dataDir, 'spill-bench');
const log = (s: string) => console.log(s);
const MB = 1024 * 1024;

const P = quick
  ? { keys: 1_000_000, sortRecords: 2_000_000, lambdaKeys: 1_000_000, hot: 500_000, joined: 500_000, persistLines: 400_000, runs: 3 }
  : { keys: 10_000_000, sortRecords: 20_000_000, lambdaKeys: 10_000_000, hot: 5_000_000, joined: 5_000_000, persistLines: 4_000_000, runs: 3 };

/** Writes `lines` lines made by `line(i)` once; reused while it exists. */
function ensureCsv(name: string, lines: number, line: (i: number) => string): string {
  const path = join(dataDir, name);
  if (existsSync(path) && statSync(path).size > 0) return path;
  mkdirSync(dataDir, { recursive: true });
  const t0 = Date.now();
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  let chunk = '';
  for (let i = 0; i < lines; i++) {
    chunk += line(i) + '\n';
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  writeSync(fd, chunk);
  closeSync(fd);
  renameSync(tmp, path);
  log(`  wrote ${relative(root, path)} (${fmt(statSync(path).size / 1e6)} MB) in ${fmt((Date.now() - t0) / 1000)} s`);
  return path;
}

const KEYS = P.keys;
const RECORDS = P.sortRecords;
/** Bound inside closures through `env`; declared for the type checker only (see spill-jobs.ts). */
declare const N: number;
const aggCsv = ensureCsv(`spill-agg-${KEYS}.csv`, 2 * KEYS, (i) => `k${i % KEYS},${i}`);
const sortCsv = ensureCsv(`spill-sort-${RECORDS}.csv`, RECORDS, (i) => `${(i * 7919) % RECORDS},${i}`);

// ---- the two timed jobs, in Flint and in DuckDB ------------------------------------------------

const flintAgg = (fl: Flint): Promise<Map<boolean, number>> =>
  fl
    .textFile(aggCsv)
    .map((line) => {
      const c = line.indexOf(',');
      return [line.slice(0, c), Number(line.slice(c + 1))] as [string, number];
    })
    .reduceByKey('sum')
    .map(([k, s]) => s === 2 * Number(k.slice(1)) + N, { env: { N: KEYS } })
    .countByValue();

const flintSort = (fl: Flint): Promise<SortSummary> =>
  sortSummary(
    fl
      .textFile(sortCsv)
      .map((line) => {
        const c = line.indexOf(',');
        return [Number(line.slice(0, c)), Number(line.slice(c + 1))] as [number, number];
      })
      .sortByKey(),
    RECORDS,
  );

const csv = (path: string, types: string) => `read_csv('${path}', header = false, delim = ',', columns = ${types})`;
const duckAggSql =
  `SELECT count(*) AS n, count(*) FILTER (WHERE s = 2 * CAST(substr(k, 2) AS BIGINT) + ${KEYS}) AS ok ` +
  `FROM (SELECT k, sum(v) AS s FROM ${csv(aggCsv, "{'k': 'VARCHAR', 'v': 'BIGINT'}")} GROUP BY k)`;
// The row number of a key in key order must be the key itself (the keys are 0..M-1): a full sort.
const duckSortSql =
  `SELECT count(*) AS n, count(*) FILTER (WHERE r - 1 = k AND (v * 7919) % ${RECORDS} = k) AS ok ` +
  `FROM (SELECT k, v, row_number() OVER (ORDER BY k) AS r FROM ${csv(sortCsv, "{'k': 'BIGINT', 'v': 'BIGINT'}")})`;

async function duck(memoryLimitMb: number | null) {
  const tmp = join(spillRoot, `duckdb-${memoryLimitMb ?? 'default'}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  // DuckDB's own advice for work larger than memory: no insertion order to keep.
  const options: Record<string, string> = { threads: '2', temp_directory: tmp, preserve_insertion_order: 'false' };
  if (memoryLimitMb !== null) options.memory_limit = `${Math.round(memoryLimitMb)}MB`;
  const instance = await DuckDBInstance.create(':memory:', options);
  const con = await instance.connect();
  const limit = (await con.runAndReadAll("SELECT current_setting('memory_limit') AS m")).getRowObjects()[0]!.m as string;
  return {
    limit,
    async query(sql: string): Promise<{ n: number; ok: number }> {
      const row = (await con.runAndReadAll(sql)).getRowObjects()[0]!;
      return { n: Number(row.n), ok: Number(row.ok) };
    },
    close() {
      con.closeSync();
      instance.closeSync();
    },
  };
}

interface Timed {
  name: string;
  flintUnboundedMs: Stat;
  flintBoundedMs: Stat;
  duckUnboundedMs: Stat;
  duckBoundedMs: Stat | null;
  /** What DuckDB said when it could not run at the bounded limit. */
  duckBoundedError: string | null;
  needMb: number;
  budgetMb: number;
  duckLimitBounded: string;
  duckLimitUnbounded: string;
  flintSpilledMb: number;
  flintBoundedPeakMb: number;
}

function check<T>(what: string, got: T, want: T): void {
  const a = JSON.stringify(got instanceof Map ? [...got] : got);
  const b = JSON.stringify(want instanceof Map ? [...want] : want);
  if (a !== b) throw new Error(`${what}: wrong answer ${a}, expected ${b}`);
}

async function timed<T>(name: string, flintJob: (fl: Flint) => Promise<T>, want: T, sql: string, duckWant: { n: number; ok: number }): Promise<Timed> {
  log(`\n[${name}]`);
  // The first unbounded run is the warm-up, and tells what the job needs.
  const first = await runJob(flintJob, join(spillRoot, `${name}-need`));
  check(`${name} (Flint, unbounded)`, first.answer, want);
  const needMb = first.peak / MB;
  const budgetMb = needMb / 4;
  log(`  needs ${fmt(needMb)} MB per executor (peak execution memory, unbounded run of ${fmt(first.ms / 1000)} s); the bounded runs get ${fmt(budgetMb)} MB each`);
  const duckFree = await duck(null);
  const duckBound = await duck(2 * budgetMb);
  const ms: Record<string, number[]> = { flintUnbounded: [], flintBounded: [], duckUnbounded: [], duckBounded: [] };
  let spilled = 0;
  let peak = 0;
  let duckBoundedError: string | null = null;
  try {
    await duckFree.query(sql);
    for (let r = 0; r < P.runs; r++) {
      const free = await runJob(flintJob, join(spillRoot, `${name}-unbounded`));
      check(`${name} (Flint, unbounded)`, free.answer, want);
      ms.flintUnbounded!.push(free.ms);
      const bound: JobRun<T> = await runJob(flintJob, join(spillRoot, `${name}-bounded`), { executorMemoryMb: budgetMb });
      check(`${name} (Flint, bounded)`, bound.answer, want);
      if (bound.ends.some((e) => e.status !== 'success')) throw new Error(`${name}: a bounded task failed: ${bound.ends.find((e) => e.status !== 'success')!.error}`);
      ms.flintBounded!.push(bound.ms);
      spilled = bound.spilledToDisk;
      peak = bound.peak;
      for (const [key, db] of [['duckUnbounded', duckFree], ['duckBounded', duckBound]] as const) {
        if (key === 'duckBounded' && duckBoundedError) continue;
        const t0 = performance.now();
        try {
          const got = await db.query(sql);
          ms[key]!.push(performance.now() - t0);
          check(`${name} (DuckDB ${key})`, got, duckWant);
        } catch (err) {
          // DuckDB refusing to run at this limit is a result, reported as such.
          if (key !== 'duckBounded' || !/Out of Memory/i.test(String(err))) throw err;
          duckBoundedError = String((err as Error).message ?? err).split('\n')[0]!;
        }
      }
      const duckBoundedShown = duckBoundedError ? `failed (${duckBoundedError})` : `${fmt(ms.duckBounded!.at(-1)! / 1000)} s`;
      log(`  round ${r + 1}/${P.runs}: Flint ${fmt(free.ms / 1000)} s unbounded, ${fmt(bound.ms / 1000)} s bounded (spilled ${fmt(bound.spilledToDisk / 1e6)} MB); ` +
        `DuckDB ${fmt(ms.duckUnbounded!.at(-1)! / 1000)} s unbounded, at ${duckBound.limit}: ${duckBoundedShown}`);
    }
  } finally {
    duckFree.close();
    duckBound.close();
  }
  return {
    name,
    flintUnboundedMs: stat('ms', ms.flintUnbounded!),
    flintBoundedMs: stat('ms', ms.flintBounded!),
    duckUnboundedMs: stat('ms', ms.duckUnbounded!),
    duckBoundedMs: ms.duckBounded!.length > 0 ? stat('ms', ms.duckBounded!) : null,
    duckBoundedError,
    needMb,
    budgetMb,
    duckLimitBounded: duckBound.limit,
    duckLimitUnbounded: duckFree.limit,
    flintSpilledMb: spilled / 1e6,
    flintBoundedPeakMb: peak / MB,
  };
}

log(`Flint spill bench (${quick ? 'quick' : 'full'}), ${cpus().length} CPUs, Node ${process.version}`);
const aggregation = await timed(`aggregation over ${KEYS.toLocaleString('en')} distinct keys`, flintAgg, new Map([[true, KEYS]]), duckAggSql, { n: KEYS, ok: KEYS });
const sort = await timed(`sort of ${RECORDS.toLocaleString('en')} records`, flintSort, { count: RECORDS, inOrder: true, consistent: true }, duckSortSql, { n: RECORDS, ok: RECORDS });

// ---- issue 12's other jobs at full size -------------------------------------------------------

interface Checked {
  name: string;
  /** The budget is cacheMemoryMb (persist), not executorMemoryMb. */
  cache: boolean;
  unboundedMs: number;
  boundedMs: number;
  needMb: number;
  budgetMb: number;
  spilledMb: number;
  boundedPeakMb: number;
}

async function atAQuarter<T>(job: SpillJob<T>, tag: string, memory: 'execution' | 'cache' = 'execution'): Promise<Checked> {
  log(`\n[${job.name}]`);
  const free = await runJob(job, join(spillRoot, `${tag}-unbounded`));
  check(`${job.name} (unbounded)`, free.answer, job.expected);
  // Execution memory for the shuffles; for persist, the blocks' size over the two executors.
  const needMb = memory === 'execution' ? free.peak / MB : free.cached / 2 / MB;
  const budgetMb = needMb / 4;
  const bound = await runJob(job, join(spillRoot, `${tag}-bounded`), memory === 'execution' ? { executorMemoryMb: budgetMb } : { cacheMemoryMb: budgetMb });
  check(`${job.name} (bounded)`, bound.answer, job.expected);
  const failed = bound.ends.filter((e) => e.status !== 'success');
  if (failed.length > 0) throw new Error(`${job.name}: ${failed.length} bounded tasks failed: ${failed[0]!.error}`);
  if (bound.filesAfterStop.length > 0) throw new Error(`${job.name}: files left after stop: ${bound.filesAfterStop.join(', ')}`);
  const spilledMb = bound.spilledToDisk / 1e6;
  log(`  right answers; unbounded ${fmt(free.ms / 1000)} s needing ${fmt(needMb)} MB, bounded to ${fmt(budgetMb)} MB ${fmt(bound.ms / 1000)} s (spilled ${fmt(spilledMb)} MB)`);
  return { name: job.name, cache: memory === 'cache', unboundedMs: free.ms, boundedMs: bound.ms, needMb, budgetMb, spilledMb, boundedPeakMb: bound.peak / MB };
}

const persistPath = ensureCsv(`spill-lines-${P.persistLines}.txt`, P.persistLines, (i) => `line ${i}`);
const others: Checked[] = [];
others.push(await atAQuarter(lambdaJob(P.lambdaKeys), 'lambda'));
others.push(await atAQuarter(groupJob(P.hot), 'group'));
others.push(await atAQuarter(joinJob(P.joined), 'join'));
others.push(await atAQuarter(persistJob(persistPath, P.persistLines), 'persist', 'cache'));
rmSync(spillRoot, { recursive: true, force: true });

// ---- report -----------------------------------------------------------------------------------

const targets = [aggregation, sort].map((t) => {
  const ratio = t.flintBoundedMs.median / t.flintUnboundedMs.median;
  return { name: `${t.name}: bounded ≤ 3 × unbounded`, ratio, target: '≤ 3', pass: ratio <= 3 };
});
const report = {
  bench: 'spill',
  mode: quick ? 'quick' : 'full',
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    totalMemGiB: +(totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    date: new Date().toISOString(),
    loadavgAtEnd: loadavg().map((x) => +x.toFixed(2)),
  },
  params: { ...P, executors: 'local[2]', duckdbThreads: 2, duckdb: JSON.parse(readFileSync(join(root, 'node_modules', '@duckdb', 'node-api', 'package.json'), 'utf8')).version },
  timed: [aggregation, sort],
  others,
  targets,
};
mkdirSync(join(benchDir, 'results'), { recursive: true });
const out = join(benchDir, 'results', 'spill.json');
writeFileSync(out, JSON.stringify(report, null, 2) + '\n');

const s = (ms: number) => `${fmt(ms / 1000)} s`;
const rows = [
  '| job (local[2]; DuckDB 2 threads) | Flint unbounded | Flint at ¼ of its need | bounded / unbounded (goal ≤ 3) | DuckDB default limit | DuckDB at the same budget |',
  '|---|---|---|---|---|---|',
  ...[aggregation, sort].map(
    (t) =>
      `| ${t.name} (needs ${fmt(t.needMb)} MB per executor) | ${s(t.flintUnboundedMs.median)} | ${s(t.flintBoundedMs.median)} (${fmt(t.budgetMb)} MB each, ${fmt(t.flintSpilledMb)} MB spilled) | ` +
      `${(t.flintBoundedMs.median / t.flintUnboundedMs.median).toFixed(2)} | ${s(t.duckUnboundedMs.median)} | ` +
      `${t.duckBoundedMs ? `${s(t.duckBoundedMs.median)} (memory_limit ${t.duckLimitBounded})` : `refused: out of memory at memory_limit ${t.duckLimitBounded}`} |`,
  ),
  ...others.map((o) =>
    o.cache
      ? `| ${o.name} (its blocks take ${fmt(o.needMb)} MB per executor) | ${s(o.unboundedMs)} | ${s(o.boundedMs)} (cacheMemoryMb ${fmt(o.budgetMb)}: three quarters read back from disk) | ${(o.boundedMs / o.unboundedMs).toFixed(2)} | | |`
      : `| ${o.name} (needs ${fmt(o.needMb)} MB per executor) | ${s(o.unboundedMs)} | ${s(o.boundedMs)} (${fmt(o.budgetMb)} MB each, ${fmt(o.spilledMb)} MB spilled) | ${(o.boundedMs / o.unboundedMs).toFixed(2)} | | |`,
  ),
];
const table = rows.join('\n');
log(`\n${table}\n`);
for (const t of targets) log(`${t.pass ? 'PASS' : 'MISS'} ${t.name}: ${t.ratio.toFixed(2)}`);
if (!quick) {
  const readme = join(root, 'README.md');
  const note = `Medians of ${P.runs} runs (${report.machine.date.slice(0, 10)}, load average at the end ${report.machine.loadavgAtEnd.join(' ')}); Flint's other jobs ran once each way.`;
  if (updateReadmeSection(readme, 'spill-bench', `${table}\n\n${note}`)) log(`updated the table in ${relative(root, readme)}`);
}
log(`wrote ${relative(root, out)} (median of medians: ${fmt(median([aggregation, sort].map((t) => t.flintBoundedMs.median / t.flintUnboundedMs.median)))})`);
