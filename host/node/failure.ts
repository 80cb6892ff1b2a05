/**
 * How the CLI reports an error: once, as a headline with the code, then the user's own frames, then
 * each cause with its frames. Flint's frames are left out (see api/user-stack.ts).
 */
import { userFrames } from '../api/user-stack.js';

/**
 * The job file imports the library bundle and the CLI is a bundle of its own, so a FlintError thrown
 * by the job is not an instance of the CLI's FlintError class: it is recognized by its shape.
 */
function codeOf(err: Error): string | null {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && err.name === 'FlintError' ? code : null;
}

function describe(err: Error): string {
  const code = codeOf(err);
  return code ? `${code}: ${err.message}` : `${err.name}: ${err.message}`;
}

function framesOf(err: Error): string {
  const frames = typeof err.stack === 'string' ? userFrames(err.stack) : [];
  return frames.map((f) => `${f}\n`).join('');
}

export function formatFailure(err: unknown): string {
  if (!(err instanceof Error)) return `flint: job failed: ${String(err)}\n`;
  let text = `flint: job failed: ${describe(err)}\n${framesOf(err)}`;
  let cause: unknown = err.cause;
  for (let depth = 0; cause !== undefined && depth < 8; depth++) {
    if (!(cause instanceof Error)) return `${text}caused by ${String(cause)}\n`;
    text += `caused by ${describe(cause)}\n${framesOf(cause)}`;
    cause = cause.cause;
  }
  return text;
}
