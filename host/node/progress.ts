/**
 * What the CLI shows while a job runs: one progress bar per running stage on stderr (plain lines
 * when stderr is not a terminal), and a summary at the end. The summary is kept whether or not
 * progress is shown.
 */
import cliProgress from 'cli-progress';
import type { Flint } from '../api/context.js';
import type { FlintEvent } from '../events/events.js';

export interface RunSummary {
  stages: number;
  skippedStages: number;
  tasks: number;
  failedTasks: number;
  shuffleBytes: number;
  jobs: number;
  failedJobs: number;
}

interface StageLine {
  key: string;
  time: number;
  name: string;
  stageId: number;
  attempt: number;
  /** Set when the stage completed; the line waits for the stages submitted before it. */
  done: { time: number; succeeded: boolean } | null;
}

export class ProgressReporter {
  private readonly multibar: cliProgress.MultiBar | null;
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  /** Stages in the order they were submitted: lines print in that order, not as stages finish. */
  private readonly lines: StageLine[] = [];
  readonly summary: RunSummary = { stages: 0, skippedStages: 0, tasks: 0, failedTasks: 0, shuffleBytes: 0, jobs: 0, failedJobs: 0 };
  private readonly tty: boolean;
  private stopped = false;

  constructor(
    private readonly show: boolean,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = !!out.isTTY;
    this.multibar =
      show && this.tty
        ? new cliProgress.MultiBar(
            {
              stream: out,
              format: ' {stage} [{bar}] {value}/{total} tasks {duration_formatted}',
              hideCursor: true,
              clearOnComplete: true,
              stopOnComplete: false,
              barsize: 24,
            },
            cliProgress.Presets.shades_classic,
          )
        : null;
  }

  attach(fl: Flint): void {
    fl.events.on('*', (e) => this.onEvent(e));
  }

  private onEvent(e: FlintEvent): void {
    switch (e.type) {
      case 'jobStart':
        this.summary.jobs++;
        break;
      case 'jobEnd':
        if (!e.succeeded) this.summary.failedJobs++;
        break;
      case 'stageSkipped':
        this.summary.skippedStages++;
        break;
      case 'stageSubmitted': {
        const key = `${e.stageId}.${e.attempt}`;
        const label = `Stage ${e.stageId}${e.attempt > 0 ? ` (retry ${e.attempt})` : ''}: ${e.name}`.slice(0, 60);
        if (this.show && !this.tty) this.lines.push({ key, time: e.time, name: e.name, stageId: e.stageId, attempt: e.attempt, done: null });
        // A stopped multibar would start again, taking the cursor it gave back.
        if (this.multibar && !this.stopped) this.bars.set(key, this.multibar.create(e.numTasks, 0, { stage: label }));
        break;
      }
      case 'taskEnd': {
        this.summary.tasks++;
        if (e.status !== 'success') this.summary.failedTasks++;
        this.summary.shuffleBytes += e.metrics?.shuffleWriteBytes ?? 0;
        if (e.status === 'success') this.bars.get(`${e.stageId}.${e.stageAttempt}`)?.increment();
        break;
      }
      case 'stageCompleted': {
        const key = `${e.stageId}.${e.attempt}`;
        this.summary.stages++;
        const bar = this.bars.get(key);
        if (bar) {
          this.multibar!.remove(bar);
          this.bars.delete(key);
        }
        const line = this.lines.find((l) => l.key === key);
        if (line) {
          line.done = { time: e.time, succeeded: e.succeeded };
          this.flushLines(false);
        }
        break;
      }
      case 'executorRemoved':
        if (this.show) this.log(`flint: executor ${e.executorId} lost: ${e.reason}`);
        break;
      default:
        break;
    }
  }

  /** Prints finished stages from the oldest on; `all` also prints those still running (at the end). */
  private flushLines(all: boolean): void {
    while (this.lines.length > 0 && (all || this.lines[0]!.done)) {
      const l = this.lines.shift()!;
      const retry = l.attempt > 0 ? ` retry ${l.attempt}` : '';
      const outcome = l.done ? `${l.done.succeeded ? 'finished' : 'failed'} in ${l.done.time - l.time} ms` : 'did not finish';
      this.out.write(`flint: stage ${l.stageId}${retry} (${l.name}) ${outcome}\n`);
    }
  }

  private log(line: string): void {
    if (this.multibar) this.multibar.log(line + '\n');
    else this.out.write(line + '\n');
  }

  /** Removes the bars and gives the terminal its cursor and line wrapping back (once). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.multibar?.stop();
  }

  /** Prints the lines of stages still waiting for an earlier one, at the end of a run. */
  flush(): void {
    this.flushLines(true);
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
