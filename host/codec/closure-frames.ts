/**
 * Driver side: stack frames of closures that ran on executors, mapped back to the user's file.
 *
 * An executor compiles a closure's source into a factory named `flint-closure-<method>-<id>.js`, so
 * a closure that throws shows frames like `flint-closure-map-3.js:9:16`. When the closure is captured,
 * the driver looks for its source text in the scripts on the call stack (function sources are exact
 * slices of their script) and remembers, under the id, where each source of the factory starts in
 * the user's script. A frame's line and column inside the factory then give the line and column in
 * the script exactly, and the script's source map (a TypeScript job compiled by `flint run`) gives
 * the line in the user's own file. Finding the script text and applying source maps is the
 * environment's business (a SourceLocator); without one, frames stay as they are.
 */
import { FACTORY_LINE_OFFSET, factoryBody, lineCount } from './closure-runtime.js';
import type { ClosureOrigin } from './closure-spec.js';

export interface SourcePosition {
  file: string;
  /** 1-based, as in stack traces. */
  line: number;
  /** 1-based, as in stack traces. */
  column: number;
}

export interface SourceLocator {
  /** Where `text` (a function's source) starts in a user script on the current call stack. */
  locate(text: string): SourcePosition | null;
  /** The position in the user's own file of a position in a generated script, if it has a source map. */
  original(position: SourcePosition): SourcePosition | null;
}

/** A closure source as captured: `expr` is what executors compile; it equals `text` from `at` on. */
export interface CapturedSource {
  name?: string;
  expr: string;
  /** The function's source text as the script holds it. */
  text: string;
  /** `expr[at.expr]` is `text[at.text]`: methods are rewritten to `({ m(...) {...} }).m`. */
  at: { expr: number; text: number };
}

interface Segment {
  /** The factory body line the source starts on (1-based). */
  start: number;
  lines: number;
  /** Where the source's first character would sit in the script: column may be < 1 for methods. */
  origin: SourcePosition | null;
}

let locator: SourceLocator | null = null;
const layouts = new Map<number, Segment[]>();
/**
 * Ids by layout: the same closure captured again at the same place (a loop, a function called per
 * job) keeps its id, so executors keep their compiled factory instead of compiling it again.
 */
const idsByLayout = new Map<string, number>();
/** Layouts kept for mapping; old ones go first (their frames then stay unmapped). */
const LAYOUT_LIMIT = 10_000;
let nextId = 0;

export function setSourceLocator(l: SourceLocator | null): void {
  locator = l;
}

/** Where `text[0..index)` ends, starting from `from`. */
function advance(from: SourcePosition, text: string, index: number): SourcePosition {
  const before = text.slice(0, index);
  const nl = before.lastIndexOf('\n');
  if (nl < 0) return { ...from, column: from.column + index };
  return { file: from.file, line: from.line + lineCount(before) - 1, column: index - nl };
}

function originOf(source: CapturedSource): SourcePosition | null {
  if (!source.text) return null; // a native function: nothing to find
  const found = locator!.locate(source.text);
  if (!found) return null;
  const atText = advance(found, source.text, source.at.text);
  // The characters before `at.expr` in the expression are Flint's, on the expression's first line.
  return { ...atText, column: atText.column - source.at.expr };
}

/**
 * Locates a closure's sources (env functions compiled into its factory, then the function) and
 * remembers the factory's layout; the returned origin names the compiled code. Undefined when no
 * source was found, or when no locator is installed.
 */
export function recordOrigin(functions: readonly CapturedSource[], main: CapturedSource): ClosureOrigin | undefined {
  if (!locator) return undefined;
  const sources = [...functions, main];
  const origins = sources.map(originOf);
  if (origins.every((o) => o === null)) return undefined;
  const { starts } = factoryBody(
    functions.map((f) => ({ name: f.name ?? '', src: f.expr })),
    main.expr,
  );
  const segments = sources.map((s, i) => ({ start: starts[i]!, lines: lineCount(s.expr), origin: origins[i]! }));
  const key = JSON.stringify(segments);
  let id = idsByLayout.get(key);
  if (id === undefined) {
    id = nextId++;
    layouts.set(id, segments);
    idsByLayout.set(key, id);
    if (layouts.size > LAYOUT_LIMIT) {
      const [oldest, old] = layouts.entries().next().value!;
      layouts.delete(oldest);
      idsByLayout.delete(JSON.stringify(old));
    }
  }
  const mainOrigin = origins[origins.length - 1];
  return mainOrigin ? { id, file: mainOrigin.file, line: mainOrigin.line, column: mainOrigin.column } : { id };
}

/**
 * The user's position of line:column in the factory of closure `id`; 'hidden' for a source that was
 * not found beside one that was (Flint's own wrapper around a user function passed in env, as in
 * foldByKey); null when the closure is unknown.
 */
function mapPosition(id: number, line: number, column: number): SourcePosition | 'hidden' | null {
  const bodyLine = line - FACTORY_LINE_OFFSET;
  const segment = layouts.get(id)?.find((s) => bodyLine >= s.start && bodyLine < s.start + s.lines);
  if (!segment) return null;
  if (!segment.origin) return 'hidden';
  const rel = bodyLine - segment.start;
  const inScript = {
    file: segment.origin.file,
    line: segment.origin.line + rel,
    column: rel === 0 ? segment.origin.column + column - 1 : column,
  };
  return locator?.original(inScript) ?? inScript;
}

const CLOSURE_FRAME = /^(\s*at )(?:(.*?) \()?flint-closure-[\w.]+?-(\d+)\.js:(\d+):(\d+)\)?$/;

/** Rewrites the closure frames of a stack trace that point into located closures. */
export function mapClosureFrames(stack: string): string {
  if (!stack.includes('flint-closure-')) return stack;
  const out: string[] = [];
  for (const frame of stack.split('\n')) {
    const m = CLOSURE_FRAME.exec(frame);
    const at = m ? mapPosition(Number(m[3]), Number(m[4]), Number(m[5])) : null;
    if (at === 'hidden') continue;
    if (!m || !at) {
      out.push(frame);
      continue;
    }
    // V8 calls the anonymous functions of a `new Function` body "eval"; Flint's env names are its own.
    const name = !m[2] || m[2] === 'eval' || m[2].startsWith('__flint') ? '<anonymous>' : m[2];
    out.push(`${m[1]}${name} (${at.file}:${at.line}:${at.column})`);
  }
  return out.join('\n');
}
