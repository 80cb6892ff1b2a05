/**
 * The Endpoint contract (host/transport/endpoint.ts, docs/PROTOCOL.md), checked on every transport:
 * ordered reliable delivery, buffering until a handler is attached, close firing once on both sides,
 * large messages intact, and for network transports size limits, malformed input and backpressure.
 */
import { MessageChannel } from 'node:worker_threads';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { FlintError } from '../../host/errors.js';
import type { Endpoint } from '../../host/transport/endpoint.js';
import { loopbackPair } from '../../host/transport/loopback.js';
import { portEndpoint, type PortLike } from '../../host/transport/message-port.js';
import { webSocketEndpoint, type WebSocketLike } from '../../host/transport/websocket.js';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { dataChannelEndpoint } from '../../host/transport/data-channel.js';
import { openRtcLink, type PeerConnectionLike, type RtcLink } from '../../host/transport/rtc-link.js';

let server: WebSocketServer;
let port = 0;
const accepted: WebSocket[] = [];
beforeAll(async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server.on('connection', (ws) => accepted.push(ws));
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  for (const ws of accepted) ws.terminate();
  await new Promise((r) => server.close(r));
});

/** A connected pair of raw WebSockets: the client and the server's side. */
async function rawWebSocketPair(): Promise<{ client: WebSocket; server: WebSocket }> {
  const before = accepted.length;
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  await once(client, 'open');
  while (accepted.length === before) await new Promise((r) => setTimeout(r, 1));
  return { client, server: accepted[accepted.length - 1]! };
}

/** A connected pair of WebSocket endpoints, with a small frame size so that chunking is exercised. */
async function webSocketPair(options = { frameBytes: 4096, maxMessageBytes: 8 * 1024 * 1024 }): Promise<[Endpoint, Endpoint, { client: WebSocket; server: WebSocket }]> {
  const raw = await rawWebSocketPair();
  return [webSocketEndpoint(raw.client as unknown as WebSocketLike, options), webSocketEndpoint(raw.server as unknown as WebSocketLike, options), raw];
}

/** Two node-datachannel peers on loopback, signalling each other directly. */
async function dataChannelPair(): Promise<[Endpoint, Endpoint]> {
  const make = () => new RTCPeerConnection({ iceServers: [], bindAddress: '127.0.0.1' } as never) as unknown as PeerConnectionLike;
  const links: RtcLink[] = [];
  const a = openRtcLink({ pc: make(), role: 'offerer', sendSignal: (s) => queueMicrotask(() => links[1]!.signal(s)), timeoutMs: 10_000 });
  const b = openRtcLink({ pc: make(), role: 'answerer', sendSignal: (s) => queueMicrotask(() => links[0]!.signal(s)), timeoutMs: 10_000 });
  links.push(a, b);
  const [ca, cb] = await Promise.all([a.channel, b.channel]);
  const ea = dataChannelEndpoint(ca);
  const eb = dataChannelEndpoint(cb);
  for (const [e, l] of [[ea, a], [eb, b]] as const) e.onClose(() => l.close());
  return [ea, eb];
}

const transports: Array<[string, () => Promise<[Endpoint, Endpoint]>]> = [
  ['loopback', async () => loopbackPair()],
  [
    'MessagePort',
    async () => {
      const { port1, port2 } = new MessageChannel();
      return [portEndpoint(port1 as unknown as PortLike), portEndpoint(port2 as unknown as PortLike)];
    },
  ],
  ['WebSocket', async () => (await webSocketPair()).slice(0, 2) as [Endpoint, Endpoint]],
  ['RTCDataChannel', dataChannelPair],
];

