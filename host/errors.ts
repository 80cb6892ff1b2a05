/**
 * Every error Flint raises is a FlintError with a stable `code`, so that callers can branch on the
 * kind of failure without parsing messages. Errors cross thread and network boundaries as plain
 * objects (see `toWireError` / `fromWireError`) because structured clone drops custom classes.
 */
export type FlintErrorCode =
  | 'CLOSURE_FREE_VARIABLE'
  | 'CLOSURE_INVALID'
  | 'TASK_FAILED'
  | 'JOB_ABORTED'
  | 'JOB_CANCELLED'
  | 'INPUT_NOT_FOUND'
  | 'OUTPUT_EXISTS'
  | 'EXECUTOR_LOST'
  | 'FETCH_FAILED'
  | 'INVALID_ARGUMENT'
  | 'UNSUPPORTED_RECORD'
  | 'CONTEXT_STOPPED'
  | 'BROADCAST_DESTROYED'
  | 'CHECKPOINT_DIR_NOT_SET'
  | 'IO_ERROR'
  | 'OUT_OF_MEMORY'
  /** No live executor offers what a stage needs (e.g. 'node' for a closure using process). */
  | 'CAPABILITY_MISSING'
  /** A peer (executor, driver, worker, tab) sent something malformed, forged or unauthorized. */
  | 'PROTOCOL_ERROR'
  | 'UNAUTHORIZED'
  | 'INTERNAL';

export class FlintError extends Error {
  readonly code: FlintErrorCode;
  override readonly cause?: unknown;

  constructor(code: FlintErrorCode, message: string, options: { cause?: unknown; stack?: string } = {}) {
    super(message);
    this.name = 'FlintError';
    this.code = code;
    if (options.cause !== undefined) this.cause = options.cause;
    if (options.stack !== undefined) this.stack = options.stack;
  }
}

/** The shape of an error on the wire: what a worker thread, a socket or a data channel carries. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  cause?: WireError;
}

export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const wire: WireError = { name: err.name, message: err.message, stack: err.stack };
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') wire.code = code;
    const cause = (err as { cause?: unknown }).cause;
    if (cause !== undefined) wire.cause = toWireError(cause);
    return wire;
  }
  return { name: 'Error', message: typeof err === 'string' ? err : describeThrown(err) };
}

/** Rebuild an error that crossed a boundary; the original stack is kept so users see their own frames. */
export function fromWireError(wire: WireError): Error {
  const cause = wire.cause ? fromWireError(wire.cause) : undefined;
  if (wire.name === 'FlintError' && wire.code) {
    return new FlintError(wire.code as FlintErrorCode, wire.message, { cause, stack: wire.stack });
  }
  const err = new Error(wire.message, cause ? { cause } : undefined);
  err.name = wire.name;
  if (wire.stack) err.stack = wire.stack;
  return err;
}

function describeThrown(value: unknown): string {
  try {
    return `non-Error value thrown: ${JSON.stringify(value)}`;
  } catch {
    return `non-Error value thrown: ${String(value)}`;
  }
}
