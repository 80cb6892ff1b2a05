/**
 * Shuffle traffic of the executors one worker (a `flint worker`, a volunteer tab) hosts. Each
 * executor sees every peer as a MessagePort (as between local threads); the router carries what goes
 * through those ports to the right place: straight to another executor of this worker, over a direct
 * link to the peer's worker (a WebSocket between Node workers, an RTCDataChannel where a tab is at
 * either end: the host's `openDirect` decides), or, when no direct link opens or one dies mid-fetch
 * (a network partition between workers), through the coordinator's relay, resending the fetches that
 * were still unanswered. Environment-neutral: the host supplies links, the globals do the rest.
 *
 * A direct link carries a worker's identity only once the coordinator vouched for it: the opener
 * sends the same random nonce in its hello on the link and through the relay (which stamps the
 * sender's worker id), and the other side answers hello only when both agree. So a peer with the
 * cluster token cannot pass for another worker, and the executors of a link speak only for
 * themselves: what claims to come from an executor of another worker closes that link.
 */
import { checkDataMessage, type DataMessage } from './schemas.js';
import { decodeValue, encodeValueShared } from '../codec/records.js';
import type { PeerMessage } from '../exec/protocol.js';
import type { Endpoint } from '../transport/endpoint.js';
import { portEndpoint, type PortLike } from '../transport/message-port.js';

/** What the router needs of an executor its worker hosts (a thread, a Web Worker). */
export interface PeerHostedExecutor {
  onWantPeer(handler: (executorId: string) => void): void;
  /** Hands the executor its end of a channel to `executorId`. */
  givePeer(executorId: string, port: unknown): void;
  refusePeer(executorId: string, reason: string): void;
}

export interface PeerLocation {
  workerId: string | null;
  dataUrl: string | null;
  /** The application the executor works for. */
  appId: string | null;
  /** Whether its worker answers WebRTC offers (absent: it does). */
  webRtc?: boolean;
}

export interface PeerRouterOptions {
  /** This worker's id, as the coordinator knows it. */
  workerId: string;
  locate(executorId: string): Promise<PeerLocation>;
  /** Sends an encoded data message through the coordinator to another worker. */
  relay(toWorker: string, frame: Uint8Array): void;
  /**
   * Opens a direct link to a worker: its data server when it has one (`dataUrl`), a WebRTC data
   * channel otherwise; rejects when none opens within `connectTimeoutMs`.
   */
  openDirect(workerId: string, dataUrl: string | null): Promise<Endpoint>;
  /** Whether a direct link to a worker without a data server can be tried (WebRTC is available). */
  canOpenWithoutDataUrl: boolean;
  connectTimeoutMs: number;
  /**
   * Direct links open at once, and opened over the router's life; past either, peers are reached
   * through the relay. A tab needs both: each link is an RTCPeerConnection, and Chromium allows a
   * page 500 of them in its lifetime.
   */
  maxDirectLinks?: number;
  maxDirectLinksEver?: number;
  log(message: string): void;
}

/** Block bytes this worker exchanged with other workers, by path (for the volunteer page and tests). */
export interface PeerTraffic {
  directLinks: number;
  directBytesIn: number;
  directBytesOut: number;
  relayedBytesIn: number;
  relayedBytesOut: number;
}

function randomNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** How long a new data link may take to say (and prove) who is at its other end. */
const HELLO_TIMEOUT_MS = 10_000;
/** Vouched nonces kept for links that have not said hello yet; more are a flood, not links. */
const MAX_VOUCHED = 1024;

interface Route {
  local: string;
  remote: string;
  /** The router's end of the executor's channel to `remote`. */
  port: Endpoint;
}

interface Link {
  workerId: string;
  mode: 'opening' | 'direct' | 'relay';
  endpoint: Endpoint | null;
  queue: DataMessage[];
  /** Fetches sent over the direct link and not answered yet, resent through the relay if it dies. */
  unanswered: Map<string, DataMessage>;
}

function blockBytes(message: DataMessage): number {
  if (message.t !== 'peer' || message.message.t !== 'blocks') return 0;
  let n = 0;
  for (const b of message.message.data) if (b) n += b.byteLength;
  return n;
}

