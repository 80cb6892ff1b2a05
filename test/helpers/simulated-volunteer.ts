/**
 * A browser volunteer simulated in Node, as close to a tab as Node gets: the environment-neutral
 * WorkerHost configured as browser/volunteer/volunteer-host.ts configures it (kind 'browser',
 * capabilities ['wasm'], no data server, untrusted, one core), a WHATWG-style WebSocket to the
 * coordinator's /ws?token= (the `ws` package through the same adapter a tab uses, not Node's
 * turn-batched one), WebRTC through node-datachannel's W3C polyfill for the volunteers that have it
 * (the others reach peers only through the coordinator's relay, as a tab whose WebRTC cannot connect
 * does), and executors that run the *built browser bundle* (browser/build/volunteer-executor.js) in
 * worker threads behind a shim giving it the Web Worker globals it uses. Nothing of the Node executor
 * (host/node/worker-main.ts) runs here.
 *
 * What differs from a tab, on purpose: heartbeats tick from the host's own timer (Node does not
 * throttle them), the host name says "simulated", executor threads run at a lower priority than the
 * thread hosting the volunteers (many simulated tabs share one process; real tabs do not), and
 * `crash()` can end a volunteer abruptly (its socket destroyed without a close frame, its executors
 * terminated), which a test cannot make a real browser do on cue.
 */
import type { ExecutorInit } from '../../browser/volunteer/executor-worker.js';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import WebSocket from 'ws';
import { WorkerHost, type HostedExecutor, type SignalChannel, type WorkerStatus } from '../../host/cluster/worker-host.js';
import type { AppInfo } from '../../host/cluster/schemas.js';
import { FlintError } from '../../host/errors.js';
import { dataChannelEndpoint } from '../../host/transport/data-channel.js';
import type { Endpoint } from '../../host/transport/endpoint.js';
import { openRtcLink, type PeerConnectionLike } from '../../host/transport/rtc-link.js';
import { webSocketEndpoint, type WebSocketLike } from '../../host/transport/websocket.js';

/** As browser/volunteer/volunteer-host.ts. */
const RTC_OPEN_TIMEOUT_MS = 5000;
const TAB_MEMORY_MB = Math.floor(4 * 1024 * 0.25);

export interface SimulatedVolunteerOptions {
  /** The coordinator's http://host:port (the origin a tab is served from). */
  httpUrl: string;
  token: string;
  /** Whether this volunteer opens WebRTC links (else peers reach it only through the relay). */
  webRtc: boolean;
  /** Path of browser/build/volunteer-executor.js. */
  executorBundle: string;
  /** Heap of each executor thread (a tab's Web Worker has its own heap too). */
  executorHeapMb?: number;
  /** Nice value of executor threads (default 10; 0 to leave them level with the hosts). */
  executorNice?: number;
  log(message: string): void;
  onStatus?(status: WorkerStatus): void;
  /** Each executor the coordinator launches here, as it is launched. */
  onExecutor?(executorId: string): void;
}

/**
 * What a Web Worker's global scope gives the executor bundle (browser/volunteer/executor-worker.ts
 * uses self, addEventListener/removeEventListener('message'), postMessage and close), over Node's
 * parentPort. Messages posted before the bundle listens wait in the port, as they wait for a module
 * worker's script. Runs as the thread's CommonJS entry, then imports the bundle (an ES module).
 */
const WEB_WORKER_SHIM = `
const { parentPort, workerData } = require('node:worker_threads');
// Each tab's page runs on its own machine, beside its own Web Worker only; here one thread hosts the
// pages of dozens of volunteers beside all their executors, and would starve behind them. Executors
// yield to the hosts (Linux keeps a nice value per thread), as each tab's page would not wait on
// other tabs' workers.
if (workerData.nice) {
  try {
    const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
    require('node:os').setPriority(tid, workerData.nice);
  } catch {}
}
const wrapped = new Map();
globalThis.self = globalThis;
globalThis.addEventListener = (type, listener) => {
  if (type !== 'message' || wrapped.has(listener)) return;
  const w = (data) => listener({ data });
  wrapped.set(listener, w);
  parentPort.on('message', w);
};
globalThis.removeEventListener = (type, listener) => {
  const w = type === 'message' ? wrapped.get(listener) : undefined;
  if (!w) return;
  wrapped.delete(listener);
  parentPort.off('message', w);
};
globalThis.postMessage = (message, transfer) => parentPort.postMessage(message, transfer);
globalThis.close = () => process.exit(0);
import(workerData.bundleUrl).catch((err) => { setImmediate(() => { throw err; }); });
`;

