/**
 * Binding for build/flint.wasm. Environment-neutral (no Node built-ins): the same code runs in a
 * worker thread and in a browser Web Worker. The caller supplies the module bytes (wasm-bytes.ts
 * imports them through esbuild's binary loader; tests read the file).
 *
 * Batches are copied into linear memory in chunks that stay in cache, results are copied out, and
 * every typed-array view is re-created whenever memory.buffer changed (memory.grow detaches it).
 * A failed memory.grow traps inside the module after recording why; the trap becomes a FlintError
 * ('OUT_OF_MEMORY') and the task's pages are released.
 */
import { FlintError } from '../errors.js';
import { oneShotAggregation } from './one-shot.js';
import { aggCode, decodeAggBatch, keyCode } from './batch.js';
import { chunkEnd, decodeSpans, mergeDecodedCounts, packStrings } from './text.js';
import type {
  AggKind, AggOptions, F64Column, FlintOps, HashAggregator, KeyKind, NumericKeys, PackedBytes, SortOptions, SortableNumbers,
} from './types.js';

/** The module's exports (assembly/index.ts). Pointers are u32 and come back signed above 2 GiB. */
interface FlintWasmExports {
  memory: { buffer: ArrayBuffer };
  abi_version(): number;
  page_alloc(size: number): number;
  page_free(page: number): void;
  page_base(page: number): number;
  page_size(page: number): number;
  reset_task(): void;
  heap_used(): number;
  live_pages(): number;
  last_error(): number;
  set_memory_limit(bytes: number): void;
  set_hash_mask(mask: number): void;
  map_new(keyKind: number, kind: number, capacityHint: number, rawWidth: number): number;
  word_map_new(capacityHint: number, kind: number): number;
  map_free(m: number): void;
  map_count(m: number): number;
  map_capacity(m: number): number;
  map_pages(m: number): number;
  map_bytes(m: number): number;
  map_upsert(m: number, key: number, keyLen: number): number;
  map_find(m: number, key: number, keyLen: number): number;
  agg_i64(m: number, keys: number, values: number, n: number): void;
  agg_bytes(m: number, bytes: number, offsets: number, values: number, n: number): void;
  agg_merge(m: number, batch: number): void;
  map_output(m: number): number;
  map_output_text(m: number): number;
  out_len(): number;
  word_count(m: number, text: number, len: number): void;
  word_spans(text: number, len: number, out: number): number;
  line_spans(text: number, len: number, out: number): number;
  count_byte(text: number, len: number, byte: number): number;
  sort_keys(kind: number, keys: number, offsets: number, n: number, desc: number): number;
  sort_f64(values: number, n: number, desc: number): number;
  stats_f64(state: number, values: number, n: number): void;
}

// Only what this file uses of the WebAssembly global, so that no DOM or Node typings are needed.
interface WasmApi {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: unknown } }>;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  RuntimeError: new (...args: never[]) => Error;
}

export interface WasmOpsOptions {
  /**
   * Test hook: AND-ed into every hash. 0 sends all keys down one probe chain, forcing collisions.
   */
  hashMask?: number;
  /** Cap on linear memory in bytes (default and maximum 4 GiB); growth past it is OUT_OF_MEMORY. */
  memoryLimit?: number;
}

/** Extra wasm-only methods: memory introspection and the plain BytesToBytesMap, for tests and tools. */
export interface WasmOps extends FlintOps {
  readonly impl: 'wasm';
  readonly exports: FlintWasmExports;
  /** Bytes of linear memory in use by live pages (excluding freed blocks not yet reused). */
  heapUsed(): number;
  livePages(): number;
  setHashMask(mask: number): void;
  setMemoryLimit(bytes: number): void;
}

const ABI_VERSION = 1;
const ERR_OUT_OF_MEMORY = 1;
const ERR_TOO_MANY_PAGES = 2;
const ERR_BAD_INPUT = 3;
// Rows per copy into linear memory: keys + values = 256 KiB, small enough to stay in L2 while the
// kernel reads them back.
const NUMERIC_CHUNK = 16384;
const TEXT_CHUNK = 1 << 20;
const SORT_KIND: Record<string, number> = { BigUint64Array: 0, BigInt64Array: 1, Float64Array: 2, Uint32Array: 3, Int32Array: 4 };

