/**
 * Combiners by key on the record path (lambdas, groupByKey, cogroup, joins) within a memory budget:
 * Spark's ExternalAppendOnlyMap, with hash-partitioned runs instead of sorted ones.
 *
 * A `CombinerMap` is a KeyMap (key → slot, combiners in slot order) that keeps an estimate of its size and asks the task's memory for it
 * after every batch; when the memory is refused its owner decides what spilling means: the map
 * side of a shuffle writes the combiners out as shuffle output (the reduce side merges them anyway),
 * the reduce side writes a run (`SpillableCombiners`). A run holds the combiners in 32 parts by the
 * top bits of their key's hash; once every input is in, each part is merged on its own in a fresh
 * map, so no more than a part of the data is in memory at once, and a part that still does not fit
 * is split again by another hash (the grace hash join's recursion). Values of a key keep their
 * input order: runs are merged in the order they were written.
 */
import { KeyMap, hashKey, hashKeySeeded } from '../codec/keys.js';
import { decodeRecords, encodeRecords } from '../codec/records.js';
import { FrameWriter, readFrames } from '../memory/frames.js';
import type { MemoryConsumer, TaskMemory } from '../memory/memory-manager.js';
import type { ScratchReader, TaskScratch } from '../memory/scratch.js';
import { sizeOf } from '../memory/size.js';
import type { Aggregator } from './aggregator.js';

/** Bytes V8 spends on a Map entry beyond its key and value (the table's slot and slack). */
const ENTRY_BYTES = 48;
/** Records per frame of a run, and per batch handed downstream. */
export const RECORDS_PER_FRAME = 4096;
const BUCKET_BITS = 5;
const BUCKETS = 1 << BUCKET_BITS;
/** Levels of re-partitioning before a part is merged in memory whatever it costs. */
const MAX_LEVEL = 3;

export class CombinerMap implements MemoryConsumer {
  /**
   * Key → slot of its combiner: an existing key costs one lookup (its key hashed once), not a get
   * and a set. Keys and combiners sit in slot (first-seen) order, the order KeyMap iterates in.
   */
  private readonly index = new KeyMap<number>();
  /** Number keys' slots: an open-addressing table on the key's bits (JS Map lookups cost more). */
  private numbers = new NumberSlots();
  /** String keys' slots, by a hash computed here (see StringSlots). */
  private strings = new StringSlots();
  private keys: unknown[] = [];
  private combiners: unknown[] = [];
  private estimate = 0;
  private perKey = 64;
  private newKeys = 0;
  private updates = 0;
  /** Being handed downstream: a spill now would take entries from under the reader. */
  private draining = false;

  constructor(
    readonly label: string,
    private readonly memory: TaskMemory,
    private readonly agg: Aggregator,
    /** Null: it cannot spill, and takes what it needs (a part merged at the deepest level). */
    private readonly onSpill: ((map: CombinerMap) => void) | null,
  ) {}

  get size(): number {
    return this.keys.length;
  }

  /** [key, combiner] in first-seen order; a key is given as KeyMap gives it (a top-level -0 as 0). */
  *entries(): Generator<[unknown, unknown]> {
    const { keys, combiners } = this;
    for (let i = 0; i < keys.length; i++) yield [keys[i], combiners[i]];
  }

  /** The keys and combiners entries() pairs up, in the same order, without the pairs (not to be changed). */
  columns(): { keys: readonly unknown[]; combiners: readonly unknown[] } {
    return { keys: this.keys, combiners: this.combiners };
  }

  clear(): void {
    this.index.clear();
    this.numbers = new NumberSlots();
    this.strings = new StringSlots();
    this.keys = [];
    this.combiners = [];
  }

  private slotOf(key: unknown): number | undefined {
    if (typeof key === 'number') {
      const i = this.numbers.get(key);
      return i < 0 ? undefined : i;
    }
    if (typeof key === 'string') {
      const i = this.strings.get(key, this.keys);
      return i < 0 ? undefined : i;
    }
    return this.index.get(key);
  }

