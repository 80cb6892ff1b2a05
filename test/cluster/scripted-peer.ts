/**
 * Scripted peers of the environment-neutral coordinator (host/cluster/coordinator.ts): an endpoint
 * the test speaks through and whose received messages it reads, and the hellos of a worker and of a
 * driver.
 */
import type { Endpoint } from '../../host/transport/endpoint.js';

/** One side of a connection, driven by the test: what the coordinator sends is recorded. */
export class Scripted implements Endpoint {
  readonly sent: Array<Record<string, unknown>> = [];
  closed: string | null = null;
  private handler: ((m: unknown) => void) | null = null;
  private readonly early: unknown[] = [];
  private readonly closeHandlers: Array<(reason?: Error) => void> = [];

  constructor(readonly peer: string) {}

  send(message: unknown): void {
    if (this.closed === null) this.sent.push(message as Record<string, unknown>);
  }
  onMessage(handler: (message: unknown) => void): void {
    this.handler = handler;
    for (const m of this.early.splice(0)) handler(m);
  }
  onClose(handler: (reason?: Error) => void): void {
    this.closeHandlers.push(handler);
  }
  close(reason?: string): void {
    if (this.closed !== null) return;
    this.closed = reason ?? '';
    for (const h of this.closeHandlers.splice(0)) h();
  }
  /** The peer sends `message`. */
  say(message: unknown): void {
    if (this.closed !== null) return;
    if (this.handler) this.handler(message);
    else this.early.push(message);
  }
  of<T extends string>(t: T): Array<Record<string, unknown>> {
    return this.sent.filter((m) => m.t === t);
  }
}

export const workerHello = (workerId: string, cores = 2) => ({
  t: 'hello',
  role: 'worker',
  protocol: 1,
  workerId,
  host: 'h',
  cores,
  memoryMb: 1024,
  kind: 'node',
  capabilities: ['node', 'wasm', 'trusted'],
  dataUrl: null,
});
export const driverHello = (appName = 'app') => ({
  t: 'hello',
  role: 'driver',
  protocol: 1,
  appName,
  maxCores: 1 as number | null,
  files: null,
  machineId: 'm',
  useWasm: true,
  host: 'h',
});
