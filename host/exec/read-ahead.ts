/**
 * A response body read ahead of its consumer: chunks are pulled as fast as the network gives them,
 * up to a bound, while the consumer scans what came before. A browser pulls a fetch body from its
 * network process only when asked, and the pipe between them holds little, so a reader that asks
 * only when it has finished scanning leaves the transfer idle while it scans and itself idle while it
 * waits (seen in a tab's word count: its Web Worker waited on the network 40% of a line count).
 */

/** Bytes held ahead of the consumer before the pump waits for it. */
const AHEAD_BYTES = 8 * 1024 * 1024;

export class ReadAhead {
  private readonly chunks: Uint8Array[] = [];
  private held = 0;
  private done = false;
  private error: unknown = null;
  /** The consumer waiting for a chunk, or the pump waiting for room. */
  private wakeConsumer: (() => void) | null = null;
  private wakePump: (() => void) | null = null;
  private cancelled = false;

  constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    private readonly aheadBytes = AHEAD_BYTES,
  ) {
    void this.pump();
  }

  /** The next chunk, or done; rethrows what the body failed with. */
  async read(): Promise<{ done: true } | { done: false; value: Uint8Array }> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk !== undefined) {
        this.held -= chunk.length;
        if (this.wakePump && this.held < this.aheadBytes) this.wake('pump');
        return { done: false, value: chunk };
      }
      if (this.error !== null) throw this.error;
      if (this.done) return { done: true };
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
    }
  }

  async cancel(): Promise<void> {
    this.cancelled = true;
    this.chunks.length = 0;
    this.held = 0;
    this.wake('pump');
    await this.reader.cancel().catch(() => undefined);
  }

  private async pump(): Promise<void> {
    try {
      while (!this.cancelled) {
        if (this.held >= this.aheadBytes) {
          await new Promise<void>((resolve) => (this.wakePump = resolve));
          continue;
        }
        const r = await this.reader.read();
        if (this.cancelled) return;
        if (r.done) break;
        this.chunks.push(r.value);
        this.held += r.value.length;
        this.wake('consumer');
      }
      this.done = true;
    } catch (err) {
      if (this.cancelled) return;
      this.error = err;
    }
    this.wake('consumer');
  }

  private wake(who: 'consumer' | 'pump'): void {
    const f = who === 'consumer' ? this.wakeConsumer : this.wakePump;
    if (who === 'consumer') this.wakeConsumer = null;
    else this.wakePump = null;
    f?.();
  }
}
