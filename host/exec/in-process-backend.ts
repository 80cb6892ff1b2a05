/** Master 'local': one executor with one slot in the driver's own thread, over a loopback channel. */
import type { BackendListener, Capability, ExecutorBackend } from '../cluster/backend.js';
import { loopbackPair } from '../transport/loopback.js';
import { Executor } from './executor.js';
import type { ExecutorPlatform } from './platform.js';

export class InProcessBackend implements ExecutorBackend {
  readonly defaultParallelism = 1;
  private driverSide: ReturnType<typeof loopbackPair>[0] | null = null;

  constructor(
    private readonly platform: ExecutorPlatform,
    /** What the driver's own environment offers its closures (Node's globals, its files). */
    private readonly capabilities: Capability[],
  ) {}

  async start(listener: BackendListener): Promise<void> {
    const [driverSide, executorSide] = loopbackPair();
    this.driverSide = driverSide;
    new Executor(executorSide, { executorId: 'driver', platform: this.platform });
    listener.executorAdded({ id: 'driver', host: 'localhost', cores: 1, kind: 'driver', capabilities: this.capabilities }, driverSide);
  }

  async stop(): Promise<void> {
    this.driverSide?.close();
  }
}
