import type { FileSplit } from '../plan/sources.js';

/**
 * What the driver needs from the machine it runs on: planning file input, committing file output
 * and checkpoint directories. Planning is synchronous because transformations are synchronous and
 * `getNumPartitions()` must answer at once.
 */
export interface DriverPlatform {
  /** Splits for `textFile`: file, directory (its visible files) or glob. Throws INPUT_NOT_FOUND. */
  planTextSplits(pattern: string, minPartitions: number): FileSplit[];
  /** Files for `wholeTextFiles` (each a split of the whole file), grouped into at most max(minPartitions, 1) partitions. */
  planWholeTextFiles(pattern: string, minPartitions: number): FileSplit[][];
  /** Starts a `saveAsTextFile` job; throws OUTPUT_EXISTS if `dir` exists. */
  beginTextOutput(dir: string, jobTag: string): TextOutputJob;
  /** Creates the directory a context checkpoints into (and its parents). */
  makeCheckpointDir(dir: string): string;
  /** Lists the files of a checkpointed RDD directory, sorted by name. */
  listDir(dir: string): string[];
  removeDir(dir: string): void;
  joinPath(...parts: string[]): string;
}

export interface TextOutputJob {
  /** Where attempt `attempt` of task `partition` writes its part file. */
  attemptPath(partition: number, attempt: number): string;
  /** The attempt that finished first wins; its file becomes the task's committed output. */
  commitTask(partition: number, attempt: number): void;
  /** Moves committed parts to `dir/part-NNNNN`, writes `_SUCCESS`, removes temporary files. */
  commitJob(numPartitions: number): void;
  /** Removes everything the job wrote, the output directory included. */
  abortJob(): void;
}
