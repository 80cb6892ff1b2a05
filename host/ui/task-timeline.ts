/**
 * A stage's task timeline, ready to draw: one lane per executor, as many rows in a lane as it ran
 * tasks at once, each task a bar split into phases. A window with few tasks comes back as
 * tasks; a crowded one as per-row bins holding the share of each phase, which is what a screen can
 * show of 100,000 tasks anyway, at a size independent of the task count. Rows come from the store,
 * assigned as tasks launched, so a task keeps its row while the user zooms.
 */
import { schedulerDelay } from './rest-views.js';
import type { AppStatusStore, StageRec, TaskRec } from './status-store.js';
import { PHASES, type TaskTimeline, type TimelineTask } from './types.js';

/** Above this many tasks in the window, the timeline is binned. */
export const MAX_TIMELINE_TASKS = 2000;
const DEFAULT_BINS = 800;
const MAX_BINS = 4000;

/**
 * The phases of a task's bar in PHASES order (ms): the driver's view of launch to end, with the
 * executor's own measures inside. Whatever the executor's clock says, they add up to the bar.
 */
export function taskPhases(t: TaskRec, now: number): number[] {
  const end = t.finish < 0 ? now : t.finish;
  const total = Math.max(0, end - t.launch);
  if (t.finish < 0 || !t.hasMetrics) return [0, 0, total, 0, 0];
  const fetch = t.fetchWait;
  const write = t.shuffleWriteMs;
  const send = t.resultSer;
  const compute = Math.max(0, t.runTime - fetch - write - send);
  const delay = schedulerDelay(t);
  const parts = [delay, fetch, compute, write, send];
  const sum = parts.reduce((a, b) => a + b, 0);
  if (sum <= 0) return [0, 0, total, 0, 0];
  const scale = total / sum;
  return parts.map((p) => p * scale);
}

export function taskTimeline(store: AppStatusStore, stage: StageRec, window: { from?: number; to?: number; bins?: number }): TaskTimeline {
  const now = store.now();
  const laneIndex = new Map(stage.lanes.map((id, i) => [id, i]));
  let stageStart = Number.POSITIVE_INFINITY;
  let stageEnd = Number.NEGATIVE_INFINITY;
  for (const t of stage.tasks) {
    if (t.launch < stageStart) stageStart = t.launch;
    const end = t.finish < 0 ? now : t.finish;
    if (end > stageEnd) stageEnd = end;
  }
  if (stage.tasks.length === 0) {
    stageStart = stage.submissionTime ?? now;
    stageEnd = stage.completionTime ?? now;
  }
  const from = window.from ?? stageStart;
  const to = Math.max(from + 1, window.to ?? stageEnd);
  const visible: TaskRec[] = [];
  for (const t of stage.tasks) {
    const end = t.finish < 0 ? now : t.finish;
    if (end >= from && t.launch <= to) visible.push(t);
  }
  const lanes = stage.lanes.map((id) => {
    const ex = store.executors.get(id);
    return { executorId: id, host: ex?.host ?? '', kind: ex?.kind ?? ('unknown' as const), rows: Math.max(1, stage.laneRows.get(id)!.length) };
  });
  const base: TaskTimeline = { from, to, stageStart, stageEnd, lanes, mode: 'tasks', taskCount: visible.length };
  if (visible.length <= MAX_TIMELINE_TASKS) {
    base.tasks = visible.map(
      (t): TimelineTask => ({
        lane: laneIndex.get(t.executorId)!,
        row: t.row,
        taskId: t.taskId,
        partition: t.partition,
        attempt: t.attempt,
        start: t.launch,
        end: t.finish < 0 ? null : t.finish,
        status: t.status,
        speculative: t.speculative,
        phases: taskPhases(t, now).map((p) => Math.round(p * 100) / 100),
      }),
    );
    return base;
  }
  const binCount = Math.max(10, Math.min(MAX_BINS, Math.floor(window.bins ?? DEFAULT_BINS)));
  const width = (to - from) / binCount;
  const P = PHASES.length;
  const acc = lanes.map((lane) => Array.from({ length: lane.rows }, () => new Float64Array(binCount * P)));
  for (const t of visible) {
    const cells = acc[laneIndex.get(t.executorId)!]![t.row]!;
    let at = t.launch;
    const phases = taskPhases(t, now);
    for (let p = 0; p < P; p++) {
      const a = Math.max(at, from);
      const b = Math.min(at + phases[p]!, to);
      at += phases[p]!;
      if (b <= a) continue;
      let bin = Math.min(binCount - 1, Math.floor((a - from) / width));
      let x = a;
      while (x < b && bin < binCount) {
        const binEnd = from + (bin + 1) * width;
        const y = Math.min(b, binEnd);
        cells[bin * P + p] += y - x;
        x = y;
        bin++;
      }
    }
  }
  base.mode = 'bins';
  base.binCount = binCount;
  base.bins = acc.map((rows) =>
    rows.map((cells) => {
      const bytes = new Uint8Array(cells.length);
      for (let i = 0; i < cells.length; i++) bytes[i] = Math.min(255, Math.round((cells[i]! / width) * 255));
      return toBase64(bytes);
    }),
  );
  return base;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Base64 without Node's Buffer or the browser's btoa, so this module stays environment-neutral. */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + '==';
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + '=';
  }
  return out;
}
