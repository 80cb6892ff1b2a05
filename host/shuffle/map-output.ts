/**
 * A map task's output: one block per reduce partition, each a sequence of frames (memory/frames.ts).
 * While the task writes, frames stay in memory until its memory runs short; then they are appended
 * to one scratch file, each reducer's frames of a spill in one segment (Spark's sort-shuffle data
 * file, without the merge pass: a reducer's block is the list of its segments). A finished output
 * is either all in memory or all in that file; the block store keeps it either way.
 */
import { FrameWriter, framesIn, readFrames } from '../memory/frames.js';
import { frame } from '../memory/frames.js';
import type { MemoryConsumer, TaskMemory } from '../memory/memory-manager.js';
import type { ScratchDisk, TaskScratch } from '../memory/scratch.js';

export interface MapOutput {
  /** Bytes per reduce partition (0: empty). */
  sizes: number[];
  /** In memory: per reduce partition, chunks of whole frames in order. */
  chunks: Uint8Array[][] | null;
  /** On disk: a file of the executor's scratch disk... */
  file: string | null;
  /** ...and per reduce partition the (offset, length) pairs of its frames in that file, in order. */
  segments: number[][] | null;
}

export class MapOutputBuffer implements MemoryConsumer {
  readonly label = 'shuffle write buffer';
  readonly sizes: number[];
  private chunks: Uint8Array[][];
  private inMemory = 0;
  private writer: FrameWriter | null = null;
  private segments: number[][] | null = null;

  constructor(
    readonly n: number,
    private readonly memory: TaskMemory,
    private readonly scratch: TaskScratch,
  ) {
    this.sizes = new Array<number>(n).fill(0);
    this.chunks = Array.from({ length: n }, () => []);
  }

  /** Appends one payload (an encoded record batch or an aggregation batch) to a reducer's block. */
  add(reducer: number, payload: Uint8Array): void {
    const f = frame(payload);
    this.memory.reserve(this, f.byteLength);
    this.chunks[reducer]!.push(f);
    this.inMemory += f.byteLength;
    this.sizes[reducer]! += f.byteLength;
  }

  spill(): number {
    if (this.inMemory === 0 || !this.scratch.available) return 0;
    if (!this.writer) {
      this.writer = new FrameWriter(this.scratch.create('shuffle'));
      this.segments = Array.from({ length: this.n }, () => []);
    }
    const w = this.writer;
    for (let r = 0; r < this.n; r++) {
      const list = this.chunks[r]!;
      if (list.length === 0) continue;
      const start = w.offset;
      for (const c of list) w.writeFramed(c);
      this.segments![r]!.push(start, w.offset - start);
      this.chunks[r] = [];
    }
    const freed = this.inMemory;
    this.inMemory = 0;
    this.memory.release(this, freed);
    return freed;
  }

  /** The output, handed to the block store (which accounts its memory from then on). */
  finish(): MapOutput {
    if (this.writer) {
      this.spill();
      this.writer.close();
      this.scratch.keep(this.writer.file.name);
      this.memory.releaseAll(this);
      return { sizes: this.sizes, chunks: null, file: this.writer.file.name, segments: this.segments };
    }
    this.memory.releaseAll(this);
    return { sizes: this.sizes, chunks: this.chunks, file: null, segments: null };
  }

  /** The task ends without output: its memory goes back (its file goes with the task's scratch). */
  release(): void {
    this.chunks = [];
    this.inMemory = 0;
    this.memory.releaseAll(this);
  }
}

export function mapOutputBytes(out: MapOutput): number {
  let n = 0;
  for (const s of out.sizes) n += s;
  return n;
}

/** The payloads of one reducer's block, in order (views valid until the next one is asked for). */
export function* mapOutputFrames(out: MapOutput, reducer: number, disk: ScratchDisk | null): Generator<Uint8Array> {
  if (out.chunks) {
    for (const c of out.chunks[reducer] ?? []) yield* framesIn(c);
    return;
  }
  const segs = out.segments?.[reducer] ?? [];
  if (segs.length === 0) return;
  const reader = disk!.open(out.file!);
  try {
    for (let i = 0; i < segs.length; i += 2) yield* readFrames(reader, segs[i]!, segs[i]! + segs[i + 1]!);
  } finally {
    reader.close();
  }
}

/** Bytes [offset, offset + length) of one reducer's block, in a buffer of their own. */
export function readMapOutput(out: MapOutput, reducer: number, offset: number, length: number, disk: ScratchDisk | null): Uint8Array {
  const end = Math.min(out.sizes[reducer] ?? 0, offset + length);
  const into = new Uint8Array(Math.max(0, end - offset));
  if (into.byteLength === 0) return into;
  if (out.chunks) {
    let at = 0;
    for (const c of out.chunks[reducer]!) {
      const s = Math.max(offset, at);
      const e = Math.min(end, at + c.byteLength);
      if (s < e) into.set(c.subarray(s - at, e - at), s - offset);
      at += c.byteLength;
      if (at >= end) break;
    }
    return into;
  }
  const segs = out.segments![reducer]!;
  const reader = disk!.open(out.file!);
  try {
    let at = 0;
    for (let i = 0; i < segs.length && at < end; i += 2) {
      const pos = segs[i]!;
      const len = segs[i + 1]!;
      const s = Math.max(offset, at);
      const e = Math.min(end, at + len);
      if (s < e) {
        const view = into.subarray(s - offset, e - offset);
        let got = 0;
        while (got < view.byteLength) {
          const n = reader.read(view.subarray(got), pos + (s - at) + got);
          if (n <= 0) break;
          got += n;
        }
      }
      at += len;
    }
  } finally {
    reader.close();
  }
  return into;
}

/** Chunks of one reducer's block in order, read a megabyte at a time when it is on disk. */
export function* mapOutputChunks(out: MapOutput, reducer: number, disk: ScratchDisk | null): Generator<Uint8Array> {
  if (out.chunks) {
    yield* out.chunks[reducer] ?? [];
    return;
  }
  const size = out.sizes[reducer] ?? 0;
  for (let at = 0; at < size; at += 1 << 20) yield readMapOutput(out, reducer, at, Math.min(1 << 20, size - at), disk);
}
