/** The `flint` package on Node. */
import './node/environment.js';

export { Flint, type FlintOptions, type RangeOptions } from './api/context.js';
export {
  RDD,
  type Env,
  type EnvOption,
  type PartitionOptions,
  type KeyPartitionOptions,
  type NumPartitionsOption,
  type MapOptions,
  type SortByOptions,
  type SortByKeyOptions,
  type CoalesceOptions,
  type SeedOption,
  type DepthOption,
  type KeyOption,
  type BuiltinReducer,
} from './api/rdd.js';
export { withEnv } from './api/with-env.js';
export { StorageLevel } from './api/storage-level.js';
export { Partitioner, HashPartitioner, RangePartitioner, FunctionPartitioner } from './api/partitioner.js';
export { Broadcast } from './api/broadcast.js';
export { words, pairWith } from './builtins.js';
export { FlintError, type FlintErrorCode } from './errors.js';
export type { FlintEvent, FlintEventType, TaskMetrics } from './events/events.js';
export type { StatCounter } from './exec/stats.js';
