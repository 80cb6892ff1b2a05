/**
 * Shuffle traffic of the executors one `flint worker` hosts. Each executor thread sees every peer as
 * a MessagePort (as between local threads); the router carries what goes through those ports to the
 * right place: straight to another thread of this worker, over a direct WebSocket to the peer's
 * worker, or, when no direct link opens or one dies mid-fetch (a network partition between workers),
 * through the coordinator's relay, resending the fetches that were still unanswered.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { checkDataMessage, type DataMessage } from '../../cluster/schemas.js';
import { decodeValue, encodeValueShared } from '../../codec/records.js';
import type { PeerMessage } from '../../exec/protocol.js';
import type { Endpoint } from '../../transport/endpoint.js';
import type { ExecutorThread } from '../executor-thread.js';
import { connect } from './connect.js';

export interface PeerLocation {
  workerId: string | null;
  dataUrl: string | null;
}

export interface PeerRouterOptions {
  /** This worker's id, as the coordinator knows it. */
  workerId: string;
  token: string;
  locate(executorId: string): Promise<PeerLocation>;
  /** Sends an encoded data message through the coordinator to another worker. */
  relay(toWorker: string, frame: Uint8Array): void;
  connectTimeoutMs: number;
  log(message: string): void;
}

interface Route {
  local: string;
  remote: string;
  port: MessagePort;
}

interface Link {
  workerId: string;
  mode: 'opening' | 'direct' | 'relay';
  endpoint: Endpoint | null;
  queue: DataMessage[];
  /** Fetches sent over the direct link and not answered yet, resent through the relay if it dies. */
  unanswered: Map<string, DataMessage>;
}

export class PeerRouter {
  private readonly locals = new Map<string, ExecutorThread>();
  private readonly routes = new Map<string, Route>();
  private readonly links = new Map<string, Link>();
  private readonly locations = new Map<string, Promise<PeerLocation>>();
  private closed = false;

  constructor(private readonly options: PeerRouterOptions) {}

  addLocal(executorId: string, thread: ExecutorThread): void {
    this.locals.set(executorId, thread);
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
    const thread = this.locals.get(local);
    if (!thread) return;
    const other = this.locals.get(remote);
    if (other) {
      const { port1, port2 } = new MessageChannel();
      thread.givePeer(remote, port1);
      other.givePeer(local, port2);
      return;
    }
    this.route(local, remote);
  }

  /** The port pair carrying local <-> remote traffic, created (and given to the thread) on first use. */
  private route(local: string, remote: string): Route | null {
    const key = `${local}>${remote}`;
    const existing = this.routes.get(key);
    if (existing) return existing;
    const thread = this.locals.get(local);
    if (!thread) return null;
    const { port1, port2 } = new MessageChannel();
    const route: Route = { local, remote, port: port2 };
    this.routes.set(key, route);
    port2.on('message', (message: PeerMessage) => this.toRemote(remote, { t: 'peer', from: local, to: remote, message }));
    port2.on('close', () => {
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
      const link = this.link(loc.workerId, loc.dataUrl);
      if (message.t === 'peer' && message.message.t === 'fetch') link.unanswered.set(`${message.from}>${message.to}#${message.message.reqId}`, message);
      this.sendOn(link, message);
    });
  }

  private where(executorId: string): Promise<PeerLocation> {
    let loc = this.locations.get(executorId);
    if (!loc) {
      loc = this.options.locate(executorId).catch(() => ({ workerId: null, dataUrl: null }));
      this.locations.set(executorId, loc);
      // An executor that was not found may be found later (it was just being lent).
      void loc.then((l) => {
        if (!l.workerId) this.locations.delete(executorId);
      });
    }
    return loc;
  }

  private link(workerId: string, dataUrl: string | null): Link {
    let link = this.links.get(workerId);
    if (link) return link;
    link = { workerId, mode: dataUrl ? 'opening' : 'relay', endpoint: null, queue: [], unanswered: new Map() };
    this.links.set(workerId, link);
    if (dataUrl) void this.open(link, dataUrl);
    return link;
  }