function wasmApi(): WasmApi {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!api) throw new FlintError('INTERNAL', 'WebAssembly is not available in this environment');
  return api;
}

export function isWasmAvailable(): boolean {
  return typeof (globalThis as { WebAssembly?: unknown }).WebAssembly === 'object';
}

// A debug build (no --noAssert) imports env.abort; the release build imports nothing.
const imports = {
  env: {
    abort(_msg: number, _file: number, line: number, col: number): never {
      throw new FlintError('INTERNAL', `WebAssembly operator aborted at ${line}:${col}`);
    },
  },
};

export async function instantiateOps(wasmBytes: Uint8Array, options: WasmOpsOptions = {}): Promise<WasmOps> {
  const { instance } = await wasmApi().instantiate(wasmBytes, imports);
  return new WasmOpsImpl(instance.exports as FlintWasmExports, options);
}

/** Synchronous variant (Node, or a browser worker; main-thread browsers limit sync compilation). */
export function instantiateOpsSync(wasmBytes: Uint8Array, options: WasmOpsOptions = {}): WasmOps {
  const api = wasmApi();
  const instance = new api.Instance(new api.Module(wasmBytes), imports);
  return new WasmOpsImpl(instance.exports as FlintWasmExports, options);
}

class WasmOpsImpl implements WasmOps {
  readonly impl = 'wasm' as const;
  private buffer: ArrayBuffer | undefined;
  private u8v = new Uint8Array(0);
  private u32v = new Uint32Array(0);
  private f64v = new Float64Array(0);
  private generation = 0;
  private open = 0;
  private readonly runtimeError: new (...args: never[]) => Error;

  constructor(readonly exports: FlintWasmExports, options: WasmOpsOptions) {
    if (exports.abi_version() !== ABI_VERSION) {
      throw new FlintError('INTERNAL', `flint.wasm ABI ${exports.abi_version()} does not match the host's ${ABI_VERSION}: rebuild it`);
    }
    this.runtimeError = wasmApi().RuntimeError;
    if (options.hashMask !== undefined) exports.set_hash_mask(options.hashMask >>> 0);
    if (options.memoryLimit !== undefined) exports.set_memory_limit(options.memoryLimit);
  }

  // ---- memory ----

  private sync(): void {
    const b = this.exports.memory.buffer;
    if (b !== this.buffer) {
      this.buffer = b;
      this.u8v = new Uint8Array(b);
      this.u32v = new Uint32Array(b);
      this.f64v = new Float64Array(b);
    }
  }
  u8(): Uint8Array {
    this.sync();
    return this.u8v;
  }
  u32(): Uint32Array {
    this.sync();
    return this.u32v;
  }
  f64(): Float64Array {
    this.sync();
    return this.f64v;
  }

