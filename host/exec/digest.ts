/**
 * The digest of a task's output (SHA-256, incremental), by which replicas of a task computed by
 * different executors are compared when results of untrusted executors are verified. It covers the
 * canonical bytes the task hands on — the encoded result, each shuffle bucket with its length, each
 * line of a text output — so two honest executors always agree and a corrupted output never does.
 */
import { sha256 } from '@noble/hashes/sha2.js';

export class OutputDigest {
  private readonly hash = sha256.create();
  private readonly length = new Uint8Array(4);
  private readonly utf8 = new TextEncoder();

  bytes(chunk: Uint8Array): this {
    this.hash.update(chunk);
    return this;
  }

  /** A length-prefixed part (a bucket): [] and [[]] hash differently. */
  part(chunk: Uint8Array): this {
    new DataView(this.length.buffer).setUint32(0, chunk.byteLength);
    this.hash.update(this.length);
    this.hash.update(chunk);
    return this;
  }

  /** A part given as its length and then its bytes in pieces: the same digest as `part` of their concatenation. */
  partOf(length: number, chunks: Iterable<Uint8Array>): this {
    new DataView(this.length.buffer).setUint32(0, length);
    this.hash.update(this.length);
    for (const c of chunks) this.hash.update(c);
    return this;
  }

  line(text: string): this {
    this.hash.update(this.utf8.encode(text));
    this.hash.update(NEWLINE);
    return this;
  }

  hex(): string {
    let out = '';
    for (const b of this.hash.digest()) out += b.toString(16).padStart(2, '0');
    return out;
  }
}

const NEWLINE = new Uint8Array([0x0a]);
