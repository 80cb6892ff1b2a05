/**
 * When the coordinator declares a worker lost: after three seconds without a message, unless the
 * worker is in the middle of a large one. A tab sends a shuffle block for the relay in chunks at its
 * browser's pace, and its heartbeats queue behind them; chunks arriving say it is alive.
 */
import { describe, expect, it } from 'vitest';
import { Coordinator } from '../../host/cluster/coordinator.js';
import type { Endpoint } from '../../host/transport/endpoint.js';
import { ManualClock } from '../schedule/fake-cluster.js';

class Connection implements Endpoint {
  readonly sent: Array<Record<string, unknown>> = [];
  closed = false;
  private handler: ((m: unknown) => void) | null = null;
  private readonly progress: Array<() => void> = [];
  send(message: unknown): void {
    this.sent.push(message as Record<string, unknown>);
  }
  onMessage(handler: (message: unknown) => void): void {
    this.handler = handler;
  }
  onClose(): void {}
  close(): void {
    this.closed = true;
  }
  onProgress(handler: () => void): void {
    this.progress.push(handler);
  }
  say(message: unknown): void {
    this.handler?.(message);
  }
  /** A chunk of a large message arrived. */
  chunk(): void {
    for (const h of this.progress) h();
  }
}

const hello = (workerId: string) => ({ t: 'hello', role: 'worker', protocol: 1, workerId, host: 'h', cores: 1, memoryMb: 1024, kind: 'browser', capabilities: ['wasm'], dataUrl: null });

describe('worker liveness', () => {
  it('a worker silent for 3 s is lost; one sending the chunks of a large message is not', () => {
    const clock = new ManualClock();
    const logs: string[] = [];
    const coordinator = new Coordinator({ clock, heartbeatTimeoutMs: 3000, helloTimeoutMs: 10_000, log: (m) => logs.push(m) });
    const busy = new Connection();
    const silent = new Connection();
    coordinator.accept(busy, 'busy');
    busy.say(hello('tab-busy'));
    coordinator.accept(silent, 'silent');
    silent.say(hello('tab-silent'));
    for (let t = 0; t < 10_000; t += 500) {
      busy.chunk();
      clock.advance(500);
    }
    expect(silent.closed).toBe(true);
    expect(logs.some((l) => /tab-silent .* left: no heartbeat/.test(l))).toBe(true);
    expect(busy.closed).toBe(false);
    // Once the chunks stop, silence counts again.
    clock.advance(3500);
    expect(busy.closed).toBe(true);
    coordinator.stop();
  });
});
