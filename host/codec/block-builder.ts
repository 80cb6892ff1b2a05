/**
 * A block of records gathered batch by batch: the bytes `encodeRecords` gives for all of them,
 * without holding them all as records when they are numbers or pairs of numbers. Those go straight
 * into f64 chunks (a result of 1M numbers: 8 MB of chunks and the 8 MB block, where an array of the
 * records, grown by pushing, then its column, took ~40 MB of a thread). The first record of another
 * shape turns what was gathered back into records, and the block is then encodeRecords' of them all.
 */
import { encodeNumberChunks, isInt32, type NumberColumn } from './columns.js';
import { encodeRecords } from './records.js';

const CHUNK_ROWS = 65536;

class ChunkedColumn implements NumberColumn {
  chunks: Float64Array[] = [];
  int32 = true;
  private last = new Float64Array(0);
  private at = 0;

  push(x: number): void {
    if (this.at === this.last.length) {
      this.last = new Float64Array(CHUNK_ROWS);
      this.chunks.push(this.last);
      this.at = 0;
    }
    this.last[this.at++] = x;
    if (this.int32 && !isInt32(x)) this.int32 = false;
  }

  get(row: number): number {
    return this.chunks[Math.floor(row / CHUNK_ROWS)]![row % CHUNK_ROWS]!;
  }
}

export class BlockBuilder {
  /** 'numbers' or 'pairs' while every record so far is of that shape; null before the first. */
  private shape: 'numbers' | 'pairs' | null = null;
  private keys = new ChunkedColumn();
  private values = new ChunkedColumn();
  /** The records, once one of them was not of the columns' shape. */
  private records: unknown[] | null = null;
  rows = 0;

  add(batch: readonly unknown[]): void {
    if (this.records === null && batch.length > 0) {
      this.shape ??= Array.isArray(batch[0]) ? 'pairs' : 'numbers';
      if (this.shape === 'numbers' ? allNumbers(batch) : allNumberPairs(batch)) {
        if (this.shape === 'numbers') for (let i = 0; i < batch.length; i++) this.keys.push(batch[i] as number);
        else
          for (let i = 0; i < batch.length; i++) {
            const r = batch[i] as [number, number];
            this.keys.push(r[0]);
            this.values.push(r[1]);
          }
        this.rows += batch.length;
        return;
      }
      this.records = this.gathered();
    }
    if (this.records === null) return;
    for (let i = 0; i < batch.length; i++) this.records.push(batch[i]);
    this.rows += batch.length;
  }

  /** The block; the builder is done with. */
  finish(): Uint8Array {
    if (this.records !== null || this.rows === 0) return encodeRecords(this.records ?? []);
    return encodeNumberChunks(this.rows, this.shape === 'numbers' ? [this.keys] : [this.keys, this.values]);
  }

  private gathered(): unknown[] {
    const out = new Array<unknown>(this.rows);
    const { keys, values } = this;
    if (this.shape === 'numbers') for (let i = 0; i < this.rows; i++) out[i] = keys.get(i);
    else for (let i = 0; i < this.rows; i++) out[i] = [keys.get(i), values.get(i)];
    this.keys = new ChunkedColumn();
    this.values = new ChunkedColumn();
    return out;
  }
}

function allNumbers(batch: readonly unknown[]): boolean {
  for (let i = 0; i < batch.length; i++) if (typeof batch[i] !== 'number') return false;
  return true;
}

function allNumberPairs(batch: readonly unknown[]): boolean {
  for (let i = 0; i < batch.length; i++) {
    const r = batch[i];
    if (!Array.isArray(r) || r.length !== 2 || typeof r[0] !== 'number' || typeof r[1] !== 'number') return false;
  }
  return true;
}