export class PeerRouter {
  private readonly locals = new Map<string, { thread: PeerHostedExecutor; appId: string }>();
  private readonly routes = new Map<string, Route>();
  private readonly links = new Map<string, Link>();
  private readonly locations = new Map<string, Promise<PeerLocation>>();
  /** Nonces of hellos relayed by the coordinator, with the worker it says sent them. */
  private readonly vouched = new Map<string, string>();
  /** Inbound links waiting for the coordinator to relay their nonce. */
  private readonly awaitingVouch = new Map<string, (workerId: string) => void>();
  private closed = false;
  private directOpened = 0;
  private readonly counters = { directBytesIn: 0, directBytesOut: 0, relayedBytesIn: 0, relayedBytesOut: 0 };

  constructor(private readonly options: PeerRouterOptions) {}

  traffic(): PeerTraffic {
    let directLinks = 0;
    for (const link of this.links.values()) if (link.mode === 'direct') directLinks++;
    return { directLinks, ...this.counters };
  }

  /** Whether one more direct link may open (outbound or inbound). */
  private mayOpenDirect(): boolean {
    let open = 0;
    for (const link of this.links.values()) if (link.mode !== 'relay') open++;
    return open < (this.options.maxDirectLinks ?? Infinity) && this.directOpened < (this.options.maxDirectLinksEver ?? Infinity);
  }

  addLocal(executorId: string, appId: string, thread: PeerHostedExecutor): void {
    this.locals.set(executorId, { thread, appId });
    thread.onWantPeer((remote) => this.wantPeer(executorId, remote));
  }

  /** The executor is gone: its routes close, and peers that talk to it hear so. */
  removeLocal(executorId: string): void {
    this.locals.delete(executorId);
    for (const [key, route] of [...this.routes]) {
      if (route.local !== executorId) continue;
      this.routes.delete(key);
      route.port.close();
      if (!this.locals.has(route.remote)) this.toRemote(route.remote, { t: 'peerGone', from: executorId, to: route.remote });
    }
  }

  /** A local executor wants a channel to `remote`. */
  private wantPeer(local: string, remote: string): void {
    const mine = this.locals.get(local);
    if (!mine) return;
    const other = this.locals.get(remote);
    if (other) {
      // Applications share workers, never blocks: a driver cannot point its tasks at another's.
      if (other.appId !== mine.appId) {
        this.options.log(`refused a channel from executor ${local} to executor ${remote}: they work for different applications`);
        mine.thread.refusePeer(remote, 'that executor works for another application');
        return;
      }
      const { port1, port2 } = new MessageChannel();
      mine.thread.givePeer(remote, port1);
      other.thread.givePeer(local, port2);
      return;
    }
    this.route(local, remote);
  }

  /** The port pair carrying local <-> remote traffic, created (and given to the thread) on first use. */
  private route(local: string, remote: string): Route | null {
    const key = `${local}>${remote}`;
    const existing = this.routes.get(key);
    if (existing) return existing;
    const thread = this.locals.get(local)?.thread;
    if (!thread) return null;
    const { port1, port2 } = new MessageChannel();
    const route: Route = { local, remote, port: portEndpoint(port2 as unknown as PortLike) };
    this.routes.set(key, route);
    route.port.onMessage((message) => this.toRemote(remote, { t: 'peer', from: local, to: remote, message: message as PeerMessage }));
    route.port.onClose(() => {
      if (this.routes.get(key) === route) this.routes.delete(key);
    });
    thread.givePeer(remote, port1);
    return route;
  }

  private toRemote(remote: string, message: DataMessage): void {
    if (this.closed) return;
    void this.where(remote).then((loc) => {
      if (!loc.workerId) {
        // The executor is gone: close the route so the waiting fetch fails at once.
        if (message.t === 'peer') this.routes.get(`${message.from}>${remote}`)?.port.close();
        return;
      }
      const link = this.link(loc.workerId, loc.dataUrl, loc.webRtc !== false);
      if (message.t === 'peer' && message.message.t === 'fetch') link.unanswered.set(`${message.from}>${message.to}#${message.message.reqId}`, message);
      this.sendOn(link, message);
    });
  }