  private insert(key: unknown, combiner: unknown): void {
    if (typeof key === 'number') this.numbers.set(key, this.keys.length);
    else if (typeof key === 'string') this.strings.set(key, this.keys.length);
    else this.index.set(key, this.keys.length);
    // A Map keeps -0 as 0 (SameValueZero), and KeyMap gave keys back as the Map holds them.
    this.keys.push(key === 0 ? 0 : key);
    this.combiners.push(combiner);
    this.counted(key, combiner);
  }

  addValue(key: unknown, value: unknown): void {
    const i = this.slotOf(key);
    if (i !== undefined) {
      const combiners = this.combiners;
      // Growth of an existing combiner (a group's array) is measured on one update in 64.
      if ((++this.updates & 63) === 0) {
        const c = combiners[i];
        const before = sizeOf(c);
        const next = this.agg.mergeValue(c, value);
        this.estimate += Math.max(0, sizeOf(next) - before) * 64;
        combiners[i] = next;
      } else combiners[i] = this.agg.mergeValue(combiners[i], value);
      return;
    }
    this.insert(key, this.agg.createCombiner(value));
  }

  addCombiner(key: unknown, combiner: unknown): void {
    const i = this.slotOf(key);
    if (i !== undefined) {
      const c = this.combiners[i];
      const before = sizeOf(c);
      const next = this.agg.mergeCombiners(c, combiner);
      this.estimate += Math.max(0, sizeOf(next) - before);
      this.combiners[i] = next;
      return;
    }
    this.insert(key, combiner);
  }

  private counted(key: unknown, combiner: unknown): void {
    // A new key is measured one time in 16; the others are taken to be like the last measured.
    if ((this.newKeys++ & 15) === 0) this.perKey = ENTRY_BYTES + sizeOf(key) + sizeOf(combiner);
    this.estimate += this.perKey;
  }

  /** After a batch: asks for what the batch added, and spills when the memory is refused. */
  endBatch(): void {
    const want = this.estimate - this.memory.usedBy(this);
    if (want <= 0 || this.memory.acquire(this, want)) return;
    if (this.memory.spill(this) === 0) this.memory.force(this, this.estimate - this.memory.usedBy(this));
  }

  spill(): number {
    if (this.size === 0 || !this.onSpill || this.draining || !this.memory.canSpill) return 0;
    this.onSpill(this);
    this.clear();
    this.estimate = 0;
    const freed = this.memory.usedBy(this);
    this.memory.releaseAll(this);
    return freed;
  }

  /** The entries as [key, combiner] records, in batches; the map is left empty. */
  *drain(): Generator<unknown[]> {
    this.draining = true;
    try {
      let out: unknown[] = [];
      const { keys, combiners } = this;
      for (let i = 0; i < keys.length; i++) {
        out.push([keys[i], combiners[i]]);
        if (out.length === RECORDS_PER_FRAME) {
          yield out;
          out = [];
        }
      }
      if (out.length > 0) yield out;
    } finally {
      this.draining = false;
      this.clear();
      this.estimate = 0;
      this.memory.releaseAll(this);
    }
  }
}

const f64 = new Float64Array(1);
const i32 = new Int32Array(f64.buffer);

/**
 * Slots of number keys, equal as a Map's keys are (SameValueZero: -0 is 0, NaN is NaN): linear
 * probing over the keys' f64 bits, at most half full; small non-negative integers, while they stay
 * dense (the table at most four times the keys), by direct index instead. Ids, buckets and
 * `i % K` are such keys, and consecutive ones then sit in consecutive memory rather than at hashed
 * places: the reduceByKey job of bench:engine's lambda section took its 100,000 keys' slots in
 * half the time (one thread, the generated loop with the combine).
 */
class NumberSlots {
  private bits = 10;
  private keys = new Float64Array(1 << this.bits);
  private slots = new Int32Array(1 << this.bits).fill(-1);
  private size = 0;
  private nan = -1;
  /** Slot + 1 of integer key k in [0, dense.length) (0: none); such keys are never in `keys`. */
  private dense = new Int32Array(1024);
  private denseSize = 0;

