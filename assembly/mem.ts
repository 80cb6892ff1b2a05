// Page allocator over linear memory, modelled on Spark's TaskMemoryManager.
//
// Operators ask for pages; a page has a number (index into a page table) and a base address.
// Records inside record pages are addressed by an encoded u32 `page << PAGE_BITS | offset`, so a
// slot in a hash table is 8 bytes (hash + address) and the table never holds raw pointers into
// memory whose layout the allocator owns. `resetTask` drops every page at once by rewinding the
// bump pointer: memory never shrinks (wasm cannot) but a sequence of tasks reuses the same bytes,
// so its size is the peak of one task, not the sum of all.

// Offset bits of an encoded address: ordinary record pages are 1 MiB, 4095 page numbers remain.
export const PAGE_BITS: u32 = 20;
export const PAGE_SIZE: u32 = 1 << PAGE_BITS;
export const OFFSET_MASK: u32 = PAGE_SIZE - 1;
const MAX_PAGES: u32 = 1 << (32 - PAGE_BITS);
// Reads of up to 8 bytes past the end of a key are allowed everywhere (word-at-a-time hashing and
// comparison mask the excess), so the top of the heap always keeps this much readable slack.
const SLACK: u64 = 64;

export const ERR_NONE: u32 = 0;
export const ERR_OUT_OF_MEMORY: u32 = 1;
export const ERR_TOO_MANY_PAGES: u32 = 2;
export const ERR_BAD_INPUT: u32 = 3;

const pageBase = memory.data(<i32>(MAX_PAGES * 4));
const pageSize = memory.data(<i32>(MAX_PAGES * 4));
const freeNums = memory.data(<i32>(MAX_PAGES * 4));
let freeNumCount: u32 = 0;
let nextPage: u32 = 1; // page 0 is never handed out: encoded address 0 means "empty slot"
let livePages: u32 = 0;

const MAX_FREE: u32 = 4096;
const freeBlockBase = memory.data(<i32>(MAX_FREE * 4));
const freeBlockSize = memory.data(<i32>(MAX_FREE * 4));
let freeBlockCount: u32 = 0;

const heapStart: usize = (__heap_base + 63) & ~(<usize>63);
let bump: usize = heapStart;
let limitBytes: u64 = <u64>0x100000000;
export let lastError: u32 = ERR_NONE;

// Traps on purpose: the host turns the trap plus `lastError` into a FlintError, and the task's
// pages are abandoned with `resetTask`, so no operator needs an error path of its own.
export function fail(code: u32): void {
  lastError = code;
  unreachable();
}

export function setMemoryLimit(bytes: u64): void {
  limitBytes = bytes > <u64>0x100000000 ? <u64>0x100000000 : bytes;
}

function ensureHeap(end: u64): void {
  const need = end + SLACK;
  const have = (<u64>memory.size()) << 16;
  if (need <= have) return;
  if (need > limitBytes) fail(ERR_OUT_OF_MEMORY);
  const needPages = <i32>((need - have + 0xffff) >> 16);
  // Grow with some headroom (1/8 of the current size, at most 64 MiB) to avoid a grow per page,
  // but never past the limit.
  let extra = <i32>(memory.size() >> 3);
  if (extra > 1024) extra = 1024;
  if (have + ((<u64>(needPages + extra)) << 16) > limitBytes) extra = 0;
  if (memory.grow(needPages + extra) < 0) {
    if (extra == 0 || memory.grow(needPages) < 0) fail(ERR_OUT_OF_MEMORY);
  }
}

// Small blocks come in power-of-two classes so that freed ones fit later requests; large blocks
// are 64 KiB multiples so that a 100 MB buffer does not cost 128 MB.
function roundSize(size: u64): u64 {
  if (size <= 4096) return 4096;
  if (size < 65536) return <u64>1 << (64 - clz<u64>(size - 1));
  return (size + 0xffff) & ~(<u64>0xffff);
}