  /** Runs wasm code, turning a trap into a FlintError and abandoning the task's pages. */
  run<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof this.runtimeError)) throw e;
      const code = this.exports.last_error();
      this.resetTask();
      if (code === ERR_OUT_OF_MEMORY || code === ERR_TOO_MANY_PAGES) {
        throw new FlintError('OUT_OF_MEMORY',
          code === ERR_OUT_OF_MEMORY
            ? 'WebAssembly operators ran out of linear memory (memory.grow failed or the limit was reached)'
            : 'WebAssembly operators ran out of page numbers (more than 4095 live pages)',
          { cause: e });
      }
      if (code === ERR_BAD_INPUT) throw new FlintError('INVALID_ARGUMENT', 'WebAssembly operator rejected its input', { cause: e });
      throw new FlintError('INTERNAL', `WebAssembly operator trapped: ${e.message}`, { cause: e });
    }
  }

  alloc(size: number): { page: number; ptr: number } {
    if (size > 0xffffffff) throw new FlintError('OUT_OF_MEMORY', `a ${size}-byte buffer does not fit in 32-bit linear memory`);
    const page = this.run(() => this.exports.page_alloc(size));
    return { page, ptr: this.exports.page_base(page) >>> 0 };
  }

  free(page: number): void {
    this.exports.page_free(page);
  }

  /** After a one-shot operation, with no aggregator open, drop everything: no fragmentation builds up. */
  settle(): void {
    if (this.open === 0) this.exports.reset_task();
  }

  /** Frees a one-shot operation's pages (newest first, so the heap top folds back), then settles. */
  private release(pages: number[], gen: number): void {
    if (gen === this.generation) for (let i = pages.length - 1; i >= 0; i--) this.free(pages[i]!);
    this.settle();
  }

  copyOut(page: number, len: number): Uint8Array {
    const base = this.exports.page_base(page) >>> 0;
    return this.u8().slice(base, base + len);
  }

  get gen(): number {
    return this.generation;
  }
  opened(): void {
    this.open++;
  }
  closed(): void {
    this.open--;
  }

  resetTask(): void {
    this.generation++;
    this.open = 0;
    this.exports.reset_task();
  }

  memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }
  heapUsed(): number {
    return this.exports.heap_used() >>> 0;
  }
  livePages(): number {
    return this.exports.live_pages();
  }
  setHashMask(mask: number): void {
    this.exports.set_hash_mask(mask >>> 0);
  }
  setMemoryLimit(bytes: number): void {
    this.exports.set_memory_limit(bytes);
  }

  // ---- aggregation ----

  createAggregator(keyKind: KeyKind, kind: AggKind, options: AggOptions = {}): HashAggregator {
    return new WasmAggregator(this, keyKind, kind, options.capacityHint ?? 0);
  }

  // The one-shot aggregations, over createAggregator; the task's memory settles after each.
  private readonly oneShot = oneShotAggregation((keyKind, kind, options) => this.createAggregator(keyKind, kind, options), () => this.settle());
  readonly hashAggI64 = this.oneShot.hashAggI64;
  readonly hashAggBytes = this.oneShot.hashAggBytes;
  readonly hashAggStrings = this.oneShot.hashAggStrings;
  readonly mergeAggBatches = this.oneShot.mergeAggBatches;

  // ---- statistics ----

  statsF64(state: Float64Array, values: Float64Array): void {
    if (state.length !== 6) throw new FlintError('INVALID_ARGUMENT', 'statsF64 state holds 6 values: count, mean, m2, sum, min, max');
    const n = values.length;
    const gen = this.generation;
    const pages: number[] = [];
    try {
      const chunk = Math.min(n, NUMERIC_CHUNK);
      const buf = this.alloc(48 + chunk * 8);
      pages.push(buf.page);
      const sp = buf.ptr;
      const vp = buf.ptr + 48;
      this.f64().set(state, sp >>> 3);
      for (let i = 0; i < n; i += chunk) {
        const c = Math.min(chunk, n - i);
        this.f64().set(values.subarray(i, i + c), vp >>> 3);
        this.run(() => this.exports.stats_f64(sp, vp, c));
      }
      state.set(this.f64().subarray(sp >>> 3, (sp >>> 3) + 6));
    } finally {
      this.release(pages, gen);
    }
  }

  // ---- sorting ----

  radixSortPrefixes(prefixes: BigUint64Array, options?: SortOptions): Uint32Array {
    return this.sortNumbers(prefixes, options);
  }

  sortNumbers(keys: SortableNumbers, options?: SortOptions): Uint32Array {
    const kind = SORT_KIND[keys.constructor.name];
    if (kind === undefined) throw new FlintError('INVALID_ARGUMENT', `cannot sort a ${keys.constructor.name}`);
    const n = keys.length;
    const gen = this.generation;
    const pages: number[] = [];
    try {
      const input = this.alloc(keys.byteLength);
      pages.push(input.page);
      this.sync();
      new (keys.constructor as new (b: ArrayBuffer, o: number, n: number) => SortableNumbers)(this.buffer!, input.ptr, n).set(keys as never);
      return this.sortAt(kind, input.ptr, 0, n, options);
    } finally {
      this.release(pages, gen);
    }
  }

  createF64Column(): F64Column {
    const ops = this;
    const gen = this.generation;
    let page = 0;
    let capacity = 0;
    let view = new Float64Array(0);
    this.opened();
    const base = () => ops.exports.page_base(page) >>> 0;
    return {
      get capacity() {
        return capacity;
      },
      reserve(want: number, keep: number): void {
        if (want <= capacity) return;
        const next = ops.alloc(want * 8);
        if (page !== 0) {
          const from = base();
          ops.u8().copyWithin(next.ptr, from, from + keep * 8);
          ops.free(page);
        }
        page = next.page;
        capacity = want;
      },
      view(): Float64Array {
        if (capacity <= 0) return view;
        if (view.length !== capacity || view.buffer !== ops.exports.memory.buffer) view = new Float64Array(ops.exports.memory.buffer, base(), capacity);
        return view;
      },
      sort(n: number, options?: SortOptions): boolean {
        return ops.run(() => ops.exports.sort_f64(base(), n, options?.descending ? 1 : 0)) !== 0;
      },
      release(): void {
        if (gen === ops.generation && capacity >= 0) {
          if (page !== 0) ops.free(page);
          ops.closed();
          ops.settle();
        }
        page = 0;
        capacity = -1;
        view = new Float64Array(0);
      },
    };
  }

  sortBytes(keys: PackedBytes, options?: SortOptions): Uint32Array {
    const n = checkPacked(keys);
    const first = keys.offsets[0]!;
    const len = keys.offsets[n]! - first;
    const gen = this.generation;
    const pages: number[] = [];
    try {
      const bytes = this.alloc(len + 8);
      pages.push(bytes.page);
      const offs = this.alloc((n + 1) * 4);
      pages.push(offs.page);
      this.u8().set(keys.bytes.subarray(first, first + len), bytes.ptr);
      const o = this.u32();
      const at = offs.ptr >>> 2;
      if (first === 0) o.set(keys.offsets.subarray(0, n + 1), at);
      else for (let i = 0; i <= n; i++) o[at + i] = keys.offsets[i]! - first;
      return this.sortAt(5, bytes.ptr, offs.ptr, n, options);
    } finally {
      this.release(pages, gen);
    }
  }

  sortStrings(keys: readonly string[], options?: SortOptions): Uint32Array {
    return this.sortBytes(packStrings(keys), options);
  }

  private sortAt(kind: number, keys: number, offsets: number, n: number, options?: SortOptions): Uint32Array {
    const out = this.run(() => this.exports.sort_keys(kind, keys, offsets, n, options?.descending ? 1 : 0));
    const base = this.exports.page_base(out) >>> 0;
    const result = this.u32().slice(base >>> 2, (base >>> 2) + n);
    this.free(out);
    return result;
  }

  // ---- text ----

  wordCount(text: Uint8Array): Map<string, number> {
    let m = 0;
    const gen = this.generation;
    const pages: number[] = [];
    try {
      m = this.run(() => this.exports.word_map_new(4096, aggCode('count'))) >>> 0;
      let staging = this.alloc(Math.min(TEXT_CHUNK, text.length) + 16);
      pages.push(staging.page);
      let cap = this.exports.page_size(staging.page);
      for (let start = 0; start < text.length;) {
        const end = chunkEnd(text, start, start + TEXT_CHUNK);
        const len = end - start;
        if (len + 16 > cap) {
          this.free(pages.pop()!);
          staging = this.alloc(len + 16);
          pages.push(staging.page);
          cap = this.exports.page_size(staging.page);
        }
        this.u8().set(text.subarray(start, end), staging.ptr);
        const ptr = staging.ptr;
        this.run(() => this.exports.word_count(m, ptr, len));
        start = end;
      }
      const page = this.run(() => this.exports.map_output_text(m));
      pages.push(page);
      const base = this.exports.page_base(page) >>> 0;
      const u32 = this.u32();
      const rows = u32[(base >>> 2) + 1]!;
      const textLen = u32[(base >>> 2) + 2]!;
      const counts = this.f64().subarray((base + 16) >>> 3, ((base + 16) >>> 3) + rows);
      const joined = base + 16 + rows * 8;
      const keys = rows === 0 ? [] : keyText.decode(this.u8().subarray(joined, joined + textLen)).split(' ');
      keys.length = rows;
      return mergeDecodedCounts(keys, counts);
    } finally {
      if (m !== 0 && gen === this.generation) this.exports.map_free(m);
      this.release(pages, gen);
    }
  }

  wordSpans(text: Uint8Array): Uint32Array {
    return this.spans(text, (t, l, o) => this.exports.word_spans(t, l, o));
  }

  words(text: Uint8Array): string[] {
    return decodeSpans(text, this.wordSpans(text));
  }

  countByte(text: Uint8Array, byte: number): number {
    return this.onText(text, (ptr) => this.run(() => this.exports.count_byte(ptr, text.length, byte & 0xff)));
  }

  lineSpans(text: Uint8Array): Uint32Array {
    return this.spans(text, (t, l, o) => this.exports.line_spans(t, l, o));
  }

  lines(text: Uint8Array): string[] {
    return decodeSpans(text, this.lineSpans(text));
  }

  private spans(text: Uint8Array, kernel: (text: number, len: number, out: number) => number): Uint32Array {
    return this.onText(text, (ptr, pages) => {
      const n = this.run(() => kernel(ptr, text.length, 0));
      const out = this.alloc(n * 8);
      pages.push(out.page);
      this.run(() => kernel(ptr, text.length, out.ptr));
      return this.u32().slice(out.ptr >>> 2, (out.ptr >>> 2) + 2 * n);
    });
  }

  /** Runs `f` on a copy of text in linear memory (16 bytes of slack for SIMD loads); frees its pages after. */
  private onText<T>(text: Uint8Array, f: (ptr: number, pages: number[]) => T): T {
    const gen = this.generation;
    const pages: number[] = [];
    try {
      const t = this.alloc(text.length + 16);
      pages.push(t.page);
      this.u8().set(text, t.ptr);
      return f(t.ptr, pages);
    } finally {
      this.release(pages, gen);
    }
  }

}