  private static hash(k: number): number {
    if ((k | 0) === k) return Math.imul(k, 0x9e3779b1);
    f64[0] = k;
    return Math.imul(i32[0]! ^ Math.imul(i32[1]!, 0x85ebca6b), 0x9e3779b1);
  }

  /** The key's slot, or -1. */
  get(key: number): number {
    // -0 passes as 0 (-0 >>> 0 is 0, and 0 === -0); NaN does not.
    if (key >>> 0 === key && key < this.dense.length) return this.dense[key | 0]! - 1;
    if (key !== key) return this.nan;
    const k = key === 0 ? 0 : key;
    const mask = (1 << this.bits) - 1;
    const { keys, slots } = this;
    for (let i = NumberSlots.hash(k) >>> (32 - this.bits); ; i = (i + 1) & mask) {
      const s = slots[i]!;
      if (s < 0) return -1;
      if (keys[i] === k) return s;
    }
  }

  /** Records a key that is not there yet. */
  set(key: number, slot: number): void {
    if (key >>> 0 === key) {
      if (key >= this.dense.length && key < 4 * (this.size + this.denseSize + 1)) this.growDense(key);
      if (key < this.dense.length) {
        this.dense[key | 0] = slot + 1;
        this.denseSize++;
        return;
      }
    }
    if (key !== key) {
      this.nan = slot;
      return;
    }
    if (++this.size > 1 << (this.bits - 1)) this.grow();
    this.place(key === 0 ? 0 : key, slot);
  }

  private place(k: number, slot: number): void {
    const mask = (1 << this.bits) - 1;
    let i = NumberSlots.hash(k) >>> (32 - this.bits);
    while (this.slots[i]! >= 0) i = (i + 1) & mask;
    this.keys[i] = k;
    this.slots[i] = slot;
  }

  private grow(): void {
    const { keys, slots } = this;
    this.bits++;
    this.keys = new Float64Array(1 << this.bits);
    this.slots = new Int32Array(1 << this.bits).fill(-1);
    for (let i = 0; i < slots.length; i++) if (slots[i]! >= 0) this.place(keys[i]!, slots[i]!);
  }

  /** Direct slots up to `key` at least; hashed keys that fall below the new end move there. */
  private growDense(key: number): void {
    let n = this.dense.length;
    while (n <= key) n *= 2;
    const dense = new Int32Array(n);
    dense.set(this.dense);
    this.dense = dense;
    const { keys, slots } = this;
    this.keys = new Float64Array(keys.length);
    this.slots = new Int32Array(slots.length).fill(-1);
    this.size = 0;
    for (let i = 0; i < slots.length; i++) if (slots[i]! >= 0) this.set(keys[i]!, slots[i]!);
  }
}

/**
 * Slots of string keys: linear probing over (hash, slot) pairs, at most half full, the hash one
 * of the key's UTF-16 code units computed here. A JS Map keyed by a string the
 * user's function just made first has V8 hash it in a runtime call; measured over the words of
 * 20 MB of text split per line (one thread, medians of 5), this table took the words in about
 * half the time a Map did (as fast with this hash as with murmur3's mix of two units at a time). A
 * matching hash is confirmed with `===` on the key itself.
 */
class StringSlots {
  private bits = 10;
  /** [hash, slot] per entry; slot -1 is empty. */
  private table = new Int32Array(2 << this.bits).fill(-1);
  private size = 0;

  /** FNV-1a over the UTF-16 code units, mixed at the end: the table indexes by the top bits. */
  static hash(s: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    return h ^ (h >>> 13);
  }

