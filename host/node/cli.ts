/**
 * The `flint` command: its subcommands and flags. `flint run <job>` is run-job.ts.
 */
import { cac } from 'cac';
import { createRequire } from 'node:module';
import { runJob } from './run-job.js';

// Job bundles carry inline source maps: stacks and stage names then point at the user's own file.
process.setSourceMapsEnabled(true);
const version = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

const cli = cac('flint');

cli
  .command('run <job> [...args]', 'Run a job file (.ts, .mts, .js or .mjs); arguments after -- go to the job')
  .option('--master <master>', "Executors: 'local', 'local[N]' or 'local[*]' (overrides the job's own setting)")
  .option('--no-progress', 'Do not show progress bars (the summary is still printed)')
  .example('flint run examples/wordcount.ts --master local[2] -- data/sample.txt')
  .action((job: string, args: string[], options: { master?: string; progress?: boolean; '--'?: string[] }) =>
    runJob(job, [...args, ...(options['--'] ?? [])], options),
  );

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
