/**
 * The worker's peer router (host/cluster/peer-router.ts) with scripted links and executors:
 * after a partition the two ends of a half-open data link notice its death at different moments, so
 * the router must not answer a fetch that came through the relay over a direct link that may be
 * dead; and a link speaks only once the coordinator has vouched for the worker it claims to be.
 */
import type { MessagePort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../../host/codec/records.js';
import type { DataMessage } from '../../host/cluster/schemas.js';
import { PeerRouter, type PeerHostedExecutor, type PeerLocation } from '../../host/cluster/peer-router.js';
import type { Endpoint } from '../../host/transport/endpoint.js';

/** One end of a data link, driven by the test. */
class ScriptedLink implements Endpoint {
  readonly sent: DataMessage[] = [];
  closed = false;
  private handler: ((m: unknown) => void) | null = null;
  private readonly closeHandlers: Array<(reason?: Error) => void> = [];
  send(m: unknown): void {
    if (!this.closed) this.sent.push(m as DataMessage);
  }
  onMessage(h: (m: unknown) => void): void {
    this.handler = h;
  }
  onClose(h: (reason?: Error) => void): void {
    this.closeHandlers.push(h);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.closeHandlers.splice(0)) h();
  }
  say(m: DataMessage): void {
    this.handler?.(m);
  }
}

/** An executor thread that answers every fetch it is given with one block. */
function blockServingThread(): PeerHostedExecutor {
  return {
    onWantPeer: () => undefined,
    givePeer: (_peer: string, port: MessagePort) => {
      port.on('message', (m: { t: string; reqId: number }) => {
        if (m.t === 'fetch') port.postMessage({ t: 'blocks', reqId: m.reqId, data: [new Uint8Array([7])] });
      });
    },
    refusePeer: () => undefined,
  } as unknown as PeerHostedExecutor;
}

