/**
 * Where the user created an RDD or ran an action ("reduceByKey at job.ts:12"): stages and progress
 * bars are named by it. Frames inside Flint itself are skipped, whether they show the bundle
 * (dist/) or, with source maps on, Flint's sources (host/).
 */
const root = (() => {
  const u = import.meta.url.replace(/^file:\/\//, '');
  const i = Math.max(u.lastIndexOf('/dist/'), u.lastIndexOf('/host/'));
  return i >= 0 ? u.slice(0, i + 1) : u;
})();
const ownDirs = [`${root}dist/`, `${root}host/`];

export function callSite(method: string): string {
  const stack = new Error().stack?.split('\n').slice(1) ?? [];
  for (const line of stack) {
    if (ownDirs.some((d) => line.includes(d)) || line.includes('node:internal') || line.includes('node_modules')) continue;
    const m = /\(?((?:file:\/\/)?[^\s()]+?):(\d+):\d+\)?\s*$/.exec(line);
    if (!m) continue;
    const file = m[1]!.split('/').pop();
    return `${method} at ${file}:${m[2]}`;
  }
  return method;
}
