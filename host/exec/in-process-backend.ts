/** Master 'local': one executor with one slot in the driver's own thread, over a loopback channel. */
import type { BackendListener, ExecutorBackend } from '../cluster/backend.js';
import { loopbackPair } from '../transport/loopback.js';
import { Executor } from './executor.js';
import type { ExecutorPlatform } from './platform.js';

export class InProcessBackend implements ExecutorBackend {
  readonly defaultParallelism = 1;
  private driverSide: ReturnType<typeof loopbackPair>[0] | null = null;

  constructor(private readonly platform: ExecutorPlatform) {}

  async start(listener: BackendListener): Promise<void> {
    const [driverSide, executorSide] = loopbackPair();
    this.driverSide = driverSide;
    new Executor(executorSide, { executorId: 'driver', platform: this.platform });
    listener.executorAdded('driver', driverSide, 1, 'localhost');
  }

  async stop(): Promise<void> {
    this.driverSide?.close();
  }
}