// Distinct keys are decoded in one call; they never begin the stream, so a BOM must not be eaten.
const keyText = new TextDecoder('utf-8', { ignoreBOM: true });

function checkPacked(keys: PackedBytes): number {
  const n = keys.offsets.length - 1;
  if (n < 0) throw new FlintError('INVALID_ARGUMENT', 'PackedBytes.offsets needs n + 1 entries');
  const o = keys.offsets;
  for (let i = 0; i < n; i++) {
    if (o[i + 1]! < o[i]!) throw new FlintError('INVALID_ARGUMENT', `PackedBytes.offsets decreases at ${i}`);
  }
  if (o[n]! > keys.bytes.length) throw new FlintError('INVALID_ARGUMENT', 'PackedBytes.offsets point past the bytes');
  return n;
}

class WasmAggregator implements HashAggregator {
  private m = 0;
  private readonly gen: number;
  private done = false;
  private readonly hint: number;
  /** `m` is the word-count table (short words inline), which only word_count and its output take. */
  private wordTable = false;

  constructor(private readonly ops: WasmOpsImpl, readonly keyKind: KeyKind, readonly kind: AggKind, capacityHint: number) {
    keyCode(keyKind);
    aggCode(kind);
    this.gen = ops.gen;
    this.hint = Math.max(0, Math.min(capacityHint >>> 0, 1 << 27));
    this.m = this.newMap();
    ops.opened();
  }

