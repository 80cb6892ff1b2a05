// Spills are visible where Spark shows them: each task's memoryBytesSpilled, diskBytesSpilled and
// peakExecutionMemory in the REST API, the same numbers the executors reported.
import { Flint, type FlintEvent } from 'flint';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { TaskData } from '../../host/ui/types.js';
import { sumJob } from '../../bench/lib/spill-jobs.js';

const spillDir = mkdtempSync(join(tmpdir(), 'flint-spill-ui-'));
afterAll(() => rmSync(spillDir, { recursive: true, force: true }));

it('a spilling job shows its spills per task in the REST API', async () => {
  const fl = await Flint.start({ master: 'local[2]', ui: 0, executorMemoryMb: 4, spillDir });
  try {
    const ends: Array<Extract<FlintEvent, { type: 'taskEnd' }>> = [];
    fl.events.on('taskEnd', (e) => ends.push(e));
    const job = sumJob(300_000);
    expect(await job.run(fl)).toEqual(job.expected);
    await fl.events.delivered();
    const url = new URL(fl.uiUrl!);
    const res = await fetch(`${url.origin}/api/v1/applications/${fl.applicationId}/stages/0/0/taskList?length=100`, {
      headers: { authorization: `Bearer ${url.searchParams.get('token')}` },
    });
    const tasks = (await res.json()) as TaskData[];
    const reported = ends.filter((e) => e.stageId === 0);
    const byTask = (f: (t: TaskData) => number) => tasks.map((t) => [t.taskId, f(t)]).sort((a, b) => a[0]! - b[0]!);
    const byEvent = (f: (e: (typeof ends)[number]) => number) => reported.map((e) => [e.taskId, f(e)]).sort((a, b) => a[0]! - b[0]!);
    expect(byTask((t) => t.taskMetrics!.diskBytesSpilled)).toEqual(byEvent((e) => e.metrics!.diskBytesSpilled!));
    expect(byTask((t) => t.taskMetrics!.memoryBytesSpilled)).toEqual(byEvent((e) => e.metrics!.memoryBytesSpilled!));
    expect(byTask((t) => t.taskMetrics!.peakExecutionMemory)).toEqual(byEvent((e) => e.metrics!.peakExecutionMemory!));
    expect(tasks.reduce((n, t) => n + t.taskMetrics!.diskBytesSpilled, 0)).toBeGreaterThan(0);
  } finally {
    await fl.stop();
  }
});
