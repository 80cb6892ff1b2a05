/**
 * Where the user created an RDD or ran an action ("reduceByKey at job.ts:12"): stages and progress
 * bars are named by it. Frames inside Flint itself are skipped.
 */
const own = (() => {
  const u = import.meta.url;
  const dist = u.lastIndexOf('/dist/');
  if (dist >= 0) return u.slice(0, dist + 6);
  const host = u.lastIndexOf('/host/');
  return host >= 0 ? u.slice(0, host + 6) : u;
})();
const ownPath = own.replace(/^file:\/\//, '');

export function callSite(method: string): string {
  const stack = new Error().stack?.split('\n').slice(1) ?? [];
  for (const line of stack) {
    if (line.includes(own) || line.includes(ownPath) || line.includes('node:internal') || line.includes('node_modules')) continue;
    const m = /\(?((?:file:\/\/)?[^\s()]+?):(\d+):\d+\)?\s*$/.exec(line);
    if (!m) continue;
    const file = m[1]!.split('/').pop();
    return `${method} at ${file}:${m[2]}`;
  }
  return method;
}
