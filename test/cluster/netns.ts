/**
 * Worker hosts in Linux network namespaces for partition tests: one namespace per host, each joined
 * by a veth pair to a bridge in the root namespace, where the coordinator and the driver (the test
 * process) live. Built with iproute2 only; needs root.
 *
 * Names carry the pid of the test process that made them, so a run removes what a crashed run left
 * behind (its pid is gone) without touching the namespaces of a run going on beside it.
 */
import { spawnSync } from 'node:child_process';

export interface NetHost {
  ns: string;
  address: string;
  /** The command prefix that runs a program on this host: `ip netns exec NS`. */
  exec: string[];
}

export interface TestNetwork {
  /** The bridge's address in the root namespace: where the coordinator listens. */
  gateway: string;
  hosts: NetHost[];
  /** Drops every packet between two hosts, both ways; both still reach the gateway. */
  cut(a: NetHost, b: NetHost): void;
  /** Undoes every cut. */
  heal(): void;
  destroy(): void;
}

const PREFIX = 'flint';

/** Why partition tests cannot run here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root (CI runs as root)';
  const ip = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (ip.error || ip.status !== 0) return 'the `ip` command (Debian package iproute2) is missing';
  return null;
}

function ip(...args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** Runs `ip`, ignoring failure: for removing what may already be gone. */
function tryIp(...args: string[]): void {
  spawnSync('ip', args, { encoding: 'utf8' });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function namesOf(pid: number) {
  return {
    ns: (i: number) => `${PREFIX}-${pid}-${i}`,
    bridge: `${PREFIX}b${pid}`,
    veth: (i: number) => `${PREFIX}v${pid}x${i}`,
    peer: (i: number) => `${PREFIX}p${pid}x${i}`,
  };
}

/** Removes the namespaces and links of one run: processes inside first, so nothing keeps them. */
function remove(pid: number): void {
  const names = namesOf(pid);
  for (const ns of ip('netns', 'list').split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(`${PREFIX}-${pid}-`))) {
    for (const p of spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    tryIp('netns', 'del', ns);
  }
  // A namespace can outlive its deletion for a moment; the root side of each veth goes explicitly.
  for (const link of ip('-o', 'link', 'show').split('\n')) {
    const name = /^\d+: ([^:@]+)/.exec(link)?.[1];
    if (name && (name.startsWith(`${PREFIX}v${pid}x`) || name === names.bridge)) tryIp('link', 'del', name);
  }
}

/** Removes what runs of this test left behind when their process died before cleaning up. */
export function removeLeftovers(): void {
  const pids = new Set<number>();
  for (const line of ip('netns', 'list').split('\n')) {
    const m = new RegExp(`^${PREFIX}-(\\d+)-\\d+`).exec(line);
    if (m) pids.add(Number(m[1]));
  }
  for (const line of ip('-o', 'link', 'show').split('\n')) {
    const m = new RegExp(`^\\d+: ${PREFIX}[bv](\\d+)`).exec(line);
    if (m) pids.add(Number(m[1]));
  }
  // Ours are stale too: a run calls this before it builds anything (the pid of a dead run came back).
  for (const pid of pids) if (pid === process.pid || !alive(pid)) remove(pid);
}

/** `count` hosts on one bridge, in a /24 chosen from the pid so that parallel runs do not collide. */
export function createNetwork(count: number): TestNetwork {
  const pid = process.pid;
  const names = namesOf(pid);
  const subnet = `10.${200 + ((pid >> 8) % 50)}.${pid % 256}`;
  const gateway = `${subnet}.1`;
  const hosts: NetHost[] = [];
  try {
    ip('link', 'add', names.bridge, 'type', 'bridge');
    ip('addr', 'add', `${gateway}/24`, 'dev', names.bridge);
    ip('link', 'set', names.bridge, 'up');
    for (let i = 1; i <= count; i++) {
      const ns = names.ns(i);
      const address = `${subnet}.${10 + i}`;
      ip('netns', 'add', ns);
      ip('link', 'add', names.veth(i), 'type', 'veth', 'peer', 'name', names.peer(i));
      ip('link', 'set', names.peer(i), 'netns', ns);
      ip('link', 'set', names.veth(i), 'master', names.bridge);
      ip('link', 'set', names.veth(i), 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', names.peer(i));
      ip('-n', ns, 'link', 'set', names.peer(i), 'up');
      hosts.push({ ns, address, exec: ['ip', 'netns', 'exec', ns] });
    }
  } catch (err) {
    remove(pid);
    throw err;
  }
  const cuts: Array<[NetHost, NetHost]> = [];
  return {
    gateway,
    hosts,
    cut(a, b) {
      // A blackhole route drops silently: no RST, no ICMP, so open connections go half-open, as
      // they do when a switch between two machines fails (new ones fail at once).
      ip('-n', a.ns, 'route', 'add', 'blackhole', `${b.address}/32`);
      ip('-n', b.ns, 'route', 'add', 'blackhole', `${a.address}/32`);
      cuts.push([a, b]);
    },
    heal() {
      for (const [a, b] of cuts.splice(0)) {
        tryIp('-n', a.ns, 'route', 'del', 'blackhole', `${b.address}/32`);
        tryIp('-n', b.ns, 'route', 'del', 'blackhole', `${a.address}/32`);
      }
    },
    destroy: () => remove(pid),
  };
}
