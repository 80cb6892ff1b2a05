/**
 * The Node options a worker thread starts with. A worker inherits the parent's options by default,
 * including those that only make sense for the parent's entry point: under
 * `node --input-type=module -e '...'` every worker dies at start with ERR_INPUT_TYPE_NOT_ALLOWED,
 * because its entry is a file. Those options are dropped; everything else (loaders, `--import`,
 * `--conditions`, ...) still reaches the workers.
 */

/** Options that choose or check the entry point, or run a test runner or watcher around it. */
const ENTRY_FLAGS = new Set(['-e', '--eval', '-p', '--print', '-pe', '-c', '--check', '-i', '--interactive', '--input-type', '--test', '--watch', '--watch-path', '--watch-preserve-output']);
/** Of those, the ones that take a value, given either as `--flag=value` or as the next argument. */
const VALUE_FLAGS = new Set(['-e', '--eval', '-p', '--print', '-pe', '--input-type', '--watch-path']);

function flagName(arg: string): string {
  const eq = arg.indexOf('=');
  return eq > 0 ? arg.slice(0, eq) : arg;
}

function isEntryFlag(name: string): boolean {
  return ENTRY_FLAGS.has(name) || name.startsWith('--test-') || name.startsWith('--experimental-test-');
}

/** Removes `names` (and a value given as the next argument) from `argv`. */
function withoutFlags(argv: readonly string[], drop: (name: string) => boolean, takesValue: (name: string, next: string) => boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = flagName(arg);
    if (!drop(name)) {
      out.push(arg);
      continue;
    }
    if (name === arg && i + 1 < argv.length && takesValue(name, argv[i + 1]!)) i++;
  }
  return out;
}

/**
 * `execArgv` for `new Worker`: undefined (inherit, which also ignores process-wide options on its own)
 * unless the parent's options include one that breaks a worker.
 */
export function workerExecArgv(parent: readonly string[]): string[] | undefined {
  const kept = withoutFlags(parent, isEntryFlag, (name) => VALUE_FLAGS.has(name) || name.startsWith('--test-'));
  return kept.length === parent.length ? undefined : kept;
}

/**
 * An explicit execArgv may not carry process-wide options (V8 flags, `--title`, ...): Node refuses
 * them with ERR_WORKER_INVALID_EXEC_ARGV and names them. They apply to the whole process anyway, so
 * they are dropped; returns null if `err` is not that refusal.
 */
export function withoutRefusedFlags(argv: readonly string[], err: unknown): string[] | null {
  if ((err as { code?: unknown })?.code !== 'ERR_WORKER_INVALID_EXEC_ARGV') return null;
  const listed = /flags: (.*)$/.exec((err as Error).message)?.[1] ?? '';
  const refused = new Set(listed.split(', ').map(flagName));
  // A refused flag given as `--flag value` takes its value along.
  return withoutFlags(argv, (name) => refused.has(name), (_name, next) => !next.startsWith('-'));
}
