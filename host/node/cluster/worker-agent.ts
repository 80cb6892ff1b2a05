/**
 * `flint worker` on Node: the environment-neutral WorkerHost (host/cluster/worker-host.ts) with
 * what a Node process brings: executor threads, a data server (a WebSocket, for other Node workers)
 * and WebRTC through node-datachannel (for volunteer tabs, which have no server).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { hostname, totalmem } from 'node:os';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Capability } from '../../cluster/backend.js';
import { WorkerHost, type HostedExecutor, type SignalChannel } from '../../cluster/worker-host.js';
import type { AppInfo } from '../../cluster/schemas.js';
import type { ChaosSpec } from '../../exec/chaos.js';
import { dataChannelEndpoint } from '../../transport/data-channel.js';
import type { Endpoint } from '../../transport/endpoint.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../transport/framing.js';
import { openRtcLink, type PeerConnectionLike } from '../../transport/rtc-link.js';
import { ExecutorThread } from '../executor-thread.js';
import { localFilesEnabled } from '../machine-id.js';
import { budgetForShareMb } from '../memory-defaults.js';
import { ScratchDirs, scratchRoot } from '../scratch-disk.js';
import { backoffDelay, connect, coordinatorWebSocketUrl } from './connect.js';
import { DATA_LINK_KEEPALIVE, keepAlive } from './keep-alive.js';
import { presentedToken, tokensMatch } from './token.js';
import { nodeWebSocketEndpoint } from './ws-endpoint.js';

export interface WorkerAgentOptions {
  master: string;
  token: string;
  cores: number;
  /**
   * Memory for all executors together. Each gets an equal share as its thread's heap limit, and
   * the budget that leaves (memory-defaults.ts) as its executorMemoryMb.
   */
  memoryMb: number;
  /** Where the executors' scratch directories go (default FLINT_SPILL_DIR, else the temporary directory). */
  spillDir?: string;
  untrusted: boolean;
  chaos: ChaosSpec | null;
  /** Address other workers and drivers reach this worker's data server on; default: the address
   *  this worker's coordinator connection leaves from. */
  dataHost?: string;
  heartbeatIntervalMs?: number;
  /** How long decommissioning waits for applications to release their executors. */
  drainTimeoutMs?: number;
  fetchTimeoutMs?: number;
  /** Largest message a data link accepts; a larger one closes it (default 1 GiB). */
  maxMessageBytes?: number;
  log(message: string): void;
}

export function defaultWorkerMemoryMb(): number {
  return Math.floor((totalmem() / (1024 * 1024)) * 0.75);
}

/** How long a WebRTC link may take to open before the relay is used instead. */
const RTC_OPEN_TIMEOUT_MS = 5000;

export class WorkerAgent {
  readonly workerId = `${hostname().replace(/[^\w.-]/g, '_').slice(0, 40)}-${randomBytes(4).toString('hex')}`;
  private readonly host: WorkerHost;
  private dataServer: { url: string; host: string; close(): Promise<void> } | null = null;
  /** The address this worker's links leave from (and WebRTC binds to). */
  private localAddress = '127.0.0.1';
  /** This worker's executors' scratch directories: one each, removed when its thread ends. */
  private readonly scratch: ScratchDirs;

  constructor(private readonly options: WorkerAgentOptions) {
    this.scratch = new ScratchDirs(scratchRoot(options.spillDir), 'worker');
    const capabilities: Capability[] = ['node', 'wasm', 'disk'];
    if (!options.untrusted) capabilities.push('trusted');
    this.host = new WorkerHost({
      workerId: this.workerId,
      host: hostname(),
      cores: options.cores,
      memoryMb: options.memoryMb,
      kind: 'node',
      capabilities,
      chaos: options.chaos,
      master: options.master,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      drainTimeoutMs: options.drainTimeoutMs,
      log: options.log,
      backoffDelay,
      webRtc: true,
      connect: () => connect(coordinatorWebSocketUrl(options.master), { token: options.token, label: `the coordinator at ${options.master}`, timeoutMs: 5000 }),
      dataUrl: (localAddress) => this.ensureDataServer(localAddress),
      spawn: (executorId, app) => this.spawn(executorId, app),
      openDirect: (workerId, dataUrl, signals) => this.openDirect(workerId, dataUrl, signals),
      answerDirect: (fromWorker, linkId, signals) => this.answerDirect(fromWorker, linkId, signals),
    });
  }

  /** Resolves with the process exit code once the worker is done (decommissioned or stopped). */
  get done(): Promise<number> {
    return this.host.done.then(async (code) => {
      this.scratch.removeAll();
      await this.dataServer?.close();
      return code;
    });
  }

  /** Connects, retrying until the coordinator answers; rejects if it refuses the token. */
  start(): Promise<void> {
    return this.host.start();
  }