function receiver(e: Endpoint): { got: unknown[]; until(n: number): Promise<void> } {
  const got: unknown[] = [];
  const waiters: Array<() => void> = [];
  e.onMessage((m) => {
    got.push(m);
    for (const w of waiters.splice(0)) w();
  });
  return {
    got,
    async until(n) {
      const deadline = Date.now() + 10_000;
      while (got.length < n) {
        if (Date.now() > deadline) throw new Error(`only ${got.length} of ${n} messages arrived`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
    },
  };
}

const closed = (e: Endpoint) => new Promise<Error | undefined>((r) => e.onClose(r));

describe.each(transports)('%s endpoint', (_name, pair) => {
  it('delivers every message in order, both ways, with record types intact', async () => {
    const [a, b] = await pair();
    const ra = receiver(a);
    const rb = receiver(b);
    const sent = Array.from({ length: 2000 }, (_, i) => ({ i, s: 'x'.repeat(i % 50), bytes: new Uint8Array([i & 255, 7]), big: BigInt(i) * 10n ** 20n, z: -0, m: new Map([[i, [i]]]) }));
    for (const m of sent) a.send(m);
    for (const m of sent.slice(0, 10)) b.send(m);
    await rb.until(2000);
    await ra.until(10);
    expect(rb.got).toEqual(sent);
    expect(Object.is((rb.got[5] as { z: number }).z, -0)).toBe(true);
    expect(ra.got).toEqual(sent.slice(0, 10));
    a.close();
  });

  it('buffers messages that arrive before a handler is attached', async () => {
    const [a, b] = await pair();
    for (let i = 0; i < 50; i++) a.send({ i });
    await new Promise((r) => setTimeout(r, 50));
    const rb = receiver(b);
    await rb.until(50);
    expect(rb.got.map((m) => (m as { i: number }).i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    a.close();
  });

  it('carries a large message intact', async () => {
    const [a, b] = await pair();
    const rb = receiver(b);
    const big = new Uint8Array(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 255;
    a.send({ before: 1 });
    a.send({ big });
    a.send({ after: 2 });
    await rb.until(3);
    expect(rb.got[0]).toEqual({ before: 1 });
    // Compared as bytes: a deep equality over 3 M elements would dominate the test.
    expect(Buffer.compare((rb.got[1] as { big: Uint8Array }).big, big)).toBe(0);
    expect(rb.got[2]).toEqual({ after: 2 });
    a.close();
  });

  it('fires close once on both sides, also for handlers added later, and delivers nothing after', async () => {
    const [a, b] = await pair();
    let aCloses = 0;
    let bCloses = 0;
    a.onClose(() => aCloses++);
    b.onClose(() => bCloses++);
    const rb = receiver(b);
    const bClosed = closed(b);
    a.close();
    a.close();
    a.send({ late: true });
    await bClosed;
    await new Promise((r) => setTimeout(r, 30));
    expect(aCloses).toBe(1);
    expect(bCloses).toBe(1);
    expect(rb.got).toEqual([]);
    expect(await Promise.race([closed(a).then(() => 'fired'), new Promise((r) => setTimeout(() => r('not fired'), 500))])).toBe('fired');
  });
});

describe('network endpoint limits', () => {
  it('refuses to send a message over the limit, and closes when one arrives over it', async () => {
    const [a] = await webSocketPair({ frameBytes: 4096, maxMessageBytes: 64 * 1024 });
    expect(() => a.send({ big: new Uint8Array(100 * 1024) })).toThrow(/larger than the 65536-byte limit/);
    a.close();
    // A sender with a generous limit against a receiver with a small one.
    const raw = await rawWebSocketPair();
    const loose = webSocketEndpoint(raw.client as unknown as WebSocketLike, { frameBytes: 4096, maxMessageBytes: 8 * 1024 * 1024 });
    const strict = webSocketEndpoint(raw.server as unknown as WebSocketLike, { frameBytes: 4096, maxMessageBytes: 1024 * 1024 });
    const reason = closed(strict);
    loose.send({ big: new Uint8Array(2 * 1024 * 1024) });
    const err = await reason;
    expect((err as FlintError).code).toBe('PROTOCOL_ERROR');
    expect(err!.message).toMatch(/larger than the 1048576-byte limit/);
  });

  it('closes a connection that sends a malformed frame, with a reason, and keeps the others', async () => {
    const [, victim, raw] = await webSocketPair();
    const [x, y] = await webSocketPair();
    const ry = receiver(y);
    const reason = closed(victim);
    raw.client.send(new Uint8Array([0x01, 0, 0, 0, 200, 1, 2]));
    const err = await reason;
    expect(err).toBeInstanceOf(FlintError);
    expect((err as FlintError).code).toBe('PROTOCOL_ERROR');
    expect(err!.message).toMatch(/message longer than its frame/);
    x.send({ still: 'fine' });
    await ry.until(1);
    expect(ry.got).toEqual([{ still: 'fine' }]);
    x.close();
  });

  it('closes on text frames and unknown frame kinds', async () => {
    const [, victim, raw] = await webSocketPair();
    const reason = closed(victim);
    raw.client.send('hello');
    expect((await reason)?.message).toMatch(/text frame/);
    const [, victim2, raw2] = await webSocketPair();
    const reason2 = closed(victim2);
    raw2.client.send(new Uint8Array([0x7f, 1]));
    expect((await reason2)?.message).toMatch(/unknown frame kind/);
  });

  it('exposes backpressure: bufferedAmount grows with unsent bytes and writable() waits for it to drain', async () => {
    const [a, b] = await webSocketPair({ frameBytes: 64 * 1024, maxMessageBytes: 64 * 1024 * 1024 });
    const rb = receiver(b);
    const chunk = new Uint8Array(1024 * 1024);
    for (let i = 0; i < 16; i++) a.send({ chunk });
    expect(a.bufferedAmount!()).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    await a.writable!();
    expect(a.bufferedAmount!()).toBeLessThan(4 * 1024 * 1024);
    await rb.until(16);
    a.close();
  });
});

describe('data channel endpoint', () => {
  it('ends with a reason, not a throw out of its flush, when the channel refuses a send it said it would take', async () => {
    // node-datachannel's channel can say 'open' and still throw "DataChannel is closed" when its other
    // end just went; a browser's throws on a full buffer. Sends happen in a microtask of the framing.
    let closedByEndpoint = false;
    const channel = {
      binaryType: 'arraybuffer',
      readyState: 'open',
      bufferedAmount: 0,
      bufferedAmountLowThreshold: 0,
      send() {
        throw new Error('libdatachannel error while sending data channel message: DataChannel is closed');
      },
      close() {
        closedByEndpoint = true;
      },
      addEventListener() {},
    };
    const endpoint = dataChannelEndpoint(channel);
    const reason = new Promise<Error | undefined>((resolve) => endpoint.onClose(resolve));
    expect(() => endpoint.send({ t: 'fetch', reqId: 1 })).not.toThrow();
    expect((await reason)?.message).toMatch(/the data channel refused a message: .*DataChannel is closed/);
    expect(closedByEndpoint).toBe(true);
    // Nothing more goes out, and nothing throws.
    expect(() => endpoint.send({ t: 'fetch', reqId: 2 })).not.toThrow();
  }, 10_000);
});