  private where(executorId: string): Promise<PeerLocation> {
    let loc = this.locations.get(executorId);
    if (!loc) {
      loc = this.options.locate(executorId).catch(() => ({ workerId: null, dataUrl: null, appId: null, webRtc: false }));
      this.locations.set(executorId, loc);
      // An executor that was not found may be found later (it was just being lent).
      void loc.then((l) => {
        if (!l.workerId) this.locations.delete(executorId);
      });
    }
    return loc;
  }

  private link(workerId: string, dataUrl: string | null, answersWebRtc: boolean): Link {
    let link = this.links.get(workerId);
    if (link) return link;
    // A worker without a data server is reached over WebRTC, when both ends have it.
    const direct = (dataUrl !== null || (this.options.canOpenWithoutDataUrl && answersWebRtc)) && this.mayOpenDirect();
    if (direct) this.directOpened++;
    link = { workerId, mode: direct ? 'opening' : 'relay', endpoint: null, queue: [], unanswered: new Map() };
    this.links.set(workerId, link);
    if (direct) void this.open(link, dataUrl);
    return link;
  }

  private async open(link: Link, dataUrl: string | null): Promise<void> {
    let endpoint: Endpoint;
    try {
      endpoint = await this.options.openDirect(link.workerId, dataUrl);
    } catch (err) {
      this.noDirectLink(link, (err as Error).message);
      return;
    }
    const hello = { t: 'hello', from: this.options.workerId, protocol: 1, nonce: randomNonce() } satisfies DataMessage;
    endpoint.send(hello);
    this.options.relay(link.workerId, encodeValueShared(hello));
    // Nothing goes over the link before the other side has checked the nonce and answered hello.
    let settled = false;
    const giveUp = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      endpoint.close(why);
      this.noDirectLink(link, why);
    };
    const timer = setTimeout(() => giveUp(`no answer to hello within ${this.options.connectTimeoutMs} ms`), this.options.connectTimeoutMs);
    endpoint.onClose((reason) => giveUp(reason ? reason.message : 'it closed the link before answering hello'));
    endpoint.onMessage((raw) => {
      if (settled) return;
      let m: DataMessage;
      try {
        m = checkDataMessage(raw, `worker ${link.workerId}`);
      } catch (err) {
        giveUp((err as Error).message);
        return;
      }
      if (m.t !== 'hello' || m.from !== link.workerId) {
        giveUp(`expected hello from worker ${link.workerId}, got "${m.t}" from ${m.from}`);
        return;
      }
      settled = true;
      clearTimeout(timer);
      if (this.closed || this.links.get(link.workerId) !== link) {
        endpoint.close();
        return;
      }
      this.options.log(`direct link to worker ${link.workerId} is open`);
      this.useDirect(link, endpoint);
    });
  }

  private noDirectLink(link: Link, why: string): void {
    this.options.log(`no direct link to worker ${link.workerId} (${why}); using the coordinator's relay`);
    // A link the other side opened to us meanwhile serves as well.
    if (link.mode === 'opening') this.toRelay(link);
  }

  private useDirect(link: Link, endpoint: Endpoint): void {
    link.mode = 'direct';
    link.endpoint = endpoint;
    endpoint.onMessage((raw) => this.receive(raw, link.workerId, endpoint));
    endpoint.onClose((reason) => {
      if (link.endpoint !== endpoint || this.closed) return;
      this.options.log(
        `direct link to worker ${link.workerId} ended${reason ? ` (${reason.message})` : ''}; using the coordinator's relay, resending ${link.unanswered.size} unanswered fetch(es)`,
      );
      this.toRelay(link);
      // What was asked over the dead link and never answered is asked again.
      for (const m of link.unanswered.values()) this.sendOn(link, m);
    });
    for (const m of link.queue.splice(0)) this.sendOn(link, m);
  }

  private toRelay(link: Link): void {
    link.mode = 'relay';
    link.endpoint = null;
    for (const m of link.queue.splice(0)) this.sendOn(link, m);
  }

  private sendOn(link: Link, message: DataMessage): void {
    if (link.mode === 'opening') {
      link.queue.push(message);
      return;
    }
    if (link.mode === 'direct') {
      this.counters.directBytesOut += blockBytes(message);
      link.endpoint!.send(message);
    } else {
      this.counters.relayedBytesOut += blockBytes(message);
      this.options.relay(link.workerId, encodeValueShared(message));
    }
  }

  /** A worker (or driver) connected to this worker's data server. */
  acceptDirect(endpoint: Endpoint, peer: string): void {
    let workerId: string | null = null;
    let nonce: string | null = null;
    const timer = setTimeout(() => this.refuse(endpoint, peer, `no verified hello within ${HELLO_TIMEOUT_MS} ms`), HELLO_TIMEOUT_MS);
    endpoint.onClose((reason) => {
      clearTimeout(timer);
      if (nonce !== null) this.awaitingVouch.delete(nonce);
      if (workerId === null && reason) this.options.log(`refused data connection from ${peer}: ${reason.message}`);
    });
    endpoint.onMessage((raw) => {
      if (workerId !== null) {
        this.receive(raw, workerId, endpoint);
        return;
      }
      // An honest opener waits for our hello before it sends anything else.
      if (nonce !== null) {
        this.refuse(endpoint, peer, 'it sent data before its hello was verified');
        return;
      }
      let hello: DataMessage;
      try {
        hello = checkDataMessage(raw, peer);
      } catch (err) {
        this.refuse(endpoint, peer, (err as Error).message);
        return;
      }
      if (hello.t !== 'hello') {
        this.refuse(endpoint, peer, `expected hello, got "${hello.t}"`);
        return;
      }
      if (!hello.nonce) {
        this.refuse(endpoint, peer, 'its hello has no nonce for the coordinator to vouch for');
        return;
      }
      const known = this.links.get(hello.from);
      if ((!known || known.mode === 'relay') && !this.mayOpenDirect()) {
        // The opener hears the link close and reaches us through the relay.
        this.refuse(endpoint, peer, 'this worker has as many direct links as it keeps; use the relay');
        return;
      }
      const claimed = hello.from;
      nonce = hello.nonce;
      this.whenVouched(nonce, (vouchedFor) => {
        if (vouchedFor !== claimed) {
          this.refuse(endpoint, peer, `it claimed to be worker ${claimed}, but its nonce came through the relay from ${vouchedFor}`);
          return;
        }
        clearTimeout(timer);
        nonce = null;
        workerId = claimed;
        endpoint.send({ t: 'hello', from: this.options.workerId, protocol: 1 } satisfies DataMessage);
        // Links are two-way: answers and our own fetches to that worker may use this one too.
        const link = this.links.get(claimed);
        if (!link || link.mode !== 'direct') this.options.log(`direct link to worker ${claimed} is open (it opened it)`);
        if (!link) {
          const fresh: Link = { workerId: claimed, mode: 'opening', endpoint: null, queue: [], unanswered: new Map() };
          this.links.set(claimed, fresh);
          this.directOpened++;
          this.useDirect(fresh, endpoint);
        } else if (link.mode !== 'direct') {
          if (link.mode === 'relay') this.directOpened++;
          this.useDirect(link, endpoint);
        }
      });
    });
  }

  private whenVouched(nonce: string, then: (workerId: string) => void): void {
    const workerId = this.vouched.get(nonce);
    if (workerId === undefined) {
      this.awaitingVouch.set(nonce, then);
      return;
    }
    this.vouched.delete(nonce);
    then(workerId);
  }

  /** The coordinator relayed `nonce` from `workerId`: the direct link that shows it is that worker's. */
  private vouch(nonce: string, workerId: string): void {
    const waiting = this.awaitingVouch.get(nonce);
    if (waiting) {
      this.awaitingVouch.delete(nonce);
      waiting(workerId);
      return;
    }
    if (this.vouched.size >= MAX_VOUCHED) return;
    this.vouched.set(nonce, workerId);
    const timer = setTimeout(() => this.vouched.delete(nonce), HELLO_TIMEOUT_MS);
    (timer as { unref?: () => void }).unref?.();
  }

  /** A data message relayed by the coordinator, which vouches for the sending worker. */
  onRelayed(fromWorker: string, frame: Uint8Array): void {
    let raw: unknown;
    try {
      raw = decodeValue(frame);
    } catch (err) {
      this.options.log(`dropped a malformed relayed frame from worker ${fromWorker}: ${(err as Error).message}`);
      return;
    }
    this.receive(raw, fromWorker, null);
  }

  /** A data message from `fromWorker`, over the direct link `link` or (null) through the relay. */
  private receive(raw: unknown, fromWorker: string, link: Endpoint | null): void {
    const via = link ? 'direct' : 'relay';
    let m: DataMessage;
    try {
      m = checkDataMessage(raw, `worker ${fromWorker} (${via})`);
    } catch (err) {
      this.options.log((err as Error).message);
      link?.close((err as Error).message);
      return;
    }
    if (m.t === 'hello') {
      if (!link && m.nonce) this.vouch(m.nonce, fromWorker);
      return;
    }
    if (!link) {
      // The other side reaches us only through the relay, so our direct link to it is likely dead
      // too (a half-open link after a partition): answers must go back the way that works.
      const direct = this.links.get(fromWorker);
      if (direct?.mode === 'direct') {
        this.options.log(`worker ${fromWorker} reaches us through the relay: leaving the direct link to it`);
        direct.endpoint!.close('the peer reaches us through the relay');
      }
    }
    void this.where(m.from).then((loc) => {
      // Executors speak only for themselves: the sender must be where the coordinator put it.
      if (loc.workerId !== fromWorker) {
        const reason = `worker ${fromWorker} sent a data message claiming to come from executor ${m.from} (${loc.workerId ? `of worker ${loc.workerId}` : 'unknown'})`;
        this.options.log(`dropped: ${reason}`);
        // An executor that just left is unknown without anyone lying; one of another worker is a lie.
        if (loc.workerId) link?.close(reason);
        return;
      }
      if (m.t === 'peerGone') {
        const route = this.routes.get(`${m.to}>${m.from}`);
        if (route) {
          this.routes.delete(`${m.to}>${m.from}`);
          route.port.close();
        }
        return;
      }
      if (m.message.t === 'blocks') {
        this.links.get(fromWorker)?.unanswered.delete(`${m.to}>${m.from}#${m.message.reqId}`);
        if (link) this.counters.directBytesIn += blockBytes(m);
        else this.counters.relayedBytesIn += blockBytes(m);
      }
      const local = this.locals.get(m.to);
      if (local && local.appId !== loc.appId) {
        this.options.log(`dropped a data message from executor ${m.from} to executor ${m.to}: they work for different applications`);
      }
      if (!local || local.appId !== loc.appId) {
        // To the sender, an executor it may not reach is as good as gone: its fetch fails at once.
        this.toRemote(m.from, { t: 'peerGone', from: m.to, to: m.from });
        return;
      }
      const route = this.route(m.to, m.from);
      if (!route) return;
      const transfer: ArrayBuffer[] = [];
      if (m.message.t === 'blocks') {
        for (const b of m.message.data) if (b && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) transfer.push(b.buffer as ArrayBuffer);
      }
      route.port.send(m.message, transfer);
    });
  }

  private refuse(endpoint: Endpoint, peer: string, reason: string): void {
    this.options.log(`refused data connection from ${peer}: ${reason}`);
    endpoint.close(reason);
  }

  /**
   * A worker is gone: routes to its executors close (their pending fetches fail at once) and what
   * we knew of where they were is forgotten.
   */
  workerGone(workerId: string): void {
    const link = this.links.get(workerId);
    this.links.delete(workerId);
    link?.endpoint?.close();
    void Promise.all(
      [...this.locations].map(async ([executorId, loc]) => {
        if ((await loc).workerId !== workerId) return;
        this.locations.delete(executorId);
        for (const [key, route] of [...this.routes]) {
          if (route.remote !== executorId) continue;
          this.routes.delete(key);
          route.port.close();
        }
      }),
    );
  }

  /** The coordinator restarted or the worker is leaving: every location may be stale. */
  forgetLocations(): void {
    this.locations.clear();
  }

  close(): void {
    this.closed = true;
    for (const route of this.routes.values()) route.port.close();
    this.routes.clear();
    for (const link of this.links.values()) link.endpoint?.close();
    this.links.clear();
  }
}
