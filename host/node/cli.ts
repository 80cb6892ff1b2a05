/**
 * The `flint` command: its subcommands and flags. `flint run <job>` is run-job.ts.
 */
import { cac } from 'cac';
import { createRequire } from 'node:module';
import { history } from './commands/history.js';
import { serve } from './commands/serve.js';
import { worker } from './commands/worker.js';
import { runJob } from './run-job.js';
import { typecheckJob } from './typecheck.js';

// Job bundles carry inline source maps: stacks and stage names then point at the user's own file.
process.setSourceMapsEnabled(true);
const version = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

const cli = cac('flint');

cli
  .command('run <job> [...args]', 'Run a job file (.ts, .mts, .js or .mjs); arguments after -- go to the job')
  .option('--master <master>', "Executors: 'local', 'local[N]', 'local[*]' or 'flint://HOST:PORT' (overrides the job's own setting)")
  .option('--token <token>', "The coordinator's token for --master flint://… (default: FLINT_TOKEN)")
  .option('--no-progress', 'Do not show progress bars (the summary is still printed)')
  .option('--typecheck', 'Type-check the job (tsc, strict) first; type errors stop it with status 1')
  .option('--ui', "Serve the application's dashboard (127.0.0.1:4040 or the next free port) and print its link")
  .example('flint run examples/wordcount.ts --master local[2] -- data/sample.txt')
  .action(async (job: string, args: string[], options: { master?: string; token?: string; progress?: boolean; typecheck?: boolean; ui?: boolean; '--'?: string[] }) => {
    const typeErrors = options.typecheck ? await typecheckJob(job, { color: process.stderr.isTTY }) : null;
    if (typeErrors !== null) {
      process.stderr.write(`${typeErrors}\nflint: ${job} does not type-check; it was not run\n`);
      process.exitCode = 1;
      return;
    }
    await runJob(job, [...args, ...(options['--'] ?? [])], options);
  });

cli
  .command('serve', 'Start a coordinator that workers, browser volunteers and drivers join')
  .option('--host <host>', 'Address to listen on (default: 127.0.0.1)')
  .option('--port <port>', 'Port to listen on (default: 7077)')
  .option('--token <token>', 'Cluster token (default: FLINT_TOKEN, else a new random one)')
  .option('--event-log-dir <dir>', 'Write the event log of the cluster here')
  .example('flint serve --port 7077')
  .action(async (options: { host?: string; port?: string; token?: string; eventLogDir?: string }) => {
    process.exitCode = await serve(options);
  });

cli
  .command('history <dir>', 'Serve the dashboard of the applications whose event logs are in <dir>')
  .option('--host <host>', 'Address to listen on (default: 127.0.0.1)')
  .option('--port <port>', 'Port to listen on (default: 18080)')
  .option('--token <token>', 'Token pages and REST clients must present (default: FLINT_TOKEN, else a new random one)')
  .example('flint history /tmp/flint-events --port 18080')
  .action(async (dir: string, options: { host?: string; port?: string; token?: string }) => {
    process.exitCode = await history(dir, options);
  });

cli
  .command('worker <master>', 'Lend this machine\'s cores to a coordinator (flint://HOST:PORT)')
  .option('--cores <n>', 'Task slots (default: one per core)')
  .option('--memory <mb>', 'Memory for all executors, in MB (default: 75% of this machine)')
  .option('--token <token>', 'The coordinator\'s token (default: FLINT_TOKEN)')
  .option('--untrusted', 'Results of this worker count only when another executor agrees')
  .option('--chaos <spec>', 'Misbehave on purpose: lie=F,slow=K,crash=F')
  .option('--data-host <host>', 'Address other workers reach this one on (default: the one used to reach the coordinator)')
  .option('--spill-dir <dir>', 'Where executors spill what does not fit in memory (default: FLINT_SPILL_DIR, else the temporary directory)')
  .example('flint worker flint://10.0.0.5:7077 --cores 4 --token SECRET')
  .action(async (master: string, options: { cores?: string; memory?: string; token?: string; untrusted?: boolean; chaos?: string; dataHost?: string; spillDir?: string }) => {
    process.exitCode = await worker(master, options);
  });

cli.help();
cli.version(version);
// cac gives a negated flag the default `true` and prints "(default: true)" beside "Do not show...".
for (const command of cli.commands) for (const o of command.options) if (o.negated) o.config.default = undefined;

/** Flags are Flint's up to `--`; cac would only name an unknown one camel-cased (--bogusFlag). */
function unknownFlag(argv: string[]): string | null {
  const known = new Set<string>();
  for (const command of [cli.globalCommand, ...cli.commands]) {
    for (const o of command.options) {
      for (const flag of o.rawName.match(/--?[\w-]+/g) ?? []) known.add(flag.replace(/^--no-/, '--'));
    }
  }
  for (const arg of argv) {
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') continue;
    const flag = arg.split('=', 1)[0]!;
    if (!known.has(flag.replace(/^--no-/, '--'))) return flag;
  }
  return null;
}

try {
  const unknown = unknownFlag(process.argv.slice(2));
  if (unknown) throw new Error(`unknown option ${unknown} (see flint --help)`);
  cli.parse(process.argv, { run: false });
  if (!cli.matchedCommand && !cli.options.help && !cli.options.version) {
    if (cli.args.length > 0) {
      process.stderr.write(`flint: unknown command "${cli.args[0]}"\n`);
      cli.outputHelp();
      process.exitCode = 1;
    } else {
      cli.outputHelp();
    }
  } else {
    await cli.runMatchedCommand();
  }
} catch (err) {
  process.stderr.write(`flint: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
process.exit(process.exitCode ?? 0);
