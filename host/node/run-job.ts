/**
 * `flint run <job>`: compiles the job file, runs it with progress on stderr, and always ends the same
 * way, whether the job finished, failed, left jobs running or was interrupted: the terminal gets its
 * cursor and line wrapping back, every context the job started is stopped (running jobs fail and
 * their partial output is removed), one summary line is printed, and the process exits.
 */
import type { Flint } from '../api/context.js';
import { compileJob, type CompiledJob } from './compile-job.js';
import { formatFailure } from './failure.js';
import { formatBytes, ProgressReporter, type RunSummary } from './progress.js';

const CLI_HOOK = Symbol.for('flint.cli');
/** Exit statuses after a signal, as shells report them (128 + the signal's number). */
const SIGNAL_STATUS: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

export interface RunOptions {
  master?: string;
  /** The coordinator's token when `master` is flint://… */
  token?: string;
  progress?: boolean;
  /** Serve each context's dashboard and print its link. */
  ui?: boolean;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function describeRun(s: RunSummary, seconds: string): string {
  return (
    `${plural(s.jobs, 'job')}${s.failedJobs ? ` (${s.failedJobs} failed)` : ''}, ` +
    `${plural(s.stages, 'stage')}${s.skippedStages ? ` (+${s.skippedStages} skipped)` : ''}, ` +
    `${plural(s.tasks, 'task')}${s.failedTasks ? ` (${s.failedTasks} failed)` : ''}, ` +
    `shuffle ${formatBytes(s.shuffleBytes)}, ${seconds} s`
  );
}

export async function runJob(job: string, args: string[], options: RunOptions): Promise<never> {
  const started = Date.now();
  const contexts: Flint[] = [];
  const reporter = new ProgressReporter(options.progress !== false);
  let compiled: CompiledJob | null = null;
  let ending: Promise<never> | null = null;

  const runningJobs = () => contexts.flatMap((fl) => fl._runningJobs);

  /** The one way out. `headline` replaces the summary's prefix (an interruption says so). */
  const end = (status: number, headline?: (running: string[]) => string): Promise<never> => {
    ending ??= (async () => {
      reporter.stop();
      const running = runningJobs();
      for (const fl of contexts) await fl.stop().catch(() => undefined);
      compiled?.cleanup();
      reporter.flush();
      const seconds = ((Date.now() - started) / 1000).toFixed(2);
      if (headline) process.stderr.write(`${headline(running)}; ${describeRun(reporter.summary, seconds)}\n`);
      else if (contexts.length > 0) process.stderr.write(`flint: ${describeRun(reporter.summary, seconds)}\n`);
      process.exit(status);
    })();
    return ending;
  };

  const fail = (err: unknown): Promise<never> => {
    if (ending) return ending; // failures caused by the stop itself are not news
    reporter.stop();
    process.stderr.write(`\n${formatFailure(err)}`);
    return end(1);
  };

  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
    if (ending) {
      // A second Ctrl-C while stopping: leave now, but not with a broken terminal.
      reporter.stop();
      process.exit(SIGNAL_STATUS[signal]);
    }
    void end(SIGNAL_STATUS[signal], (running) => {
      const stopped = running.length > 0 ? `, stopped ${plural(running.length, 'running job')} (${running.join(', ')})` : '';
      return `\nflint: interrupted by ${signal}${stopped}`;
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A rejected action nobody awaited, or a throw in a callback: reported like any failure, not as a dump.
  process.on('unhandledRejection', (err) => void fail(err));
  process.on('uncaughtException', (err) => void fail(err));

  (globalThis as Record<symbol, unknown>)[CLI_HOOK] = {
    master: options.master,
    token: options.token,
    ui: options.ui,
    onStart: (fl: Flint) => {
      contexts.push(fl);
      if (fl.uiUrl) process.stderr.write(`flint: dashboard of ${fl.applicationId}: ${fl.uiUrl}\n`);
      reporter.attach(fl);
    },
  };

  try {
    compiled = await compileJob(job);
    process.argv = [process.argv[0]!, job, ...args];
    await import(compiled.url);
  } catch (err) {
    return fail(err);
  }
  if (ending) return ending;
  const running = runningJobs();
  if (running.length > 0) {
    reporter.stop();
    process.stderr.write(
      `\nflint: the job file ended while ${plural(running.length, 'job')} still ran (${running.join(', ')}). ` +
        'Actions return Promises: did you forget `await` (`await rdd.collect()`)? The jobs were stopped.\n',
    );
    return end(1);
  }
  return end(0);
}