function spawnExecutor(executorId: string, app: AppInfo, options: SimulatedVolunteerOptions): HostedExecutor {
  if (!app.files) throw new FlintError('CAPABILITY_MISSING', `application ${app.appId} serves no files, which a browser executor needs`);
  const worker = new Worker(WEB_WORKER_SHIM, {
    eval: true,
    name: `flint executor ${executorId}`,
    workerData: { bundleUrl: pathToFileURL(options.executorBundle).href, nice: options.executorNice ?? 10 },
    resourceLimits: { maxOldGenerationSizeMb: options.executorHeapMb ?? 256 },
    stdout: false,
    stderr: false,
  });
  let handler: ((m: unknown) => void) | null = null;
  const early: unknown[] = [];
  let wantPeer: ((executorId: string) => void) | null = null;
  const exitHandlers: Array<(exit: { reason: string; byItself: boolean }) => void> = [];
  let ended = false;
  let terminated = false;
  const end = (reason: string, byItself: boolean) => {
    if (ended) return;
    ended = true;
    for (const h of exitHandlers.splice(0)) h({ reason, byItself });
  };
  let readyResolve!: () => void;
  let readyReject!: (err: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });
  ready.catch(() => undefined);
  worker.on('message', (m: { t?: string; executorId?: string }) => {
    if (m?.t === 'ready') {
      readyResolve();
      return;
    }
    if (m?.t === 'wantPeer') {
      wantPeer?.(m.executorId!);
      return;
    }
    if (handler) handler(m);
    else early.push(m);
  });
  // A Web Worker's failure is an 'error' event; a thread that dies of its own (out of memory) also exits.
  worker.on('error', (err) => {
    const reason = `its Web Worker failed: ${err.message}`;
    readyReject(new Error(reason));
    end(reason, true);
    void worker.terminate();
  });
  worker.on('exit', (code) => {
    if (terminated || code === 0) return;
    readyReject(new Error(`its Web Worker exited with code ${code}`));
    end(`its Web Worker exited with code ${code}`, true);
  });
  const init: ExecutorInit = {
    t: 'init',
    executorId,
    executorMemoryMb: 256,
    cacheMemoryMb: 128,
    chaos: null,
    maxDirectResultBytes: 1024 * 1024,
    files: app.files,
  };
  worker.postMessage(init);
  options.onExecutor?.(executorId);
  return {
    ready,
    send: (m) => worker.postMessage(m),
    onMessage: (h) => {
      handler = h;
      for (const m of early.splice(0)) h(m);
    },
    onWantPeer: (h) => {
      wantPeer = h;
    },
    givePeer: (id, port) => worker.postMessage({ t: 'peer', executorId: id, port }, [port as never]),
    refusePeer: (id, reason) => worker.postMessage({ t: 'peerUnavailable', executorId: id, reason }),
    onExit: (h) => {
      exitHandlers.push(h);
    },
    terminate: async () => {
      terminated = true;
      await worker.terminate();
      end('its Web Worker was stopped', false);
    },
  };
}

export interface SimulatedVolunteer {
  readonly workerId: string;
  readonly host: WorkerHost;
  readonly webRtc: boolean;
  /** Resolves once the coordinator has welcomed it. */
  readonly joined: Promise<void>;
  /** Leaves as a closing tab does (pagehide): decommission, then go once released. */
  decommission(): void;
  /**
   * Ends as a crashed tab or a lost machine does: the socket to the coordinator is destroyed without
   * a close frame, executors and WebRTC links stop; nothing is said to anyone.
   */
  crash(): Promise<void>;
  /** Resolves when the host is done. */
  readonly done: Promise<number>;
}

