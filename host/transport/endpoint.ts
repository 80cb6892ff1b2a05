/**
 * One message channel between a driver and an executor, or between two executors. Worker threads,
 * MessagePorts, WebSockets and RTCDataChannels each adapt to this interface, so the executor and
 * the scheduler never know which one they talk over.
 */
export interface Endpoint {
  /** `transfer` lists ArrayBuffers (or ports) whose ownership moves with the message where the
   *  transport supports it; other transports copy. */
  send(message: unknown, transfer?: readonly unknown[]): void;
  onMessage(handler: (message: unknown) => void): void;
  /** Called once when the other side is gone (closed, crashed, disconnected). */
  onClose(handler: (reason?: Error) => void): void;
  close(): void;
}
