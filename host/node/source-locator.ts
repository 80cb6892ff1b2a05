/**
 * Finds closure sources in the user's scripts and maps positions through their source maps, for
 * closure-frames.ts. A function's source text is an exact slice of the script V8 compiled, so it is
 * found by searching the scripts of the call stack that created the transformation (the nearest
 * occurrence to the call wins). `flint run` compiles TypeScript with an inline source map and
 * enables source maps; Node then holds the map that leads back to the `.ts` file.
 */
import { readFileSync } from 'node:fs';
import { findSourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isFrameworkFrame } from '../api/call-site.js';
import type { SourceLocator, SourcePosition } from '../codec/closure-frames.js';

interface Script {
  text: string;
  /** Offsets at which each line starts. */
  lines: number[];
}

const scripts = new Map<string, Script | null>();
const SCRIPT_CACHE_LIMIT = 100;

function script(file: string): Script | null {
  if (scripts.has(file)) return scripts.get(file)!;
  let result: Script | null = null;
  try {
    const text = readFileSync(file.startsWith('file:') ? fileURLToPath(file) : file, 'utf8');
    const lines = [0];
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines.push(i + 1);
    result = { text, lines };
  } catch {
    result = null; // not a file (eval code, a REPL line, a deleted file)
  }
  if (scripts.size >= SCRIPT_CACHE_LIMIT) scripts.clear();
  scripts.set(file, result);
  return result;
}

/** The user's frames of the current stack, innermost first, with V8's raw (generated) positions. */
function userCallSites(): NodeJS.CallSite[] {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  const holder: { stack?: unknown } = {};
  let stack: unknown;
  try {
    Error.stackTraceLimit = 50;
    Error.prepareStackTrace = (_err, sites) => sites;
    Error.captureStackTrace(holder);
    stack = holder.stack; // formatted on first access, by the prepareStackTrace in place then
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
  const sites = Array.isArray(stack) ? (stack as NodeJS.CallSite[]) : [];
  return sites.filter((s) => {
    const file = s.getFileName();
    return !!file && !file.startsWith('node:') && !isFrameworkFrame(file);
  });
}

function positionAt(s: Script, file: string, offset: number): SourcePosition {
  let lo = 0;
  let hi = s.lines.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (s.lines[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { file, line: lo + 1, column: offset - s.lines[lo]! + 1 };
}

function locate(text: string): SourcePosition | null {
  const tried = new Set<string>();
  for (const site of userCallSites()) {
    const file = site.getFileName()!;
    if (tried.has(file)) continue;
    tried.add(file);
    const s = script(file);
    if (!s) continue;
    const call = (s.lines[(site.getLineNumber() ?? 1) - 1] ?? 0) + (site.getColumnNumber() ?? 1) - 1;
    let best = -1;
    for (let i = s.text.indexOf(text); i >= 0; i = s.text.indexOf(text, i + 1)) {
      if (best < 0 || Math.abs(i - call) < Math.abs(best - call)) best = i;
    }
    if (best >= 0) return positionAt(s, file, best);
  }
  return null;
}

function original(p: SourcePosition): SourcePosition | null {
  const map = findSourceMap(p.file);
  if (!map) return null;
  const entry = map.findEntry(p.line - 1, p.column - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number };
  if (!entry.originalSource || entry.originalLine === undefined || entry.originalColumn === undefined) return null;
  const file = entry.originalSource.startsWith('file:') ? fileURLToPath(entry.originalSource) : entry.originalSource;
  return { file, line: entry.originalLine + 1, column: entry.originalColumn + 1 };
}

export const nodeSourceLocator: SourceLocator = { locate, original };
