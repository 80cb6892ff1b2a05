/**
 * `flint history DIR`: finished (and unfinished) applications served from their event logs, as
 * Spark's history server does. The listing reads only each log's first line and its tail (start
 * and end); an application's log is replayed into a status store the first time a page asks for
 * it, and again when the file has grown since (a log still being written). A few stores are kept,
 * the least recently used dropped first.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { StatusSource } from '../../ui/rest.js';
import { applicationInfo } from '../../ui/rest-views.js';
import type { SparkEvent } from '../../ui/spark-events.js';
import { AppStatusStore } from '../../ui/status-store.js';
import type { ApplicationInfo, UiInfo } from '../../ui/types.js';
import { IN_PROGRESS } from './event-log.js';

const CHUNK = 8 * 1024 * 1024;

/** Calls `line` for every line of a file, reading it in chunks (a log may exceed a string's limit). */
export function forEachLine(path: string, line: (text: string) => void): void {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let rest = '';
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      // A chunk may end inside a UTF-8 sequence: cut at the last newline byte, keep the rest as bytes.
      const lastNl = buf.lastIndexOf(10, n - 1);
      if (lastNl < 0) {
        rest += buf.toString('utf8', 0, n);
        continue;
      }
      const text = rest + buf.toString('utf8', 0, lastNl);
      rest = buf.toString('utf8', lastNl + 1, n);
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) {
          if (start < text.length) line(text.slice(start));
          break;
        }
        if (nl > start) line(text.slice(start, nl));
        start = nl + 1;
      }
    }
    if (rest.length > 0) line(rest);
  } finally {
    closeSync(fd);
  }
}

/** Replays a log into a new store. Lines that are not JSON (a torn last line) are skipped. */
export function replayLog(path: string): AppStatusStore {
  const store = new AppStatusStore();
  store.live = false;
  forEachLine(path, (text) => {
    let event: SparkEvent;
    try {
      event = JSON.parse(text) as SparkEvent;
    } catch {
      return;
    }
    store.apply(event);
  });
  return store;
}

interface LogEntry {
  path: string;
  size: number;
  mtimeMs: number;
  info: ApplicationInfo;
}

function readHead(path: string, bytes: number): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
}

function readTail(path: string, bytes: number): string {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const from = Math.max(0, size - bytes);
    const buf = Buffer.alloc(size - from);
    const n = readSync(fd, buf, 0, buf.length, from);
    return buf.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
}

/** An application's listing entry from its log's first and last lines, without replaying it. */
function summarize(path: string, size: number, mtimeMs: number): ApplicationInfo | null {
  const firstLine = readHead(path, 64 * 1024).split('\n', 1)[0]!;
  let start: SparkEvent;
  try {
    start = JSON.parse(firstLine) as SparkEvent;
  } catch {
    return null;
  }
  if (start.Event !== 'SparkListenerApplicationStart') return null;
  let end: number | null = null;
  const lines = readTail(path, 4096).trimEnd().split('\n');
  for (let i = lines.length - 1; i >= Math.max(0, lines.length - 4); i--) {
    try {
      const e = JSON.parse(lines[i]!) as SparkEvent;
      if (e.Event === 'SparkListenerApplicationEnd') end = e.Timestamp;
    } catch {
      // the first line of the tail is usually cut
    }
  }
  const completed = end !== null && !path.endsWith(IN_PROGRESS);
  return {
    id: start['App ID'],
    name: start['App Name'],
    master: start['Flint Master'] ?? '',
    attempts: [
      {
        startTime: start.Timestamp,
        endTime: end ?? -1,
        lastUpdated: mtimeMs,
        duration: (end ?? mtimeMs) - start.Timestamp,
        sparkUser: start.User,
        completed,
      },
    ],
  };
}

export class HistoryProvider implements StatusSource {
  private entries = new Map<string, LogEntry>();
  private readonly stores = new Map<string, { store: AppStatusStore; size: number; mtimeMs: number }>();
  private scannedAt = 0;

  constructor(
    readonly dir: string,
    private readonly options: { maxStores?: number; rescanMs?: number; onLoad?: (appId: string, ms: number, store: AppStatusStore) => void } = {},
  ) {}

  info(): UiInfo {
    return { mode: 'history', title: 'Flint history' };
  }

  /** Looks at the directory again (at most every `rescanMs`): new logs, grown logs. */
  scan(force = false): void {
    const now = Date.now();
    if (!force && now - this.scannedAt < (this.options.rescanMs ?? 1000)) return;
    this.scannedAt = now;
    const next = new Map<string, LogEntry>();
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith('.')) continue;
      const path = join(this.dir, name);
      let st;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      if (!st.isFile() || st.size === 0) continue;
      const known = [...this.entries.values()].find((e) => e.path === path);
      const info = known && known.size === st.size && known.mtimeMs === st.mtimeMs ? known.info : summarize(path, st.size, st.mtimeMs);
      if (!info) continue;
      // A finished log wins over a leftover .inprogress copy of the same application.
      const other = next.get(info.id);
      if (other && other.info.attempts[0]!.completed && !info.attempts[0]!.completed) continue;
      next.set(info.id, { path, size: st.size, mtimeMs: st.mtimeMs, info });
    }
    this.entries = next;
  }

  applications(): ApplicationInfo[] {
    this.scan();
    return [...this.entries.values()].map((e) => this.loadedInfo(e)).sort((a, b) => b.attempts[0]!.startTime - a.attempts[0]!.startTime);
  }

  /** A replayed store knows more (e.g. the last event's time): prefer it once loaded. */
  private loadedInfo(e: LogEntry): ApplicationInfo {
    const loaded = this.stores.get(e.info.id);
    if (!loaded || loaded.size !== e.size) return e.info;
    const info = applicationInfo(loaded.store);
    info.attempts[0]!.completed = e.info.attempts[0]!.completed;
    return info;
  }

  store(appId: string): AppStatusStore | null {
    this.scan();
    const entry = this.entries.get(appId);
    if (!entry) return null;
    const loaded = this.stores.get(appId);
    if (loaded && loaded.size === entry.size && loaded.mtimeMs === entry.mtimeMs) {
      // Most recently used last.
      this.stores.delete(appId);
      this.stores.set(appId, loaded);
      return loaded.store;
    }
    const t0 = performance.now();
    const store = replayLog(entry.path);
    this.options.onLoad?.(appId, performance.now() - t0, store);
    this.stores.delete(appId);
    this.stores.set(appId, { store, size: entry.size, mtimeMs: entry.mtimeMs });
    const max = this.options.maxStores ?? 8;
    while (this.stores.size > max) this.stores.delete(this.stores.keys().next().value as string);
    return store;
  }
}
