/**
 * A synchronous HTTP request, for planning: transformations are synchronous in Flint, so the size of
 * a `textFile('http://…')` must be known without awaiting. The request runs on a helper worker
 * thread (global fetch) while the calling thread sleeps in Atomics.wait; the answer comes back
 * through receiveMessageOnPort. This is synckit's technique in a few lines; the worker's code is a
 * string so that it runs the same from the sources, the bundle and the tests.
 *
 * A server in the calling thread itself cannot answer while that thread sleeps: such a request
 * times out.
 */
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { FlintError } from '../errors.js';

export interface SyncResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', async ({ signal, port, url, method, headers, timeoutMs }) => {
  let answer;
  try {
    const res = await fetch(url, { method, headers, signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    answer = { status: res.status, headers: Object.fromEntries(res.headers) };
  } catch (err) {
    const cause = err && err.cause && err.cause.message ? ' (' + err.cause.message + ')' : '';
    answer = { error: String(err && err.message ? err.message : err) + cause };
  }
  port.postMessage(answer);
  port.close();
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});
`;

let worker: Worker | null = null;

function helper(): Worker {
  if (worker) return worker;
  const w = new Worker(WORKER_SOURCE, { eval: true, stdout: false, stderr: false });
  // The helper must never keep a finished program alive.
  w.unref();
  w.on('error', () => undefined);
  w.on('exit', () => {
    if (worker === w) worker = null;
  });
  return (worker = w);
}

export function syncHttpRequest(
  url: string,
  init: { method: 'HEAD' | 'GET'; headers?: Record<string, string>; timeoutMs?: number },
): SyncResponse {
  const timeoutMs = init.timeoutMs ?? 30_000;
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  try {
    helper().postMessage({ signal, port: port2, url, method: init.method, headers: init.headers ?? {}, timeoutMs }, [port2]);
    // The helper aborts its fetch at timeoutMs; the margin covers a helper that is still starting.
    if (Atomics.wait(signal, 0, 0, timeoutMs + 5_000) === 'timed-out') {
      throw new FlintError('IO_ERROR', `${init.method} ${url}: no answer within ${timeoutMs} ms`);
    }
    const answer = receiveMessageOnPort(port1)?.message as SyncResponse | { error: string } | undefined;
    if (answer === undefined) throw new FlintError('IO_ERROR', `${init.method} ${url}: the request helper gave no answer`);
    if ('error' in answer) throw new FlintError('IO_ERROR', `${init.method} ${url}: ${answer.error}`);
    return answer;
  } finally {
    port1.close();
  }
}
