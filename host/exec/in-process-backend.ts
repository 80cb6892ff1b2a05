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
    private readonly memory: { executorMemoryMb: number; cacheMemoryMb?: number },
  ) {}

  async start(listener: BackendListener): Promise<void> {
    const [driverSide, executorSide] = loopbackPair();
    this.driverSide = driverSide;
    const mb = 1024 * 1024;
    new Executor(executorSide, {
      executorId: 'driver',
      platform: this.platform,
      memoryBytes: this.memory.executorMemoryMb * mb,
      ...(this.memory.cacheMemoryMb ? { cacheBytes: this.memory.cacheMemoryMb * mb } : {}),
    });
    listener.executorAdded(
      { id: 'driver', host: 'localhost', cores: 1, kind: 'driver', capabilities: this.capabilities, memoryMb: this.memory.executorMemoryMb },
      driverSide,
    );
  }

  async stop(): Promise<void> {
    this.driverSide?.close();
    // The executor's scratch directory goes with it (its shutdown is not awaited on a loopback).
    this.platform.scratch?.removeAll();
  }
}
