/**
 * The `flint` command. `flint run <job>` compiles and runs a job file with progress bars and a
 * summary; a failing job exits with status 1 and a readable message (the user's own stack).
 */
import { cac } from 'cac';
import { createRequire } from 'node:module';
import type { Flint } from '../api/context.js';
import { FlintError } from '../errors.js';
import { compileJob } from './compile-job.js';
import { formatBytes, ProgressReporter } from './progress.js';

const CLI_HOOK = Symbol.for('flint.cli');
// Job bundles carry inline source maps: stacks and stage names then point at the user's own file.
process.setSourceMapsEnabled(true);
const version = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

const cli = cac('flint');

cli
  .command('run <job> [...args]', 'Run a job file (.ts, .mts, .js or .mjs); arguments after -- go to the job')
  .option('--master <master>', "Executors: 'local', 'local[N]' or 'local[*]' (overrides the job's own setting)")
  .option('--no-progress', 'Do not show progress bars (the summary is still printed)')
  .example('flint run examples/wordcount.ts --master local[2] -- data/sample.txt')
  .action(async (job: string, args: string[], options: { master?: string; progress?: boolean; '--'?: string[] }) => {
    process.exitCode = await runJob(job, [...args, ...(options['--'] ?? [])], options);
  });

cli.help();
cli.version(version);
// cac gives a negated flag the default `true` and prints "(default: true)" beside "Do not show...".
for (const command of cli.commands) for (const o of command.options) if (o.negated) o.config.default = undefined;

/** Flags are Flint's up to `--`; cac would only name an unknown one camel-cased (--bogusFlag). */
function unknownFlag(argv: string[]): string | null {
  const known = new Set<string>();
  for (const command of [cli.globalCommand, ...cli.commands]) {
    for (const o of command.options) {
      for (const flag of o.rawName.match(/--?[\w-]+/g) ?? []) known.add(flag.replace(/^--no-/, '--'));
    }
  }
  for (const arg of argv) {
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') continue;
    const flag = arg.split('=', 1)[0]!;
    if (!known.has(flag.replace(/^--no-/, '--'))) return flag;
  }
  return null;
}

async function runJob(job: string, args: string[], options: { master?: string; progress?: boolean }): Promise<number> {
  const started = Date.now();
  const contexts: Flint[] = [];
  // The reporter always counts, for the summary; --no-progress only hides the bars.
  const reporter = new ProgressReporter(options.progress !== false);
  (globalThis as Record<symbol, unknown>)[CLI_HOOK] = {
    master: options.master,
    onStart: (fl: Flint) => {
      contexts.push(fl);
      reporter.attach(fl);
    },
  };
  let compiled: Awaited<ReturnType<typeof compileJob>> | null = null;
  let status = 0;
  try {
    compiled = await compileJob(job);
    process.argv = [process.argv[0]!, job, ...args];
    await import(compiled.url);
  } catch (err) {
    status = 1;
    reporter.stop();
    printFailure(err);
  } finally {
    compiled?.cleanup();
    for (const fl of contexts) await fl.stop().catch(() => undefined);
  }
  reporter.stop();
  const s = reporter.summary;
  if (contexts.length > 0) {
    process.stderr.write(
      `flint: ${s.jobs} job${s.jobs === 1 ? '' : 's'}${s.failedJobs ? ` (${s.failedJobs} failed)` : ''}, ` +
        `${s.stages} stage${s.stages === 1 ? '' : 's'}${s.skippedStages ? ` (+${s.skippedStages} skipped)` : ''}, ` +
        `${s.tasks} task${s.tasks === 1 ? '' : 's'}${s.failedTasks ? ` (${s.failedTasks} failed)` : ''}, ` +
        `shuffle ${formatBytes(s.shuffleBytes)}, ${((Date.now() - started) / 1000).toFixed(2)} s\n`,
    );
  }
  return status;
}

function printFailure(err: unknown): void {
  const e = err as Error & { code?: string; cause?: unknown };
  const code = e instanceof FlintError || typeof e?.code === 'string' ? `${e.code}: ` : '';
  process.stderr.write(`\nflint: job failed: ${code}${e?.message ?? String(err)}\n`);
  let cause: unknown = e?.cause;
  if (cause instanceof Error) {
    while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
    process.stderr.write(`\ncaused by ${(cause as Error).stack ?? String(cause)}\n`);
  } else if (!(e instanceof FlintError) && e?.stack) {
    process.stderr.write(`\n${e.stack}\n`);
  }
}

try {
  const unknown = unknownFlag(process.argv.slice(2));
  if (unknown) throw new Error(`unknown option ${unknown} (see flint --help)`);
  cli.parse(process.argv, { run: false });
  if (!cli.matchedCommand && !cli.options.help && !cli.options.version) {
    if (cli.args.length > 0) {
      process.stderr.write(`flint: unknown command "${cli.args[0]}"\n`);
      cli.outputHelp();
      process.exitCode = 1;
    } else {
      cli.outputHelp();
    }
  } else {
    await cli.runMatchedCommand();
  }
} catch (err) {
  process.stderr.write(`flint: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
// Worker threads of contexts a job forgot to stop must not keep the process alive.
process.exit(process.exitCode ?? 0);
