// Hashes for the maps. Only the wasm side ever sees these values (the TypeScript twins use Map), so
// they are free to be fast rather than stable across versions.

// Tests force collisions by clearing bits: with mask 0 every key lands on the same probe chain, which
// exercises the full-key comparison and the growth path on every insert.
export let hashMask: u32 = 0xffffffff;

export function setHashMask(mask: u32): void {
  hashMask = mask;
}

const M1: u64 = 0x9e3779b97f4a7c15;
const M2: u64 = 0xd6e8feb86659fd93;

// @ts-ignore: decorator
@inline export function hashI64(k: u64): u32 {
  let h = (k ^ (k >> 32)) * M2;
  h ^= h >> 32;
  h *= M1;
  return <u32>(h >> 32) & hashMask;
}

// Word at a time; the last partial word is masked so bytes past the key (always readable, see the
// allocator's slack) do not change the hash.
// @ts-ignore: decorator
@inline export function hashBytes(p: usize, n: u32): u32 {
  let h: u64 = M1 ^ (<u64>n * M2);
  let i: u32 = 0;
  while (i + 8 <= n) {
    h = (h ^ load<u64>(p + i)) * M2;
    h ^= h >> 29;
    i += 8;
  }
  if (i < n) {
    const w = load<u64>(p + i) & ((<u64>1 << (<u64>(n - i) << 3)) - 1);
    h = (h ^ w) * M2;
    h ^= h >> 29;
  }
  h *= M1;
  return <u32>(h >> 32) & hashMask;
}

// A key of at most 16 bytes given as two zero-padded words (k1 = 0 up to 8 bytes): no loop and no
// byte loads. The length is mixed in because zero padding alone cannot tell "a" from "a\0".
// @ts-ignore: decorator
@inline export function hashShort(k0: u64, k1: u64, n: u32): u32 {
  let h = (k0 ^ M1) * M2;
  h ^= (k1 + <u64>n) * M1;
  h ^= h >> 32;
  h *= M2;
  h ^= h >> 29;
  return <u32>(h >> 32) & hashMask;
}

// @ts-ignore: decorator
@inline export function bytesEqual(a: usize, b: usize, n: u32): bool {
  let i: u32 = 0;
  while (i + 8 <= n) {
    if (load<u64>(a + i) != load<u64>(b + i)) return false;
    i += 8;
  }
  if (i < n) {
    const m = (<u64>1 << (<u64>(n - i) << 3)) - 1;
    if (((load<u64>(a + i) ^ load<u64>(b + i)) & m) != 0) return false;
  }
  return true;
}

/** Unsigned lexicographic byte order, shorter first on a common prefix. */
export function compareBytes(a: usize, la: u32, b: usize, lb: u32): i32 {
  const n = la < lb ? la : lb;
  let i: u32 = 0;
  while (i + 8 <= n) {
    const x = load<u64>(a + i);
    const y = load<u64>(b + i);
    if (x != y) {
      const shift = ctz<u64>(x ^ y) & ~(<u64>7);
      return <i32>((x >> shift) & 0xff) - <i32>((y >> shift) & 0xff);
    }
    i += 8;
  }
  while (i < n) {
    const x = <i32>load<u8>(a + i);
    const y = <i32>load<u8>(b + i);
    if (x != y) return x - y;
    i++;
  }
  return la < lb ? -1 : la > lb ? 1 : 0;
}
