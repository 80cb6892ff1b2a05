/**
 * Stacks as the user should read them: frames of closures that ran on executors point at the
 * user's file and line (closure-frames.ts), and Flint's own frames (its bundle, its sources, Node's
 * internals) are left out whenever the user has frames of their own, which come first anyway.
 */
import { mapClosureFrames } from '../codec/closure-frames.js';
import { isFrameworkFrame } from './call-site.js';

const FRAME = /^\s+at /;

function split(stack: string): { head: string[]; frames: string[] } {
  const lines = stack.split('\n');
  const first = lines.findIndex((l) => FRAME.test(l));
  return first < 0 ? { head: lines, frames: [] } : { head: lines.slice(0, first), frames: lines.slice(first) };
}

/** The user's frames of a stack (closure frames mapped), or [] when it has none. */
export function userFrames(stack: string): string[] {
  return split(mapClosureFrames(stack)).frames.filter((l) => FRAME.test(l) && !isFrameworkFrame(l));
}

/** A stack with closure frames mapped and, if the user has frames in it, only those. */
export function userStack(stack: string): string {
  const frames = userFrames(stack);
  return frames.length > 0 ? [...split(stack).head, ...frames].join('\n') : mapClosureFrames(stack);
}

/** Rewrites the stacks of `err` and of its causes in place (see userStack). */
export function showUserFrames<E>(err: E): E {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (typeof e.stack === 'string') e.stack = userStack(e.stack);
  }
  return err;
}

/**
 * An error raised inside Flint on behalf of an action (JOB_ABORTED): its own frames are Flint's, so
 * it gets the user's frames of `caller` (an Error made where the action was called) instead.
 */
export function rethrownAt<E>(err: E, caller: Error): E {
  if (!(err instanceof Error) || typeof err.stack !== 'string') return err;
  const own = userFrames(err.stack);
  const frames = own.length > 0 ? own : userFrames(caller.stack ?? '');
  if (frames.length > 0) err.stack = [...split(err.stack).head, ...frames].join('\n');
  if (err.cause !== undefined) showUserFrames(err.cause);
  return err;
}
