/**
 * What a tab brings to the environment-neutral WorkerHost (host/cluster/worker-host.ts): a
 * WebSocket to the coordinator it was served from, executors in Web Workers, and WebRTC data
 * channels (the browser's own RTCPeerConnection) for links to other tabs and to Node workers.
 */
import { WorkerHost, type HostedExecutor, type SignalChannel, type WorkerStatus } from '../../host/cluster/worker-host.js';
import type { AppInfo } from '../../host/cluster/schemas.js';
import type { ChaosSpec } from '../../host/exec/chaos.js';
import { FlintError } from '../../host/errors.js';
import { dataChannelEndpoint } from '../../host/transport/data-channel.js';
import type { Endpoint } from '../../host/transport/endpoint.js';
import { openRtcLink, type PeerConnectionLike } from '../../host/transport/rtc-link.js';
import { webSocketEndpoint, type WebSocketLike } from '../../host/transport/websocket.js';
import type { ExecutorInit } from './executor-worker.js';

export interface VolunteerOptions {
  token: string;
  cores: number;
  chaos: ChaosSpec | null;
  onStatus(status: WorkerStatus): void;
  log(message: string): void;
}

const RTC_OPEN_TIMEOUT_MS = 5000;

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Full-jitter exponential backoff, as Node workers use. */
function backoffDelay(attempt: number): number {
  return Math.floor(Math.random() * Math.min(10_000, 250 * 2 ** attempt));
}

function browserName(): string {
  const ua = navigator.userAgent;
  const m = /(Chrome|Chromium|Firefox|Safari)\/(\d+)/.exec(ua);
  return m ? `${m[1]} ${m[2]}` : 'a browser';
}

/**
 * Runs callbacks in later tasks through a MessageChannel: unlike timers, its messages are not
 * throttled in a hidden page, and other work (a heartbeat, an executor's result) runs in between.
 */
function macrotasks(): (resume: () => void) => void {
  const channel = new MessageChannel();
  const waiting: Array<() => void> = [];
  channel.port1.onmessage = () => waiting.shift()?.();
  return (resume) => {
    waiting.push(resume);
    channel.port2.postMessage(0);
  };
}

/** What the coordinator connection hands WebSocket.send per task: see FramingOptions.sliceBytes. */
const COORDINATOR_SLICE_BYTES = 4 * 1024 * 1024;