  private newMap(): number {
    const { ops, keyKind, kind, hint } = this;
    return ops.run(() => ops.exports.map_new(keyCode(keyKind), aggCode(kind), hint, 0)) >>> 0;
  }

  /** Leaves the word table for an ordinary map holding the same rows, for the generic calls. */
  private leaveWordTable(): void {
    if (!this.wordTable) return;
    const batch = this.output();
    this.ops.exports.map_free(this.m);
    this.wordTable = false;
    this.m = this.newMap();
    this.mergeBatch(batch);
  }

  get size(): number {
    this.live();
    return this.ops.exports.map_count(this.m);
  }

  get capacity(): number {
    this.live();
    return this.ops.exports.map_capacity(this.m);
  }

  memoryBytes(): number {
    this.live();
    return this.ops.exports.map_bytes(this.m);
  }

  private live(): void {
    if (this.done) throw new FlintError('INVALID_ARGUMENT', 'aggregator already finished or released');
    if (this.gen !== this.ops.gen) {
      this.done = true;
      throw new FlintError('INVALID_ARGUMENT', 'aggregator belongs to a task that was reset');
    }
  }

  addNumeric(keys: NumericKeys, values: Float64Array): void {
    this.live();
    this.leaveWordTable();
    if (this.keyKind === 'bytes') throw new FlintError('INVALID_ARGUMENT', "a 'bytes' aggregator takes PackedBytes keys (use addBytes)");
    if (this.keyKind === 'i64' ? !(keys instanceof BigInt64Array) : !(keys instanceof Float64Array)) {
      throw new FlintError('INVALID_ARGUMENT', `a '${this.keyKind}' aggregator takes ${this.keyKind === 'i64' ? 'BigInt64Array' : 'Float64Array'} keys`);
    }
    const n = keys.length;
    if (values.length !== n) throw new FlintError('INVALID_ARGUMENT', `${n} keys but ${values.length} values`);
    if (n === 0) return;
    const ops = this.ops;
    const chunk = Math.min(n, NUMERIC_CHUNK);
    const staging = ops.alloc(chunk * 16);
    try {
      const kp = staging.ptr;
      const vp = staging.ptr + chunk * 8;
      const m = this.m;
      for (let i = 0; i < n; i += chunk) {
        const c = Math.min(chunk, n - i);
        ops.f64().set(values.subarray(i, i + c), vp >>> 3);
        if (keys instanceof BigInt64Array) new BigInt64Array(ops.f64().buffer, kp, c).set(keys.subarray(i, i + c));
        else ops.f64().set(keys.subarray(i, i + c), kp >>> 3);
        ops.run(() => ops.exports.agg_i64(m, kp, vp, c));
      }
    } finally {
      ops.free(staging.page);
    }
  }

