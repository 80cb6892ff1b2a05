/**
 * One message channel between a driver and an executor, between two executors, or between a
 * process and the coordinator. Worker threads, MessagePorts, WebSockets and RTCDataChannels each
 * adapt to this interface, so the executor and the scheduler never know which one they talk over.
 *
 * The contract every transport keeps (docs/PROTOCOL.md; test/transport/conformance.test.ts):
 * - delivery is reliable and in order while the channel lives; nothing is delivered after close;
 * - messages that arrive before `onMessage` is attached are buffered, not lost;
 * - `onClose` handlers run exactly once, when either side closes or the link fails, with an Error
 *   when the end was not a clean close; a handler added after the end runs at once;
 * - a message larger than the transport's limit is refused by `send` (FlintError PROTOCOL_ERROR),
 *   and one that arrives larger, or malformed, closes the channel with a reason;
 * - network transports expose backpressure: `bufferedAmount()` bytes not yet written out, and
 *   `writable()` resolving once it is below the low-water mark (in-memory ones omit both).
 */
export interface Endpoint {
  /** `transfer` lists ArrayBuffers (or ports) whose ownership moves with the message where the
   *  transport supports it; other transports copy. */
  send(message: unknown, transfer?: readonly unknown[]): void;
  onMessage(handler: (message: unknown) => void): void;
  /** Called once when the other side is gone (closed, crashed, disconnected). */
  onClose(handler: (reason?: Error) => void): void;
  close(reason?: string): void;
  bufferedAmount?(): number;
  writable?(): Promise<void>;
  /**
   * Network transports that cut large messages into chunks call `handler` as each chunk arrives: a
   * peer in the middle of a message of many megabytes (a shuffle block through the coordinator's
   * relay, from a browser) shows it is alive long before the message ends.
   */
  onProgress?(handler: () => void): void;
}

/** Waits until `endpoint` can take more data; in-memory endpoints always can. */
export function whenWritable(endpoint: Endpoint): Promise<void> {
  return endpoint.writable ? endpoint.writable() : Promise.resolve();
}