export function startSimulatedVolunteer(options: SimulatedVolunteerOptions): SimulatedVolunteer {
  const workerId = `tab-${randomBytes(6).toString('hex')}`;
  const base = new URL(options.httpUrl);
  let socket: WebSocket | null = null;
  let host!: WorkerHost;

  /** Checks the token first, as a tab does: a WebSocket refused at its upgrade only says that it closed. */
  const connectToCoordinator = async (): Promise<{ endpoint: Endpoint; localAddress: string }> => {
    let res: Response;
    try {
      res = await fetch(new URL('/api/v1/applications', base), { headers: { authorization: `Bearer ${options.token}` } });
      await res.arrayBuffer();
    } catch (err) {
      throw new FlintError('IO_ERROR', `the coordinator cannot be reached (${(err as Error).message})`);
    }
    if (res.status === 401) throw new FlintError('UNAUTHORIZED', 'the coordinator refused the token');
    const ws = new WebSocket(`ws://${base.host}/ws?token=${encodeURIComponent(options.token)}`);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve());
      ws.addEventListener('close', () => reject(new FlintError('IO_ERROR', 'the coordinator closed the connection')));
      ws.addEventListener('error', () => undefined);
    });
    socket = ws;
    return { endpoint: webSocketEndpoint(ws as unknown as WebSocketLike, { label: 'the coordinator' }), localAddress: base.hostname };
  };

  const peerConnections = new Set<{ close(): void }>();
  const rtcLink = async (peer: string, role: 'offerer' | 'answerer', signals: SignalChannel): Promise<Endpoint> => {
    const raw = new RTCPeerConnection({ iceServers: [], bindAddress: '127.0.0.1' } as never);
    peerConnections.add(raw);
    const pc = raw as unknown as PeerConnectionLike;
    const link = openRtcLink({ pc, role, sendSignal: (s) => signals.send(s), timeoutMs: RTC_OPEN_TIMEOUT_MS });
    signals.onSignal((s) => link.signal(s));
    try {
      const channel = await link.channel;
      const endpoint = dataChannelEndpoint(channel, { label: `worker ${peer} (WebRTC)` });
      endpoint.onClose(() => {
        link.close();
        peerConnections.delete(raw);
      });
      return endpoint;
    } catch (err) {
      peerConnections.delete(raw);
      throw err;
    } finally {
      host.linkSettled(peer, signals.linkId);
    }
  };

  let joinedResolve!: () => void;
  let joinedReject!: (err: Error) => void;
  const joined = new Promise<void>((resolve, reject) => {
    joinedResolve = resolve;
    joinedReject = reject;
  });
  joined.catch(() => undefined);
  host = new WorkerHost({
    workerId,
    host: 'simulated volunteer (Node)',
    cores: 1,
    memoryMb: TAB_MEMORY_MB,
    kind: 'browser',
    capabilities: ['wasm'],
    chaos: null,
    master: base.host,
    log: options.log,
    onStatus: (status) => {
      if (status.connection === 'connected') joinedResolve();
      options.onStatus?.(status);
    },
    backoffDelay: (attempt) => Math.floor(Math.random() * Math.min(10_000, 250 * 2 ** attempt)),
    webRtc: options.webRtc,
    maxDirectLinks: 32,
    maxDirectLinksEver: 400,
    connect: connectToCoordinator,
    dataUrl: async () => null,
    spawn: (executorId, app) => spawnExecutor(executorId, app, options),
    openDirect: (peer, _dataUrl, signals) => (options.webRtc ? rtcLink(peer, 'offerer', signals) : Promise.reject(new Error('no WebRTC here'))),
    ...(options.webRtc
      ? {
          answerDirect: (fromWorker: string, linkId: string, signals: SignalChannel) => {
            void rtcLink(fromWorker, 'answerer', signals).then(
              (endpoint) => host.router.acceptDirect(endpoint, `WebRTC link ${linkId} from ${fromWorker}`),
              (err: Error) => options.log(`no WebRTC link from worker ${fromWorker}: ${err.message}`),
            );
          },
        }
      : {}),
  });

  // As the page does: a refused token ends it; anything else is retried until it joins.
  host.start().catch((err: Error) => joinedReject(err));
  void host.done.then(() => joinedReject(new Error(`volunteer ${workerId} left before it joined`)));

  return {
    workerId,
    host,
    webRtc: options.webRtc,
    joined,
    done: host.done,
    decommission: () => host.decommission(),
    async crash() {
      // Gone without a word: no close frame, no decommission, no goodbye on the links.
      (socket as unknown as { _socket?: { destroy(): void } } | null)?._socket?.destroy();
      for (const pc of peerConnections) pc.close();
      peerConnections.clear();
      await host.stop();
    },
  };
}
