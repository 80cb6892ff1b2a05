/**
 * `flint worker`: a Node process that lends its cores to a coordinator. Each slot the coordinator
 * lends to an application runs a fresh executor thread (the same executor code as `local[N]`), so
 * applications never share a thread's globals. The agent relays the executors' control messages
 * over its one coordinator connection, serves and fetches shuffle blocks for them (PeerRouter),
 * sends a heartbeat every second, reconnects with jittered exponential backoff keeping its identity
 * when the coordinator goes away, and on SIGTERM decommissions: it takes no new work, lets the
 * applications drain and release its executors, then leaves.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { hostname, totalmem } from 'node:os';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Capability } from '../../cluster/backend.js';
import { checkCoordinatorToWorker, checkDriverToExecutor, type AppInfo, type CoordinatorToWorker, type WorkerHello, type WorkerToCoordinator } from '../../cluster/schemas.js';
import { decodeValue, encodeValue } from '../../codec/records.js';
import type { ChaosSpec } from '../../exec/chaos.js';
import { FlintError } from '../../errors.js';
import type { Endpoint } from '../../transport/endpoint.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../transport/framing.js';
import { webSocketEndpoint, type WebSocketLike } from '../../transport/websocket.js';
import { ExecutorThread } from '../executor-thread.js';
import { localFilesEnabled } from '../machine-id.js';
import { budgetForShareMb } from '../memory-defaults.js';
import { ScratchDirs, scratchRoot } from '../scratch-disk.js';
import { backoffDelay, connect, coordinatorWebSocketUrl } from './connect.js';
import { DATA_LINK_KEEPALIVE, keepAlive } from './keep-alive.js';
import { PeerRouter, type PeerLocation } from './peer-router.js';
import { presentedToken, tokensMatch } from './token.js';

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

interface Hosted {
  thread: ExecutorThread;
  app: AppInfo;
  running: number;
  completed: number;
  failed: number;
  released: boolean;
}

export function defaultWorkerMemoryMb(): number {
  return Math.floor((totalmem() / (1024 * 1024)) * 0.75);
}

export class WorkerAgent {
  readonly workerId = `${hostname().replace(/[^\w.-]/g, '_').slice(0, 40)}-${randomBytes(4).toString('hex')}`;
  private coordinator: Endpoint | null = null;
  private readonly hosted = new Map<string, Hosted>();
  private readonly router: PeerRouter;
  private readonly locates = new Map<number, (loc: PeerLocation) => void>();
  private nextLocate = 0;
  private dataServer: { server: Server; url: string; host: string; close(): Promise<void> } | null = null;
  private stopped = false;
  private welcomed = false;
  private decommissioning = false;
  private finish!: (code: number) => void;
  /** This worker's executors' scratch directories: one each, removed when its thread ends. */
  private readonly scratch: ScratchDirs;
  /** Resolves with the process exit code once the worker is done (decommissioned or stopped). */
  readonly done = new Promise<number>((resolve) => (this.finish = resolve));

  constructor(private readonly options: WorkerAgentOptions) {
    this.scratch = new ScratchDirs(scratchRoot(options.spillDir), 'worker');
    this.router = new PeerRouter({
      workerId: this.workerId,
      token: options.token,
      connectTimeoutMs: 3000,
      log: options.log,
      relay: (toWorker, frame) => this.send({ t: 'relay', toWorker, frame }),
      locate: (executorId) =>
        new Promise<PeerLocation>((resolve) => {
          if (!this.coordinator) {
            resolve({ workerId: null, dataUrl: null, appId: null });
            return;
          }
          const reqId = this.nextLocate++;
          this.locates.set(reqId, resolve);
          this.send({ t: 'locate', reqId, executorId });
        }),
    });
  }

  /**
   * Connects, retrying until the coordinator answers; rejects if it refuses the token. The worker
   * then runs on its own until `done`.
   */
  async start(): Promise<void> {
    const first = await this.connectUntilAnswered(true);
    if (!first) return;
    void this.run(first);
  }

  private async connectUntilAnswered(firstTime: boolean): Promise<{ endpoint: Endpoint; localAddress: string } | null> {
    const url = coordinatorWebSocketUrl(this.options.master);
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        return await connect(url, { token: this.options.token, label: `the coordinator at ${this.options.master}`, timeoutMs: 5000 });
      } catch (err) {
        if (err instanceof FlintError && err.code === 'UNAUTHORIZED') {
          if (firstTime) throw err;
          // A coordinator restarted with another token: this worker cannot join it again.
          this.options.log(err.message);
          this.exit(1);
          return null;
        }
        if (attempt === 0) this.options.log(`${(err as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, backoffDelay(attempt)));
      }
    }
    return null;
  }

  private async run(connection: { endpoint: Endpoint; localAddress: string }): Promise<void> {
    let conn: { endpoint: Endpoint; localAddress: string } | null = connection;
    // Sessions refused at once (our old connection is not yet declared gone) back off like failed connects.
    let refusals = 0;
    while (conn && !this.stopped) {
      this.welcomed = false;
      await this.session(conn.endpoint, conn.localAddress);
      if (this.stopped) return;
      if (this.decommissioning) {
        // Leaving with the coordinator gone: nobody is left to hand anything to.
        this.exit(0);
        return;
      }
      refusals = this.welcomed ? 0 : refusals + 1;
      this.options.log('lost the coordinator; reconnecting');
      await new Promise((r) => setTimeout(r, backoffDelay(refusals)));
      conn = await this.connectUntilAnswered(false);
    }
  }

  /** One connection to the coordinator, until it ends. */
  private async session(endpoint: Endpoint, localAddress: string): Promise<void> {
    const dataHost = this.options.dataHost ?? localAddress;
    if (!this.dataServer || this.dataServer.host !== dataHost) {
      await this.dataServer?.close();
      this.dataServer = await this.startDataServer(dataHost);
    }
    this.coordinator = endpoint;
    this.router.forgetLocations();
    const capabilities: Capability[] = ['node', 'wasm', 'disk'];
    if (!this.options.untrusted) capabilities.push('trusted');
    const hello: WorkerHello = {
      t: 'hello',
      role: 'worker',
      protocol: 1,
      workerId: this.workerId,
      host: hostname(),
      cores: this.options.cores,
      memoryMb: this.options.memoryMb,
      kind: 'node',
      capabilities,
      dataUrl: this.dataServer.url,
    };
    endpoint.send(hello);
    const heartbeat = setInterval(() => this.sendHeartbeat(), this.options.heartbeatIntervalMs ?? 1000);
    await new Promise<void>((resolve) => {
      endpoint.onMessage((raw) => this.onCoordinatorMessage(raw));
      endpoint.onClose(() => resolve());
    });
    clearInterval(heartbeat);
    this.coordinator = null;
    for (const resolve of this.locates.values()) resolve({ workerId: null, dataUrl: null, appId: null });
    this.locates.clear();
    // The applications these executors worked for reach them only through the coordinator.
    for (const id of [...this.hosted.keys()]) void this.stopExecutor(id);
  }

  private send(message: WorkerToCoordinator): void {
    this.coordinator?.send(message);
  }

  private sendHeartbeat(): void {
    const stats: Record<string, { running: number; completed: number; failed: number }> = {};
    for (const [id, h] of this.hosted) stats[id] = { running: h.running, completed: h.completed, failed: h.failed };
    this.send({ t: 'heartbeat', stats });
  }

  private onCoordinatorMessage(raw: unknown): void {
    let m: CoordinatorToWorker;
    try {
      m = checkCoordinatorToWorker(raw, 'the coordinator');
    } catch (err) {
      this.options.log((err as Error).message);
      return;
    }
    switch (m.t) {
      case 'welcome':
        this.welcomed = true;
        this.options.log(`registered with ${this.options.master} as ${m.workerId} (${this.options.cores} cores)`);
        return;
      case 'launch':
        this.launch(m.executorId, m.app);
        return;
      case 'release':
        void this.stopExecutor(m.executorId);
        return;
      case 'toExecutor':
        this.toExecutor(m.executorId, m.message);
        return;
      case 'located':
        this.locates.get(m.reqId)?.({ workerId: m.workerId, dataUrl: m.dataUrl, appId: m.appId ?? null });
        this.locates.delete(m.reqId);
        return;
      case 'relayed':
        this.router.onRelayed(m.fromWorker, m.frame);
        return;
      case 'relayFailed':
        this.router.workerGone(m.toWorker);
        return;
      case 'shutdown':
        this.options.log(`the coordinator says: ${m.reason}`);
        if (this.decommissioning) this.exit(0);
        return;
    }
  }

  private launch(executorId: string, app: AppInfo): void {
    if (this.hosted.has(executorId) || this.decommissioning) return;
    const thread = new ExecutorThread(
      executorId,
      {
        executorMemoryMb: budgetForShareMb(this.options.memoryMb / this.options.cores),
        scratchDir: this.scratch.executorDir(executorId),
        chaos: this.options.chaos,
        fetchTimeoutMs: this.options.fetchTimeoutMs,
        // Bigger results are pulled by the driver in parts rather than pushed through the relay at once.
        maxDirectResultBytes: 1024 * 1024,
        ...(app.files ? { files: { ...app.files, driverMachineId: app.driverMachineId }, localFiles: localFilesEnabled() } : {}),
      },
    );
    const hosted: Hosted = { thread, app, running: 0, completed: 0, failed: 0, released: false };
    this.hosted.set(executorId, hosted);
    this.router.addLocal(executorId, app.appId, thread);
    thread.onMessage((m) => {
      const msg = m as { t?: string; result?: { ok?: boolean } };
      if (msg.t === 'taskEnd') {
        hosted.running = Math.max(0, hosted.running - 1);
        if (msg.result?.ok) hosted.completed++;
        else hosted.failed++;
      }
      this.send({ t: 'fromExecutor', executorId, message: encodeValue(m) });
    });
    thread.onExit((exit) => {
      // However the thread ended (a crash in the middle of a spill included), its files go.
      this.scratch.removeExecutor(executorId);
      this.router.removeLocal(executorId);
      if (this.hosted.get(executorId) === hosted) this.hosted.delete(executorId);
      if (hosted.released) return;
      const reason = exit.terminated
        ? 'its thread was stopped'
        : exit.error
          ? `its thread crashed: ${exit.error.message}`
          : `its thread exited with code ${exit.code}`;
      // A thread dies on its own only through what a task made it do (process.exit, out of memory).
      this.send({ t: 'executorDown', executorId, reason, causedByApp: !exit.terminated && hosted.running > 0 });
    });
    thread.ready.then(
      () => this.send({ t: 'executorUp', executorId }),
      (err: Error) => this.options.log(`executor ${executorId} failed to start: ${err.message}`),
    );
  }

  private toExecutor(executorId: string, payload: Uint8Array): void {
    const hosted = this.hosted.get(executorId);
    if (!hosted || hosted.released) return;
    let message;
    try {
      message = checkDriverToExecutor(decodeValue(payload), `the driver of ${hosted.app.appId}`);
    } catch (err) {
      this.options.log(`dropped a message for executor ${executorId}: ${(err as Error).message}`);
      return;
    }
    if (message.t === 'task') {
      hosted.running++;
      const crash = this.options.chaos?.crash ?? 0;
      if (crash > 0 && Math.random() < crash) {
        // Chaos: the executor dies partway through this task, as a crashed process would.
        setTimeout(() => void this.crash(executorId), Math.floor(Math.random() * 50));
      }
    }
    hosted.thread.send(message);
  }

  private async crash(executorId: string): Promise<void> {
    const hosted = this.hosted.get(executorId);
    if (!hosted || hosted.released) return;
    hosted.released = true;
    this.hosted.delete(executorId);
    await hosted.thread.terminate();
    this.send({ t: 'executorDown', executorId, reason: 'chaos: the executor crashed during a task', causedByApp: false });
  }

  private async stopExecutor(executorId: string): Promise<void> {
    const hosted = this.hosted.get(executorId);
    if (!hosted) return;
    hosted.released = true;
    this.hosted.delete(executorId);
    this.router.removeLocal(executorId);
    await hosted.thread.terminate();
  }

  private async startDataServer(host: string): Promise<{ server: Server; url: string; host: string; close(): Promise<void> }> {
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
        this.router.acceptDirect(webSocketEndpoint(ws as unknown as WebSocketLike, { label: `data link from ${peer}`, maxMessageBytes }), peer);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const shown = host.includes(':') ? `[${host}]` : host;
    return {
      server,
      host,
      url: `ws://${shown}:${port}/data`,
      close: async () => {
        for (const ws of wss.clients) ws.terminate();
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => server.close(() => r()));
      },
    };
  }

  /**
   * SIGTERM: take no new work; the coordinator revokes this worker's executors, their applications
   * stop sending tasks, declare what they held lost and release them; then the worker leaves.
   */
  decommission(): void {
    if (this.decommissioning) return;
    this.decommissioning = true;
    if (!this.coordinator) {
      this.exit(0);
      return;
    }
    this.options.log('decommissioning: finishing running tasks, then leaving');
    this.send({ t: 'decommission' });
    if (this.hosted.size === 0) {
      // Give the message a moment to leave.
      setTimeout(() => this.exit(0), 100);
      return;
    }
    const timer = setTimeout(() => {
      this.options.log(`decommissioning: executors still held after ${this.options.drainTimeoutMs ?? 30_000} ms; leaving anyway`);
      this.exit(0);
    }, this.options.drainTimeoutMs ?? 30_000);
    timer.unref();
  }

  /** Stops everything now. */
  async stop(): Promise<void> {
    this.exit(0);
  }

  private exit(code: number): void {
    if (this.stopped) return;
    this.stopped = true;
    void (async () => {
      await Promise.all([...this.hosted.keys()].map((id) => this.stopExecutor(id)));
      this.scratch.removeAll();
      this.router.close();
      this.coordinator?.close();
      await this.dataServer?.close();
      this.finish(code);
    })();
  }
}
