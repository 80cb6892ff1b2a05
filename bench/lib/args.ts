/** A bench's command line: `--quick`, and options given as `--name value` or `--name=value`. */
const argv = process.argv.slice(2);

export function flag(name: string): boolean {
  return argv.includes(name);
}

export function option(name: string): string | null {
  const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return null;
  return argv[i]!.includes('=') ? argv[i]!.slice(name.length + 1) : (argv[i + 1] ?? null);
}