  private async open(link: Link, dataUrl: string): Promise<void> {
    try {
      const { endpoint } = await connect(dataUrl, { token: this.options.token, label: `worker ${link.workerId}`, timeoutMs: this.options.connectTimeoutMs });
      endpoint.send({ t: 'hello', from: this.options.workerId, protocol: 1 } satisfies DataMessage);
      this.useDirect(link, endpoint);
    } catch (err) {
      this.options.log(`no direct link to worker ${link.workerId} (${(err as Error).message}); using the coordinator's relay`);
      this.toRelay(link);
    }
  }

  private useDirect(link: Link, endpoint: Endpoint): void {
    link.mode = 'direct';
    link.endpoint = endpoint;
    endpoint.onMessage((raw) => this.receive(raw, link.workerId, 'direct'));
    endpoint.onClose((reason) => {
      if (link.endpoint !== endpoint || this.closed) return;
      this.options.log(`direct link to worker ${link.workerId} ended${reason ? ` (${reason.message})` : ''}; using the coordinator's relay`);
      this.toRelay(link);
      // What was asked over the dead link and never answered is asked again.
      for (const m of link.unanswered.values()) this.sendOn(link, m);
    });
    for (const m of link.queue.splice(0)) endpoint.send(m);
  }

  private toRelay(link: Link): void {
    link.mode = 'relay';
    link.endpoint = null;
    for (const m of link.queue.splice(0)) this.sendOn(link, m);
  }

  private sendOn(link: Link, message: DataMessage): void {
    if (link.mode === 'opening') link.queue.push(message);
    else if (link.mode === 'direct') link.endpoint!.send(message);
    else this.options.relay(link.workerId, encodeValueShared(message));
  }

  /** A worker (or driver) connected to this worker's data server. */
  acceptDirect(endpoint: Endpoint, peer: string): void {
    let workerId: string | null = null;
    endpoint.onMessage((raw) => {
      if (workerId === null) {
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
        workerId = hello.from;
        // Links are two-way: answers and our own fetches to that worker may use this one too.
        const link = this.links.get(workerId);
        if (!link) {
          const fresh: Link = { workerId, mode: 'opening', endpoint: null, queue: [], unanswered: new Map() };
          this.links.set(workerId, fresh);
          this.useDirect(fresh, endpoint);
        } else if (link.mode !== 'direct') {
          this.useDirect(link, endpoint);
        } else {
          const from = workerId;
          endpoint.onMessage((m) => this.receive(m, from, 'direct'));
        }
        return;
      }
      this.receive(raw, workerId, 'direct');
    });
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
    this.receive(raw, fromWorker, 'relay');
  }

  private receive(raw: unknown, fromWorker: string, via: 'direct' | 'relay'): void {
    let m: DataMessage;
    try {
      m = checkDataMessage(raw, `worker ${fromWorker} (${via})`);
    } catch (err) {
      this.options.log((err as Error).message);
      if (via === 'direct') this.links.get(fromWorker)?.endpoint?.close((err as Error).message);
      return;
    }
    if (m.t === 'hello') return;
    void this.where(m.from).then((loc) => {
      // Executors speak only for themselves: the sender must be where the coordinator put it.
      if (loc.workerId !== fromWorker) {
        this.options.log(`dropped a data message from worker ${fromWorker} claiming to come from executor ${m.from} (${loc.workerId ? `of worker ${loc.workerId}` : 'unknown'})`);
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
      if (m.message.t === 'blocks') this.links.get(fromWorker)?.unanswered.delete(`${m.to}>${m.from}#${m.message.reqId}`);
      if (!this.locals.has(m.to)) {
        this.toRemote(m.from, { t: 'peerGone', from: m.to, to: m.from });
        return;
      }
      const route = this.route(m.to, m.from);
      if (!route) return;
      const transfer: ArrayBuffer[] = [];
      if (m.message.t === 'blocks') {
        for (const b of m.message.data) if (b && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) transfer.push(b.buffer as ArrayBuffer);
      }
      route.port.postMessage(m.message, transfer);
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
