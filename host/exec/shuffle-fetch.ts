/**
 * Reading a reduce partition's shuffle blocks with a bound on the bytes in flight (Spark's
 * maxSizeInFlight). Blocks are taken in map order, so that results never depend on fetch timing.
 * Blocks held by this executor are read in place; a peer's blocks are asked for in pieces (byte
 * ranges of at most `pieceBytes`), as many at once as the bound allows, the pieces of one peer in
 * one request. A piece is handed on frame by frame (memory/frames.ts) and its memory returned as
 * soon as the next one is needed, so a reducer holds at most the bound plus one frame, whatever the
 * size of its blocks.
 */
import { FrameParser } from '../memory/frames.js';
import type { MemoryConsumer, TaskMemory } from '../memory/memory-manager.js';
import type { BlockLocation } from '../plan/plan.js';

export class FetchFailedError extends Error {
  constructor(
    readonly shuffleId: number,
    readonly mapId: number,
    readonly executorId: string,
    detail: string,
  ) {
    super(`failed to fetch shuffle ${shuffleId} map output ${mapId} from executor ${executorId}: ${detail}`);
    this.name = 'FetchFailedError';
  }
}

export interface BlockRange {
  loc: BlockLocation;
  offset: number;
  length: number;
}

export interface BlockAccess {
  /** This executor's id: blocks it holds are read in place. */
  readonly executorId: string;
  /** The payloads of a block held here, or null when it is not here. */
  localFrames(loc: BlockLocation): Iterable<Uint8Array> | null;
  /** Byte ranges of a peer's blocks, in order; null for a block it does not hold. Rejects on a failed fetch. */
  fetchRanges(executorId: string, ranges: BlockRange[]): Promise<Array<Uint8Array | null>>;
}

export interface FetchOptions {
  maxInFlightBytes: number;
  pieceBytes: number;
  memory: TaskMemory;
  /** Bytes of a block read (remote or not), for the task's metrics. */
  onRead(loc: BlockLocation, bytes: number, remote: boolean): void;
  /** Time spent waiting for pieces, in ms. */
  onWait(ms: number): void;
}

interface Piece extends BlockRange {
  local: boolean;
  data?: Promise<Uint8Array>;
}

const IN_FLIGHT: MemoryConsumer = { label: 'shuffle blocks in flight', spill: () => 0 };

export async function* fetchFrames(locations: readonly BlockLocation[], access: BlockAccess, opts: FetchOptions): AsyncGenerator<Uint8Array> {
  const order = [...locations].sort((a, b) => a.mapId - b.mapId || a.reduceId - b.reduceId);
  const pieces: Piece[] = [];
  for (const loc of order) {
    if (loc.executorId === access.executorId) {
      pieces.push({ loc, offset: 0, length: loc.bytes, local: true });
      continue;
    }
    for (let at = 0; at < loc.bytes; at += opts.pieceBytes) {
      pieces.push({ loc, offset: at, length: Math.min(opts.pieceBytes, loc.bytes - at), local: false });
    }
  }
  let next = 0;
  let inFlight = 0;
  const launch = () => {
    const byPeer = new Map<string, Piece[]>();
    while (next < pieces.length) {
      const p = pieces[next]!;
      if (!p.local) {
        if (inFlight > 0 && inFlight + p.length > opts.maxInFlightBytes) break;
        inFlight += p.length;
        opts.memory.force(IN_FLIGHT, p.length);
        let list = byPeer.get(p.loc.executorId);
        if (!list) byPeer.set(p.loc.executorId, (list = []));
        list.push(p);
      }
      next++;
    }
    for (const [peer, list] of byPeer) {
      const answer = access.fetchRanges(peer, list);
      list.forEach((p, i) => {
        p.data = answer.then((data) => {
          const bytes = data[i];
          if (!bytes) throw new FetchFailedError(p.loc.shuffleId, p.loc.mapId, peer, 'block not found on that executor');
          return bytes;
        });
        // Awaited in order later; a failure before then must not count as unhandled.
        p.data.catch(() => undefined);
      });
    }
  };
  let parser: FrameParser | null = null;
  try {
    launch();
    for (const p of pieces) {
      if (p.local) {
        const frames = access.localFrames(p.loc);
        if (!frames) throw new FetchFailedError(p.loc.shuffleId, p.loc.mapId, access.executorId, 'block not found locally');
        opts.onRead(p.loc, p.loc.bytes, false);
        yield* frames;
        continue;
      }
      const t0 = performance.now();
      let bytes: Uint8Array;
      try {
        bytes = await p.data!;
      } finally {
        opts.onWait(performance.now() - t0);
      }
      if (bytes.byteLength !== p.length) {
        throw new FetchFailedError(p.loc.shuffleId, p.loc.mapId, p.loc.executorId, `expected ${p.length} bytes at ${p.offset}, got ${bytes.byteLength}`);
      }
      opts.onRead(p.loc, bytes.byteLength, true);
      if (p.offset === 0) parser = new FrameParser();
      yield* parser!.push(bytes);
      if (p.offset + p.length >= p.loc.bytes) parser!.end();
      inFlight -= p.length;
      opts.memory.release(IN_FLIGHT, p.length);
      launch();
    }
  } finally {
    opts.memory.releaseAll(IN_FLIGHT);
  }
}
