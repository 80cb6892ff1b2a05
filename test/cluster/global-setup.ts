/**
 * The API suite's second run: a real cluster of a coordinator and two one-core workers, so that
 * every API.md method is checked on `flint://` against the same expectations as on local[2].
 */
import type { TestProject } from 'vitest/node';
import { startCluster, type TestCluster } from './harness.js';

declare module 'vitest' {
  export interface ProvidedContext {
    flintMaster: string;
    flintToken: string;
  }
}

let cluster: TestCluster | null = null;

export async function setup(project: TestProject): Promise<void> {
  cluster = await startCluster({ workers: 2, cores: 1 });
  project.provide('flintMaster', cluster.url);
  project.provide('flintToken', cluster.token);
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
}