  addBytes(keys: PackedBytes, values: Float64Array): void {
    this.live();
    this.leaveWordTable();
    if (this.keyKind !== 'bytes') throw new FlintError('INVALID_ARGUMENT', `a '${this.keyKind}' aggregator takes numeric keys (use addNumeric)`);
    const n = checkPacked(keys);
    if (values.length !== n) throw new FlintError('INVALID_ARGUMENT', `${n} keys but ${values.length} values`);
    const ops = this.ops;
    const { bytes, offsets } = keys;
    const rowsPerChunk = Math.min(n, NUMERIC_CHUNK);
    const fixed = ops.alloc(rowsPerChunk * 12 + 16);
    let bytesPage = ops.alloc(1 << 18);
    let bytesCap = ops.exports.page_size(bytesPage.page);
    try {
      const vp = fixed.ptr;
      const op = fixed.ptr + rowsPerChunk * 8;
      const m = this.m;
      for (let i = 0; i < n;) {
        // Up to rowsPerChunk rows, but stop early once the key bytes pass 256 KiB (at least a row).
        let j = Math.min(n, i + rowsPerChunk);
        const limit = offsets[i]! + (1 << 18);
        if (offsets[j]! > limit) {
          let lo = i + 1;
          let hi = j;
          while (lo < hi) {
            const mid = (lo + hi + 1) >>> 1;
            if (offsets[mid]! <= limit) lo = mid;
            else hi = mid - 1;
          }
          j = lo;
        }
        const c = j - i;
        const b0 = offsets[i]!;
        const blen = offsets[j]! - b0;
        if (blen + 8 > bytesCap) {
          ops.free(bytesPage.page);
          bytesPage = ops.alloc(blen + 8);
          bytesCap = ops.exports.page_size(bytesPage.page);
        }
        ops.u8().set(bytes.subarray(b0, b0 + blen), bytesPage.ptr);
        ops.u32().set(offsets.subarray(i, j + 1), op >>> 2);
        ops.f64().set(values.subarray(i, j), vp >>> 3);
        const bp = bytesPage.ptr;
        ops.run(() => ops.exports.agg_bytes(m, bp, op, vp, c));
        i = j;
      }
    } finally {
      ops.free(bytesPage.page);
      ops.free(fixed.page);
    }
  }

