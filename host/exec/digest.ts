/**
 * The digest of a task's output (SHA-256), by which replicas of a task computed by different
 * executors are compared when results of untrusted executors are verified. It covers the canonical
 * bytes the task hands on — the encoded result, each shuffle bucket with its length, each line of a
 * text output — so two honest executors always agree and a corrupted output never does.
 *
 * An output of up to 8 MiB is gathered and hashed once by the platform's WebCrypto (native code), a
 * larger one incrementally by @noble/hashes: every application starts fresh executors, and in a
 * fresh Web Worker the JavaScript SHA-256 ran unoptimised for the first hundreds of small tasks (a
 * millisecond of a 4 ms task, a quarter of what verification cost honest tabs). Both compute the same
 * SHA-256 of the same bytes, so executors that took either path agree. WebCrypto exists only in
 * secure contexts: a tab served over plain HTTP from another host hashes with @noble/hashes.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '../codec/bytes.js';

/** Output bytes gathered for a one-shot native digest; past this they are hashed as they come. */
const GATHER_BYTES = 8 * 1024 * 1024;

interface SubtleDigest {
  digest(algorithm: 'SHA-256', data: Uint8Array): Promise<ArrayBuffer>;
}
const subtle = (globalThis as { crypto?: { subtle?: SubtleDigest } }).crypto?.subtle ?? null;

export class OutputDigest {
  /** Copies of the bytes so far while they fit, else null and `hash` takes them. */
  private gathered: Uint8Array[] | null = [];
  private gatheredBytes = 0;
  private hash: ReturnType<typeof sha256.create> | null = null;
  private readonly utf8 = new TextEncoder();

  constructor(private readonly gatherLimit = subtle ? GATHER_BYTES : 0) {}

  bytes(chunk: Uint8Array): this {
    this.update(chunk);
    return this;
  }

  /** A length-prefixed part (a bucket) given as its length and then its bytes in pieces: [] and [[]] hash differently. */
  partOf(length: number, chunks: Iterable<Uint8Array>): this {
    this.update(lengthPrefix(length));
    for (const c of chunks) this.update(c);
    return this;
  }

  line(text: string): this {
    this.update(this.utf8.encode(text));
    this.update(NEWLINE);
    return this;
  }

  async hex(): Promise<string> {
    let sum: Uint8Array;
    if (this.gathered !== null) {
      const all = concatBytes(this.gathered);
      sum = subtle ? new Uint8Array(await subtle.digest('SHA-256', all)) : sha256(all);
    } else {
      sum = this.hash!.digest();
    }
    let out = '';
    for (const b of sum) out += b.toString(16).padStart(2, '0');
    return out;
  }

  private update(chunk: Uint8Array): void {
    if (this.gathered !== null) {
      if (this.gatheredBytes + chunk.byteLength <= this.gatherLimit) {
        // A copy: callers reuse their buffers once this returns.
        this.gathered.push(chunk.slice());
        this.gatheredBytes += chunk.byteLength;
        return;
      }
      this.hash = sha256.create();
      for (const c of this.gathered) this.hash.update(c);
      this.gathered = null;
    }
    this.hash!.update(chunk);
  }
}

function lengthPrefix(length: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, length);
  return b;
}

const NEWLINE = new Uint8Array([0x0a]);
