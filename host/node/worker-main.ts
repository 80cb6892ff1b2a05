/** Entry of an executor worker thread: the environment-neutral executor over the parent port. */
import { parentPort, workerData } from 'node:worker_threads';
import { runExecutorOnPort, type ExecutorStartData, type ParentPortLike } from '../exec/executor-port.js';
import { nodeExecutorPlatform, workerExecutorPlatform, type DriverFiles } from './node-platform.js';
import { nodeScratchDisk } from './scratch-disk.js';

/** What the thread's parent (a local backend or a `flint worker`) tells it at start. */
export interface ExecutorThreadData extends ExecutorStartData {
  /** Its own scratch directory, which the parent removes when the thread ends. */
  scratchDir?: string;
  /** The driver's file server, for executors that must not (or cannot) read its files directly. */
  files?: DriverFiles;
  /** Whether files that are the same here as on the driver may be read and written directly. */
  localFiles?: boolean;
}

const data = workerData as ExecutorThreadData;
const platform = data.files ? workerExecutorPlatform(data.files, data.localFiles) : nodeExecutorPlatform;
runExecutorOnPort(
  parentPort as unknown as ParentPortLike,
  data,
  data.scratchDir ? { ...platform, scratch: nodeScratchDisk(data.scratchDir) } : platform,
  () => process.exit(0),
);