  decommission(): void {
    this.host.decommission();
  }

  async stop(): Promise<void> {
    await this.host.stop();
  }

  private spawn(executorId: string, app: AppInfo): HostedExecutor {
    const o = this.options;
    const thread = new ExecutorThread(
      executorId,
      {
        executorMemoryMb: budgetForShareMb(o.memoryMb / o.cores),
        scratchDir: this.scratch.executorDir(executorId),
        chaos: o.chaos,
        fetchTimeoutMs: o.fetchTimeoutMs,
        // Bigger results are pulled by the driver in parts rather than pushed through the relay at once.
        maxDirectResultBytes: 1024 * 1024,
        ...(app.files ? { files: { ...app.files, driverMachineId: app.driverMachineId }, localFiles: localFilesEnabled() } : {}),
      },
    );
    // However the thread ends (a crash in the middle of a spill included), its files go.
    thread.onExit(() => this.scratch.removeExecutor(executorId));
    return {
      ready: thread.ready,
      send: (m) => thread.send(m),
      onMessage: (h) => thread.onMessage(h),
      onWantPeer: (h) => thread.onWantPeer(h),
      givePeer: (id, port) => thread.givePeer(id, port as Parameters<ExecutorThread['givePeer']>[1]),
      refusePeer: (id, reason) => thread.refusePeer(id, reason),
      terminate: () => thread.terminate(),
      onExit: (h) =>
        thread.onExit((exit) =>
          h({
            byItself: !exit.terminated,
            reason: exit.terminated ? 'its thread was stopped' : exit.error ? `its thread crashed: ${exit.error.message}` : `its thread exited with code ${exit.code}`,
          }),
        ),
    };
  }

  private async openDirect(workerId: string, dataUrl: string | null, signals: SignalChannel): Promise<Endpoint> {
    if (dataUrl) {
      const label = `worker ${workerId}`;
      return (await connect(dataUrl, { token: this.options.token, label, timeoutMs: 3000, keepAlive: DATA_LINK_KEEPALIVE })).endpoint;
    }
    // A worker without a data server is a browser tab: WebRTC, signalled through the coordinator.
    return this.rtcLink(workerId, 'offerer', signals);
  }

  private answerDirect(fromWorker: string, linkId: string, signals: SignalChannel): void {
    void this.rtcLink(fromWorker, 'answerer', signals).then(
      (endpoint) => this.host.router.acceptDirect(endpoint, `WebRTC link ${linkId} from ${fromWorker}`),
      (err: Error) => this.options.log(`no WebRTC link from worker ${fromWorker}: ${err.message}`),
    );
  }

  private async rtcLink(peer: string, role: 'offerer' | 'answerer', signals: SignalChannel): Promise<Endpoint> {
    const pc = new RTCPeerConnection({ iceServers: [], bindAddress: this.localAddress } as never) as unknown as PeerConnectionLike;
    const link = openRtcLink({ pc, role, sendSignal: (s) => signals.send(s), timeoutMs: RTC_OPEN_TIMEOUT_MS });
    signals.onSignal((s) => link.signal(s));
    try {
      const channel = await link.channel;
      const endpoint = dataChannelEndpoint(channel, { label: `worker ${peer} (WebRTC)`, maxMessageBytes: this.options.maxMessageBytes });
      endpoint.onClose(() => link.close());
      return endpoint;
    } finally {
      this.host.linkSettled(peer, signals.linkId);
    }
  }

  private async ensureDataServer(localAddress: string): Promise<string> {
    this.localAddress = localAddress;
    const dataHost = this.options.dataHost ?? localAddress;
    if (!this.dataServer || this.dataServer.host !== dataHost) {
      await this.dataServer?.close();
      this.dataServer = await this.startDataServer(dataHost);
    }
    return this.dataServer.url;
  }

  private async startDataServer(host: string): Promise<{ url: string; host: string; close(): Promise<void> }> {
    const sockets = new Set<Socket>();
    const maxMessageBytes = this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes + 1024 });
    const server = createServer((_req, res) => {
      res.writeHead(404).end();
    });
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    server.on('upgrade', (req, socket: Socket, head) => {
      const peer = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
      if (!tokensMatch(presentedToken(req), this.options.token)) {
        this.options.log(`refused data connection from ${peer}: wrong or missing token`);
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        keepAlive(ws, DATA_LINK_KEEPALIVE);
        this.host.router.acceptDirect(nodeWebSocketEndpoint(ws, { label: `data link from ${peer}`, maxMessageBytes }), peer);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const shown = host.includes(':') ? `[${host}]` : host;
    return {
      host,
      url: `ws://${shown}:${port}/data`,
      close: async () => {
        for (const ws of wss.clients) ws.terminate();
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => server.close(() => r()));
      },
    };
  }
}
