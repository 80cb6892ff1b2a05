/**
 * A volunteer tab's executor: a Web Worker running the same executor as a Node worker thread
 * (host/exec/executor-port.ts), with the same WebAssembly operators, reading the driver's files
 * over HTTP from its file server. The page sends `init` first, then the executor protocol.
 */
import type { ChaosSpec } from '../../host/exec/chaos.js';
import { runExecutorOnPort, type ParentPortLike } from '../../host/exec/executor-port.js';
import { remoteExecutorPlatform } from '../../host/exec/remote-platform.js';

export interface ExecutorInit {
  t: 'init';
  executorId: string;
  /** Without a disk nothing spills: the budget only decides when cached blocks are dropped. */
  executorMemoryMb: number;
  cacheMemoryMb: number;
  chaos: ChaosSpec | null;
  maxDirectResultBytes: number;
  files: { url: string; secret: string };
}

const scope = self as unknown as ParentPortLike & {
  removeEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  close(): void;
};

const onInit = (event: { data: unknown }) => {
  const init = event.data as ExecutorInit;
  if (init?.t !== 'init') return;
  scope.removeEventListener('message', onInit);
  // Messages after init reach the executor's own listener, added here before they are dispatched.
  runExecutorOnPort(
    scope,
    { executorId: init.executorId, executorMemoryMb: init.executorMemoryMb, cacheMemoryMb: init.cacheMemoryMb, chaos: init.chaos, maxDirectResultBytes: init.maxDirectResultBytes },
    remoteExecutorPlatform({ files: init.files, local: null, streamingUploads: false }),
    () => scope.close(),
  );
};
scope.addEventListener('message', onInit);