/** Checks the token first: a WebSocket refused at its upgrade only says that it closed. */
async function connectToCoordinator(token: string): Promise<{ endpoint: Endpoint; localAddress: string }> {
  let res: Response;
  try {
    res = await fetch('/api/v1/applications', { headers: { authorization: `Bearer ${token}` } });
  } catch (err) {
    throw new FlintError('IO_ERROR', `the coordinator cannot be reached (${(err as Error).message})`);
  }
  if (res.status === 401) {
    throw new FlintError('UNAUTHORIZED', 'the coordinator refused the token in this page’s address: open the volunteer link that flint serve printed');
  }
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?token=${encodeURIComponent(token)}`);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('close', () => reject(new FlintError('IO_ERROR', 'the coordinator closed the connection')));
  });
  // A shuffle block relayed through the coordinator may be tens of megabytes: copied into the socket
  // a slice per task, so that heartbeats and results are not held up while the page copies it.
  const endpoint = webSocketEndpoint(ws as unknown as WebSocketLike, { label: 'the coordinator', sliceBytes: COORDINATOR_SLICE_BYTES, yieldTo: macrotasks() });
  return { endpoint, localAddress: location.hostname };
}

function spawnExecutor(executorId: string, app: AppInfo, chaos: ChaosSpec | null): HostedExecutor {
  if (!app.files) throw new FlintError('CAPABILITY_MISSING', `application ${app.appId} serves no files, which a browser executor needs`);
  const worker = new Worker(new URL('./executor.js', import.meta.url), { type: 'module', name: `flint executor ${executorId}` });
  let handler: ((m: unknown) => void) | null = null;
  const early: unknown[] = [];
  let wantPeer: ((executorId: string) => void) | null = null;
  const exitHandlers: Array<(exit: { reason: string; byItself: boolean }) => void> = [];
  let ended = false;
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
  worker.addEventListener('message', (event: MessageEvent) => {
    const m = event.data as { t?: string; executorId?: string };
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
  worker.addEventListener('error', (event: ErrorEvent) => {
    const reason = `its Web Worker failed: ${event.message}`;
    readyReject(new Error(reason));
    end(reason, true);
    worker.terminate();
  });
  const init: ExecutorInit = {
    t: 'init',
    executorId,
    executorMemoryMb: 256,
    cacheMemoryMb: 128,
    chaos,
    // Bigger results are pulled by the driver in parts rather than pushed through the relay at once.
    maxDirectResultBytes: 1024 * 1024,
    files: app.files,
  };
  worker.postMessage(init);
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
    givePeer: (id, port) => worker.postMessage({ t: 'peer', executorId: id, port }, [port as MessagePort]),
    refusePeer: (id, reason) => worker.postMessage({ t: 'peerUnavailable', executorId: id, reason }),
    onExit: (h) => {
      exitHandlers.push(h);
    },
    terminate: async () => {
      worker.terminate();
      end('its Web Worker was stopped', false);
    },
  };
}

/**
 * A metronome in a Web Worker: a hidden page's timers are throttled (to one wake-up a minute in
 * Chrome after five minutes), a dedicated worker's are not, and its messages wake the page.
 */
function workerInterval(ms: number, tick: () => void): () => void {
  const source = `setInterval(() => postMessage(0), ${Math.max(10, Math.floor(ms))});`;
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const worker = new Worker(url, { name: 'flint heartbeat' });
  URL.revokeObjectURL(url);
  worker.onmessage = () => tick();
  return () => worker.terminate();
}

export function startVolunteer(options: VolunteerOptions): WorkerHost {
  const workerId = `tab-${randomHex(6)}`;
  let host!: WorkerHost;
  const rtcLink = async (peer: string, role: 'offerer' | 'answerer', signals: SignalChannel): Promise<Endpoint> => {
    const pc = new RTCPeerConnection({ iceServers: [] }) as unknown as PeerConnectionLike;
    const link = openRtcLink({ pc, role, sendSignal: (s) => signals.send(s), timeoutMs: RTC_OPEN_TIMEOUT_MS });
    signals.onSignal((s) => link.signal(s));
    try {
      const channel = await link.channel;
      const endpoint = dataChannelEndpoint(channel, { label: `worker ${peer} (WebRTC)` });
      endpoint.onClose(() => link.close());
      return endpoint;
    } finally {
      host.linkSettled(peer, signals.linkId);
    }
  };
  const deviceMemoryGb = (navigator as { deviceMemory?: number }).deviceMemory ?? 4;
  // Some browsers have WebRTC turned off (a policy, an extension): peers then reach this tab through
  // the relay, told so by its hello rather than by an offer left unanswered.
  const webRtc = typeof RTCPeerConnection === 'function';
  host = new WorkerHost({
    workerId,
    host: browserName(),
    cores: options.cores,
    memoryMb: Math.floor(deviceMemoryGb * 1024 * 0.25),
    kind: 'browser',
    // Untrusted (verified by replication), no Node, no disk: tasks that need more never come here.
    capabilities: ['wasm'],
    chaos: options.chaos,
    master: location.host,
    log: options.log,
    onStatus: options.onStatus,
    backoffDelay,
    every: workerInterval,
    webRtc,
    // Each link is an RTCPeerConnection: Chromium allows a page 500 in its lifetime.
    maxDirectLinks: 32,
    maxDirectLinksEver: 400,
    connect: () => connectToCoordinator(options.token),
    dataUrl: async () => null,
    spawn: (executorId, app) => spawnExecutor(executorId, app, options.chaos),
    openDirect: (peer, _dataUrl, signals) => (webRtc ? rtcLink(peer, 'offerer', signals) : Promise.reject(new Error('this browser has no WebRTC'))),
    ...(webRtc
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
  // A tab that is closing tells the coordinator, so that what it held is declared lost at once.
  addEventListener('pagehide', () => host.decommission());
  return host;
}
