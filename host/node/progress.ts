/**
 * What the CLI shows while a job runs: one progress bar per running stage on stderr (plain lines
 * when stderr is not a terminal), and a summary at the end.
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

export class ProgressReporter {
  private readonly multibar: cliProgress.MultiBar | null;
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private readonly started = new Map<string, { time: number; name: string }>();
  readonly summary: RunSummary = { stages: 0, skippedStages: 0, tasks: 0, failedTasks: 0, shuffleBytes: 0, jobs: 0, failedJobs: 0 };
  private readonly tty: boolean;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {
    this.tty = !!out.isTTY;
    this.multibar = this.tty
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
        this.started.set(key, { time: e.time, name: e.name });
        if (this.multibar) this.bars.set(key, this.multibar.create(e.numTasks, 0, { stage: label }));
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
        if (!this.tty) {
          const info = this.started.get(key);
          const ms = e.time - (info?.time ?? e.time);
          const retry = e.attempt > 0 ? ` retry ${e.attempt}` : '';
          this.out.write(`flint: stage ${e.stageId}${retry} (${info?.name ?? '?'}) ${e.succeeded ? 'finished' : 'failed'} in ${ms} ms\n`);
        }
        break;
      }
      case 'executorRemoved':
        this.log(`flint: executor ${e.executorId} lost: ${e.reason}`);
        break;
      default:
        break;
    }
  }

  private log(line: string): void {
    if (this.multibar) this.multibar.log(line + '\n');
    else this.out.write(line + '\n');
  }

  stop(): void {
    this.multibar?.stop();
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
