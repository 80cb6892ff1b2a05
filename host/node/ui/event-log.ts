/**
 * Event logs on disk, as Spark writes them: one file per application in the log directory, named
 * after the application id, one JSON object per line, `.inprogress` until the application ends
 * (Spark's SingleEventLogFileWriter). Lines are gathered and written by an asynchronous stream:
 * nothing on the bus listener's path waits for the disk.
 */
import { createWriteStream, existsSync, mkdirSync, renameSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { EventLogWriter } from '../../api/context.js';
import type { SparkEvent } from '../../ui/spark-events.js';

export const IN_PROGRESS = '.inprogress';

/** Application ids become file names: anything but a safe character is replaced. */
export function logFileName(appId: string): string {
  return appId.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function openEventLogDir(dir: string, onError: (err: Error) => void = (err) => process.stderr.write(`flint: event log: ${err.message}\n`)): EventLogWriter {
  mkdirSync(dir, { recursive: true });
  // Events that come before the application has its id (executors joining while it starts).
  let early: string[] | null = [];
  let stream: WriteStream | null = null;
  let path: string | null = null;
  let pending: string[] = [];
  let scheduled = false;
  let failed = false;

  const flush = () => {
    scheduled = false;
    if (!stream || pending.length === 0) return;
    stream.write(pending.join(''));
    pending = [];
  };

  const open = (appId: string) => {
    let name = logFileName(appId);
    // A second run with the same id (a restarted coordinator numbering from 0) must not clobber.
    for (let i = 1; existsSync(join(dir, name)) || existsSync(join(dir, name + IN_PROGRESS)); i++) name = `${logFileName(appId)}_${i}`;
    path = join(dir, name);
    stream = createWriteStream(path + IN_PROGRESS, { flags: 'wx' });
    stream.on('error', (err) => {
      if (!failed) onError(err);
      failed = true;
    });
  };

  return {
    write(event: SparkEvent) {
      const line = JSON.stringify(event) + '\n';
      if (early) {
        if (event.Event !== 'SparkListenerApplicationStart') {
          early.push(line);
          return;
        }
        open(event['App ID']);
        pending.push(line, ...early);
        early = null;
      } else {
        pending.push(line);
      }
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    async close() {
      flush();
      const s = stream as WriteStream | null;
      if (!s || !path) return;
      await new Promise<void>((resolve) => s.end(() => resolve()));
      if (!failed) renameSync(path + IN_PROGRESS, path);
    },
  };
}