  addWords(text: Uint8Array): void {
    this.live();
    if (this.keyKind !== 'bytes' || (this.kind !== 'sum' && this.kind !== 'count')) {
      throw new FlintError('INVALID_ARGUMENT', `addWords needs a bytes/sum or bytes/count aggregator, not ${this.keyKind}/${this.kind}`);
    }
    if (text.length === 0) return;
    const ops = this.ops;
    // An aggregator fed only words counts them in the word table, where short words never leave
    // their slot; the generic map takes over if other rows arrive (leaveWordTable).
    if (!this.wordTable && ops.exports.map_count(this.m) === 0) {
      ops.exports.map_free(this.m);
      const kind = aggCode(this.kind);
      this.m = ops.run(() => ops.exports.word_map_new(Math.max(this.hint, 4096), kind)) >>> 0;
      this.wordTable = true;
    }
    const m = this.m;
    // The scanner may read up to 16 bytes past a chunk (SIMD loads); the slack keeps them in the page.
    let staging = ops.alloc(Math.min(TEXT_CHUNK, text.length) + 16);
    let cap = ops.exports.page_size(staging.page);
    try {
      for (let start = 0; start < text.length;) {
        const end = chunkEnd(text, start, start + TEXT_CHUNK);
        const len = end - start;
        if (len + 16 > cap) {
          ops.free(staging.page);
          staging = ops.alloc(len + 16);
          cap = ops.exports.page_size(staging.page);
        }
        ops.u8().set(text.subarray(start, end), staging.ptr);
        const ptr = staging.ptr;
        ops.run(() => ops.exports.word_count(m, ptr, len));
        start = end;
      }
    } finally {
      if (this.gen === ops.gen) ops.free(staging.page);
    }
  }

  merge(batch: Uint8Array): void {
    this.live();
    const d = decodeAggBatch(batch);
    if (d.keyKind !== this.keyKind || d.kind !== this.kind) {
      throw new FlintError('INVALID_ARGUMENT', `cannot merge a ${d.keyKind}/${d.kind} batch into a ${this.keyKind}/${this.kind} aggregator`);
    }
    this.leaveWordTable();
    this.mergeBatch(batch);
  }

  private mergeBatch(batch: Uint8Array): void {
    const ops = this.ops;
    const b = ops.alloc(batch.byteLength + 8);
    try {
      ops.u8().set(batch, b.ptr);
      const m = this.m;
      ops.run(() => ops.exports.agg_merge(m, b.ptr));
    } finally {
      ops.free(b.page);
    }
  }

  finish(): Uint8Array {
    this.live();
    const out = this.output();
    this.release();
    return out;
  }

  /** The map's rows as a binary batch (the word table writes the same layout). */
  private output(): Uint8Array {
    const ops = this.ops;
    const m = this.m;
    const page = ops.run(() => ops.exports.map_output(m));
    const out = ops.copyOut(page, ops.exports.out_len());
    ops.free(page);
    return out;
  }

  release(): void {
    if (this.done) return;
    this.done = true;
    if (this.gen !== this.ops.gen) return;
    this.ops.exports.map_free(this.m);
    this.ops.closed();
    // With no table left the heap starts over, so tables that come and go (spills) do not fragment it.
    this.ops.settle();
  }
}