const until = async (what: string, probe: () => boolean) => {
  const deadline = Date.now() + 5000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

function router(limits: { maxDirectLinks?: number } = {}) {
  const relayed: Array<{ toWorker: string; message: DataMessage }> = [];
  const logs: string[] = [];
  const where: Record<string, PeerLocation> = {
    'e-1': { workerId: 'W1', dataUrl: 'ws://w1/data', appId: 'app' },
    'e-2': { workerId: 'W2', dataUrl: 'ws://w2/data', appId: 'app' },
  };
  const r = new PeerRouter({
    workerId: 'W2',
    // Links in this test are the ones W1 opens to us; ours fail at once and go through the relay.
    openDirect: () => Promise.reject(new Error('no direct link in this test')),
    canOpenWithoutDataUrl: false,
    connectTimeoutMs: 1000,
    log: (m) => logs.push(m),
    relay: (toWorker, frame) => relayed.push({ toWorker, message: decodeValue(frame) as DataMessage }),
    locate: async (id) => where[id] ?? { workerId: null, dataUrl: null, appId: null },
    ...limits,
  });
  r.addLocal('e-2', 'app', blockServingThread());
  /** W1 opens a direct link to us and proves who it is through the relay. */
  const linkFromW1 = async () => {
    const link = new ScriptedLink();
    r.acceptDirect(link, 'w1:1');
    link.say({ t: 'hello', from: 'W1', protocol: 1, nonce: 'n1' });
    r.onRelayed('W1', encodeValue({ t: 'hello', from: 'W1', protocol: 1, nonce: 'n1' }));
    await until('our hello', () => link.sent.some((m) => m.t === 'hello'));
    return link;
  };
  return { r, relayed, logs, linkFromW1 };
}

const fetch = (reqId: number): DataMessage => ({ t: 'peer', from: 'e-1', to: 'e-2', message: { t: 'fetch', reqId, blocks: [{ shuffleId: 0, mapId: 0, reduceId: 0 }] } });

describe('the peer router', () => {
  it('answers over the direct link a fetch that came over it', async () => {
    const { r, relayed, linkFromW1 } = router();
    const link = await linkFromW1();
    link.say(fetch(1));
    await until('the answer', () => link.sent.some((m) => m.t === 'peer' && m.message.t === 'blocks'));
    expect(relayed.filter((x) => x.message.t === 'peer')).toEqual([]);
    expect(r.traffic()).toEqual({ directLinks: 1, directBytesIn: 0, directBytesOut: 1, relayedBytesIn: 0, relayedBytesOut: 0 });
    r.close();
  });

  it('keeps no more direct links than it may: another worker is refused and reaches it through the relay', async () => {
    const { r, relayed, logs, linkFromW1 } = router({ maxDirectLinks: 1 });
    await linkFromW1();
    const second = new ScriptedLink();
    r.acceptDirect(second, 'w3:1');
    second.say({ t: 'hello', from: 'W3', protocol: 1, nonce: 'n9' });
    expect(second.closed).toBe(true);
    expect(logs.join('\n')).toMatch(/refused data connection from w3:1: this worker has as many direct links as it keeps/);
    r.onRelayed('W1', encodeValue(fetch(4)));
    await until('the relayed answer', () => relayed.some((x) => x.message.t === 'peer' && x.message.message.t === 'blocks'));
    expect(r.traffic()).toMatchObject({ relayedBytesOut: 1 });
    r.close();
  });

  it('answers through the relay a fetch that came through it, leaving the direct link that may be dead', async () => {
    const { r, relayed, logs, linkFromW1 } = router();
    const link = await linkFromW1();
    // W1 gave the link up (its keepalive fired first) and asks again through the relay.
    r.onRelayed('W1', encodeValue(fetch(2)));
    await until('the answer', () => relayed.some((x) => x.message.t === 'peer' && x.message.message.t === 'blocks'));
    expect(link.closed).toBe(true);
    expect(link.sent.filter((m) => m.t === 'peer')).toEqual([]);
    expect(relayed.find((x) => x.message.t === 'peer')).toMatchObject({ toWorker: 'W1', message: { from: 'e-2', to: 'e-1', message: { t: 'blocks', reqId: 2 } } });
    expect(logs.join('\n')).toMatch(/worker W1 reaches us through the relay/);
    r.close();
  });

  it('sends no WebRTC offer to a worker that said it has no WebRTC: its fetches go through the relay at once', async () => {
    const relayed: Array<{ toWorker: string; message: DataMessage }> = [];
    const opened: string[] = [];
    const r = new PeerRouter({
      workerId: 'T0',
      openDirect: (workerId) => {
        opened.push(workerId);
        return new Promise<Endpoint>(() => undefined); // an offer nobody answers
      },
      canOpenWithoutDataUrl: true,
      connectTimeoutMs: 60_000,
      log: () => undefined,
      relay: (toWorker, frame) => relayed.push({ toWorker, message: decodeValue(frame) as DataMessage }),
      locate: async (id) =>
        ({
          'e-5': { workerId: 'T5', dataUrl: null, appId: 'app', webRtc: false },
          'e-6': { workerId: 'T6', dataUrl: null, appId: 'app' },
        })[id] ?? { workerId: null, dataUrl: null, appId: null },
    });
    let wantPeer!: (executorId: string) => void;
    const ports = new Map<string, MessagePort>();
    r.addLocal('e-0', 'app', {
      onWantPeer: (h: (executorId: string) => void) => (wantPeer = h),
      givePeer: (peer: string, port: MessagePort) => ports.set(peer, port),
      refusePeer: () => undefined,
    } as unknown as PeerHostedExecutor);
    for (const peer of ['e-5', 'e-6']) {
      wantPeer(peer);
      ports.get(peer)!.postMessage({ t: 'fetch', reqId: 1, blocks: [{ shuffleId: 0, mapId: 0, reduceId: 0 }] });
    }
    await until('the fetch to T5 through the relay', () => relayed.some((x) => x.toWorker === 'T5' && x.message.t === 'peer'));
    await until('an offer to T6', () => opened.includes('T6'));
    // T6 may answer (absent means yes): its fetch waits for the link; T5 was never offered one.
    expect(opened).toEqual(['T6']);
    expect(relayed.filter((x) => x.toWorker === 'T6' && x.message.t === 'peer')).toEqual([]);
    for (const port of ports.values()) port.close();
    r.close();
  });

  it('takes no word from a link before the coordinator vouched for it, nor a vouch for someone else', async () => {
    const { r, logs } = router();
    const early = new ScriptedLink();
    r.acceptDirect(early, 'x:1');
    early.say({ t: 'hello', from: 'W1', protocol: 1, nonce: 'n2' });
    early.say(fetch(3));
    expect(early.closed).toBe(true);
    const impostor = new ScriptedLink();
    r.acceptDirect(impostor, 'x:2');
    impostor.say({ t: 'hello', from: 'W1', protocol: 1, nonce: 'n3' });
    r.onRelayed('W3', encodeValue({ t: 'hello', from: 'W3', protocol: 1, nonce: 'n3' }));
    expect(impostor.closed).toBe(true);
    expect(impostor.sent).toEqual([]);
    expect(logs.join('\n')).toMatch(/refused data connection from x:2: it claimed to be worker W1, but its nonce came through the relay from W3/);
    r.close();
  });
});
