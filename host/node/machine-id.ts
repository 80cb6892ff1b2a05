/**
 * Which machine this process runs on, to decide whether an executor shares the driver's file
 * system: the same machine writes output and checkpoints directly, any other uploads them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

// machine-id is stable across boots; boot_id is per boot but present wherever /proc is. The host
// name joins them because containers on one host share the kernel's boot_id, not their files.
const SOURCES = ['/etc/machine-id', '/var/lib/dbus/machine-id', '/proc/sys/kernel/random/boot_id'];

let cached: string | null = null;

export function machineId(): string {
  if (cached !== null) return cached;
  let id: string | null = null;
  for (const path of SOURCES) {
    try {
      const text = readFileSync(path, 'utf8').trim();
      if (text.length > 0) {
        id = text;
        break;
      }
    } catch {
      // try the next source
    }
  }
  // Without a machine identity nothing proves that two processes share files: a random one makes
  // every comparison fail, which only costs the shortcut.
  id ??= `unknown-${randomBytes(16).toString('hex')}`;
  cached = createHash('sha256').update(`${id}\n${hostname()}`).digest('hex').slice(0, 32);
  return cached;
}

/** `FLINT_LOCAL_FILES=0` forces executors through the driver's file server even when they could read its files. */
export function localFilesEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.FLINT_LOCAL_FILES !== '0';
}
