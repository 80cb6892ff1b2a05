/**
 * Where the user created an RDD or ran an action ("reduceByKey at job.ts:12"): stages and progress
 * bars are named by it. Frames inside Flint itself are skipped, whether they show the bundle
 * (dist/) or, with source maps on, Flint's sources (host/).
 *
 * As in Spark, the name is the Flint method the user's code called, not the internal one that built
 * the RDD: the RDDs a `sortBy` builds (a keyBy, a range shuffle, a values map) are all
 * "sortBy at job.ts:12".
 */
const root = (() => {
  const u = import.meta.url.replace(/^file:\/\//, '');
  const i = Math.max(u.lastIndexOf('/dist/'), u.lastIndexOf('/host/'));
  return i >= 0 ? u.slice(0, i + 1) : u;
})();
const ownDirs = [`${root}dist/`, `${root}host/`];

/** A stack frame line (or a script's name) of Flint itself, of Node's own modules or of an installed package. */
export function isFrameworkFrame(line: string): boolean {
  return ownDirs.some((d) => line.includes(d)) || /(?:^|[\s(])node:/.test(line) || line.includes('node_modules');
}

/** `file:line` of a V8 stack frame line, or null for native frames without a location. */
function frameLocation(line: string): { file: string; line: string } | null {
  const m = /\(?((?:file:\/\/)?[^\s()]+?):(\d+):\d+\)?\s*$/.exec(line);
  return m ? { file: m[1]!, line: m[2]! } : null;
}

/** The method of a V8 frame: "at async RDD.sortBy [as f] (...)" → "sortBy". */
function frameMethod(line: string): string | null {
  const m = /^\s*at (?:async )?(?:new )?([^\s(]+)(?: \[as [^\]]+\])? \(/.exec(line);
  if (!m) return null;
  const name = m[1]!.slice(m[1]!.lastIndexOf('.') + 1);
  return /^[A-Za-z_$][\w$]*$/.test(name) && !name.startsWith('_') ? name : null;
}

/** The directory of the user's file that called into Flint, if the stack shows one. */
export function callerDirectory(): string | null {
  for (const line of new Error().stack?.split('\n').slice(1) ?? []) {
    if (isFrameworkFrame(line)) continue;
    const at = frameLocation(line);
    if (!at) continue;
    let file = at.file;
    if (file.startsWith('file://')) file = decodeURIComponent(new URL(file).pathname);
    if (!file.startsWith('/')) return null;
    return file.slice(0, file.lastIndexOf('/')) || '/';
  }
  return null;
}

/** "method at file:line", where method is the Flint method the user called (else `method`). */
export function callSite(method: string): string {
  // Composite operations call several layers deep before the user's frame appears.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack?.split('\n').slice(1) ?? [];
  Error.stackTraceLimit = limit;
  let outermost: string | null = null;
  for (const line of stack) {
    if (ownDirs.some((d) => line.includes(d))) {
      outermost = frameMethod(line) ?? outermost;
      continue;
    }
    if (isFrameworkFrame(line)) continue;
    const at = frameLocation(line);
    if (!at) continue;
    return `${outermost ?? method} at ${at.file.split('/').pop()}:${at.line}`;
  }
  return method;
}
