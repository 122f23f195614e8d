/**
 * Small, dependency-free seeded randomness helpers shared by the hub (Node)
 * and the browser clients. Everything here is deterministic for a given seed.
 */

/** A function returning uniformly distributed floats in [0, 1). */
export type Rng = () => number;

/**
 * mulberry32: a tiny 32-bit PRNG with a full 2^32 period. Good enough for
 * shuffling and data partitioning; not cryptographically secure.
 */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** Anything indexable and writable by number: arrays and typed arrays. */
export interface MutableArrayLike<T> {
  readonly length: number;
  [index: number]: T;
}

/** Fisher-Yates shuffle, in place. Returns the same array for chaining. */
export function shuffleInPlace<T>(arr: T[], rng: Rng): T[];
export function shuffleInPlace<A extends MutableArrayLike<number>>(arr: A, rng: Rng): A;
export function shuffleInPlace(arr: MutableArrayLike<unknown>, rng: Rng): MutableArrayLike<unknown> {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = arr[i];
    arr[i] = arr[j];
    arr[j] = tmp;
  }
  return arr;
}

/** 32-bit FNV-1a hash of a string's UTF-16 code units; an unsigned 32-bit seed. */
export function seedFromString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