function allocBlock(size: u64): usize {
  const want = roundSize(size);
  // Best fit among freed blocks, but never a block more than twice the size: a huge freed buffer
  // is better kept for the next huge request.
  let best: i32 = -1;
  let bestSize: u64 = 0xffffffffffffffff;
  for (let i: u32 = 0; i < freeBlockCount; i++) {
    const s = <u64>load<u32>(freeBlockSize + (i << 2));
    if (s >= want && s <= want << 1 && s < bestSize) {
      best = <i32>i;
      bestSize = s;
      if (s == want) break;
    }
  }
  if (best >= 0) {
    const b = <usize>best << 2;
    const base = load<u32>(freeBlockBase + b);
    freeBlockCount--;
    store<u32>(freeBlockBase + b, load<u32>(freeBlockBase + (freeBlockCount << 2)));
    store<u32>(freeBlockSize + b, load<u32>(freeBlockSize + (freeBlockCount << 2)));
    lastBlockSize = <u32>bestSize;
    return base;
  }
  const base = (<u64>bump + 15) & ~(<u64>15);
  const end = base + want;
  if (end > limitBytes || end >= <u64>0x100000000 - SLACK) fail(ERR_OUT_OF_MEMORY);
  ensureHeap(end);
  bump = <usize>end;
  lastBlockSize = <u32>want;
  return <usize>base;
}

let lastBlockSize: u32 = 0;

function freeBlock(base: usize, size: u32): void {
  if (base + size == bump) {
    bump = base;
    // Freed blocks that now touch the top are folded back into it as well.
    let again = true;
    while (again) {
      again = false;
      for (let i: u32 = 0; i < freeBlockCount; i++) {
        const b = load<u32>(freeBlockBase + (i << 2));
        const s = load<u32>(freeBlockSize + (i << 2));
        if (<usize>b + s == bump) {
          bump = b;
          freeBlockCount--;
          store<u32>(freeBlockBase + (i << 2), load<u32>(freeBlockBase + (freeBlockCount << 2)));
          store<u32>(freeBlockSize + (i << 2), load<u32>(freeBlockSize + (freeBlockCount << 2)));
          again = true;
          break;
        }
      }
    }
    return;
  }
  // A full free list only loses reuse until the task ends; resetTask reclaims everything.
  if (freeBlockCount < MAX_FREE) {
    store<u32>(freeBlockBase + (freeBlockCount << 2), base);
    store<u32>(freeBlockSize + (freeBlockCount << 2), size);
    freeBlockCount++;
  }
}

/** Allocates a page of at least `size` bytes; returns its page number (never 0). */
export function allocatePage(size: u64): u32 {
  let num: u32;
  if (freeNumCount > 0) {
    freeNumCount--;
    num = load<u32>(freeNums + (freeNumCount << 2));
  } else {
    if (nextPage >= MAX_PAGES) fail(ERR_TOO_MANY_PAGES);
    num = nextPage++;
  }
  const base = allocBlock(size);
  store<u32>(pageBase + (num << 2), base);
  store<u32>(pageSize + (num << 2), lastBlockSize);
  livePages++;
  return num;
}

export function freePage(num: u32): void {
  if (num == 0 || num >= nextPage) return;
  const size = load<u32>(pageSize + (num << 2));
  if (size == 0) return;
  freeBlock(load<u32>(pageBase + (num << 2)), size);
  store<u32>(pageSize + (num << 2), 0);
  store<u32>(freeNums + (freeNumCount << 2), num);
  freeNumCount++;
  livePages--;
}

// @ts-ignore: decorator
@inline export function pageAddress(num: u32): usize {
  return load<u32>(pageBase + (num << 2));
}

export function pageBytes(num: u32): u32 {
  return load<u32>(pageSize + (num << 2));
}

// @ts-ignore: decorator
@inline export function decodeAddress(addr: u32): usize {
  return <usize>load<u32>(pageBase + ((addr >>> PAGE_BITS) << 2)) + (addr & OFFSET_MASK);
}

// @ts-ignore: decorator
@inline export function encodeAddress(page: u32, offset: u32): u32 {
  return (page << PAGE_BITS) | offset;
}

export function resetTask(): void {
  nextPage = 1;
  freeNumCount = 0;
  freeBlockCount = 0;
  livePages = 0;
  bump = heapStart;
  lastError = ERR_NONE;
}

export function heapUsed(): u32 {
  return <u32>(bump - heapStart);
}

export function livePageCount(): u32 {
  return livePages;
}