  /** The key's slot, or -1; `keys` holds the key of each slot. */
  get(key: string, keys: readonly unknown[]): number {
    const h = StringSlots.hash(key);
    const mask = (1 << this.bits) - 1;
    const table = this.table;
    for (let i = h >>> (32 - this.bits); ; i = (i + 1) & mask) {
      const s = table[2 * i + 1]!;
      if (s < 0) return -1;
      if (table[2 * i] === h && keys[s] === key) return s;
    }
  }

  /** Records a key that is not there yet. */
  set(key: string, slot: number): void {
    if (++this.size > 1 << (this.bits - 1)) this.grow();
    this.place(StringSlots.hash(key), slot);
  }

  private place(h: number, slot: number): void {
    const mask = (1 << this.bits) - 1;
    const table = this.table;
    let i = h >>> (32 - this.bits);
    while (table[2 * i + 1]! >= 0) i = (i + 1) & mask;
    table[2 * i] = h;
    table[2 * i + 1] = slot;
  }

  private grow(): void {
    const old = this.table;
    this.bits++;
    this.table = new Int32Array(2 << this.bits).fill(-1);
    for (let i = 0; i < old.length; i += 2) if (old[i + 1]! >= 0) this.place(old[i]!, old[i + 1]!);
  }
}

interface Run {
  file: string;
  /** Where each hash part starts, and where the last ends. */
  offsets: number[];
}

/** The reduce side: combiners of every key of a partition, spilled to runs when memory is short. */
export class SpillableCombiners {
  private readonly combiners: CombinerMap;
  private readonly runs: Run[] = [];

  constructor(
    private readonly memory: TaskMemory,
    private readonly scratch: TaskScratch,
    private readonly agg: Aggregator,
    private readonly level = 0,
  ) {
    this.combiners = new CombinerMap('combiners', memory, agg, level < MAX_LEVEL ? (map) => this.writeRun(map) : null);
  }

  addValue(key: unknown, value: unknown): void {
    this.combiners.addValue(key, value);
  }

  addCombiner(key: unknown, combiner: unknown): void {
    this.combiners.addCombiner(key, combiner);
  }

  endBatch(): void {
    this.combiners.endBatch();
  }

  get spilled(): boolean {
    return this.runs.length > 0;
  }

  private bucketOf(key: unknown): number {
    const h = this.level === 0 ? hashKey(key) : hashKeySeeded(key, 0x2545f491 + this.level);
    return h >>> (32 - BUCKET_BITS);
  }

  private writeRun(map: CombinerMap): void {
    const parts: unknown[][][] = Array.from({ length: BUCKETS }, () => []);
    for (const [k, c] of map.entries()) parts[this.bucketOf(k)]!.push([k, c]);
    const writer = new FrameWriter(this.scratch.create('combiners'));
    const offsets: number[] = [];
    for (const part of parts) {
      offsets.push(writer.offset);
      for (let i = 0; i < part.length; i += RECORDS_PER_FRAME) writer.write(encodeRecords(part.slice(i, i + RECORDS_PER_FRAME)));
    }
    offsets.push(writer.offset);
    writer.close();
    this.runs.push({ file: writer.file.name, offsets });
  }

  /** Every key's combiner as [key, combiner] records, in batches. */
  *results(): Generator<unknown[]> {
    if (this.runs.length === 0) {
      yield* this.combiners.drain();
      return;
    }
    this.memory.spill(this.combiners);
    const readers: ScratchReader[] = this.runs.map((r) => this.scratch.open(r.file));
    try {
      for (let b = 0; b < BUCKETS; b++) {
        const part = new SpillableCombiners(this.memory, this.scratch, this.agg, this.level + 1);
        this.runs.forEach((run, i) => {
          for (const payload of readFrames(readers[i]!, run.offsets[b]!, run.offsets[b + 1]!)) {
            for (const r of decodeRecords(payload)) {
              const [k, c] = r as [unknown, unknown];
              part.addCombiner(k, c);
            }
            part.endBatch();
          }
        });
        yield* part.results();
      }
    } finally {
      for (const r of readers) r.close();
      for (const run of this.runs) this.scratch.remove(run.file);
      this.runs.length = 0;
    }
  }
}
