/**
 * Taking over the shuffle map outputs of an executor that is leaving (a decommissioned worker, a
 * tab whose volunteer pressed Leave): the driver names them, this executor fetches every block over
 * the same peer links reducers use, keeps them as its own and says which it holds. The driver then
 * points readers here, and the stages that read them need not run their map tasks again.
 */
import { concatBytes } from '../codec/bytes.js';
import type { MapOutput } from '../shuffle/map-output.js';
import type { AdoptedOutput, DriverToExecutor, ExecutorToDriver } from './protocol.js';
import type { BlockRange } from './shuffle-fetch.js';
import { OutputDigest } from './digest.js';

/** Pieces of at most 1 MiB, at most 8 MiB a request: the same sizes reducers fetch in. */
const PIECE_BYTES = 1 << 20;
const REQUEST_BYTES = 8 << 20;

export interface AdoptionAccess {
  fetchRanges(executorId: string, ranges: BlockRange[]): Promise<Array<Uint8Array | null>>;
  keep(shuffleId: number, mapId: number, output: MapOutput): void;
}

type AdoptRequest = Extract<DriverToExecutor, { t: 'adoptOutputs' }>;
type AdoptReply = Extract<ExecutorToDriver, { t: 'adopted' }>;

export async function adoptOutputs(request: AdoptRequest, access: AdoptionAccess): Promise<AdoptReply> {
  const outputs: AdoptReply['outputs'] = [];
  try {
    for (const o of request.outputs) {
      const chunks = await fetchOutput(request.from, o, access);
      const digest = request.digest ? await digestOf(o.sizes, chunks) : undefined;
      access.keep(o.shuffleId, o.mapId, { sizes: [...o.sizes], chunks, file: null, segments: null });
      outputs.push({ shuffleId: o.shuffleId, mapId: o.mapId, ...(digest !== undefined ? { digest } : {}) });
    }
  } catch (err) {
    return { t: 'adopted', adoptId: request.adoptId, outputs, error: (err as Error).message };
  }
  return { t: 'adopted', adoptId: request.adoptId, outputs, error: null };
}

/** Every block of one output, each whole in one chunk (blocks are sequences of whole frames). */
async function fetchOutput(from: string, o: AdoptedOutput, access: AdoptionAccess): Promise<Uint8Array[][]> {
  const ranges: BlockRange[] = [];
  for (let r = 0; r < o.sizes.length; r++) {
    const size = o.sizes[r]!;
    const loc = { shuffleId: o.shuffleId, mapId: o.mapId, reduceId: r, executorId: from, bytes: size };
    for (let at = 0; at < size; at += PIECE_BYTES) ranges.push({ loc, offset: at, length: Math.min(PIECE_BYTES, size - at) });
  }
  const pieces: Uint8Array[][] = o.sizes.map(() => []);
  for (let i = 0; i < ranges.length; ) {
    const batch: BlockRange[] = [];
    let bytes = 0;
    while (i < ranges.length && (batch.length === 0 || bytes + ranges[i]!.length <= REQUEST_BYTES)) {
      bytes += ranges[i]!.length;
      batch.push(ranges[i++]!);
    }
    const got = await access.fetchRanges(from, batch);
    batch.forEach((range, k) => {
      const data = got[k];
      if (!data || data.byteLength !== range.length) {
        throw new Error(`executor ${from} no longer holds block ${o.shuffleId}/${o.mapId}/${range.loc.reduceId}`);
      }
      pieces[range.loc.reduceId]!.push(data);
    });
  }
  return pieces.map((p) => (p.length === 0 ? [] : [p.length === 1 ? p[0]! : concatBytes(p)]));
}

/** The digest the leaving executor computed when it wrote the output (executor.ts, runTask). */
function digestOf(sizes: readonly number[], chunks: Uint8Array[][]): Promise<string> {
  const digest = new OutputDigest();
  sizes.forEach((size, r) => digest.partOf(size, chunks[r]!));
  return digest.hex();
}
