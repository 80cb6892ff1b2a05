/**
 * The coordinator process's health for `/api/v1/coordinator`: memory, CPU, and how late its event
 * loop runs (perf_hooks.monitorEventLoopDelay: a 10 ms timer's lateness), since start and in 5 s
 * windows over the last two minutes. A coordinator whose loop stalls relays every task late and
 * hears every heartbeat late, so this is the number that says whether it keeps up with its workers.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { LoopDelay, ProcessHealth } from '../../ui/types.js';

const RESOLUTION_MS = 10;
const WINDOW_MS = 5000;
const WINDOWS_KEPT = 24;

function summary(h: IntervalHistogram): LoopDelay {
  // The histogram holds whole intervals between samples (≥ the resolution): lateness is what exceeds it.
  const late = (ns: number) => (h.count === 0 ? 0 : +Math.max(0, ns / 1e6 - RESOLUTION_MS).toFixed(2));
  return { p50: late(h.percentile(50)), p99: late(h.percentile(99)), max: late(h.max), mean: late(h.mean), samples: h.count };
}

export interface HealthMonitor {
  health(): ProcessHealth;
  stop(): void;
}

export function startHealthMonitor(now: () => number = Date.now): HealthMonitor {
  const whole = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const window = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  whole.enable();
  window.enable();
  const windows: ProcessHealth['eventLoopDelayWindows'] = [];
  let windowStart = now();
  const timer = setInterval(() => {
    const end = now();
    windows.push({ start: windowStart, end, ...summary(window) });
    if (windows.length > WINDOWS_KEPT) windows.shift();
    window.reset();
    windowStart = end;
  }, WINDOW_MS);
  timer.unref();
  return {
    health() {
      const mem = process.memoryUsage();
      const cpu = process.cpuUsage();
      return {
        rssBytes: mem.rss,
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
        heapUsedBytes: mem.heapUsed,
        heapTotalBytes: mem.heapTotal,
        externalBytes: mem.external,
        arrayBuffersBytes: mem.arrayBuffers,
        cpuUserMs: Math.round(cpu.user / 1000),
        cpuSystemMs: Math.round(cpu.system / 1000),
        eventLoopDelayMs: summary(whole),
        eventLoopDelayWindows: [...windows],
      };
    },
    stop() {
      clearInterval(timer);
      whole.disable();
      window.disable();
    },
  };
}
