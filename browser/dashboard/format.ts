/** How numbers read on the dashboard: short, with units, tabular. */

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** A duration in ms: "0.4 ms", "12 ms", "3.2 s", "4 min 05 s", "2 h 03 min". */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

export function count(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  return Math.round(n).toLocaleString('en-US');
}

/** Wall-clock time of day, with the date when it is not today. */
export function time(epochMs: number | null | undefined): string {
  if (!epochMs || epochMs < 0) return '–';
  const d = new Date(epochMs);
  const today = new Date();
  const hms = d.toLocaleTimeString('en-GB', { hour12: false });
  if (d.toDateString() === today.toDateString()) return hms;
  return `${d.toISOString().slice(0, 10)} ${hms}`;
}

export function percent(part: number, whole: number): string {
  if (!whole) return '–';
  return `${Math.round((100 * part) / whole)}%`;
}
