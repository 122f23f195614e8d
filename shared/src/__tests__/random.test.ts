import { describe, expect, it } from 'vitest';
import { createRng, randomInt, seedFromString, shuffleInPlace } from '../random';

describe('createRng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const sa = Array.from({ length: 100 }, () => a());
    const sb = Array.from({ length: 100 }, () => b());
    const sc = Array.from({ length: 100 }, () => c());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
  });

  it('yields floats in [0, 1) with a plausible spread', () => {
    const rng = createRng(7);
    const buckets = new Array<number>(10).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < 10_000; i++) {
      const v = rng();
      if (!(v >= 0 && v < 1)) outOfRange++;
      else buckets[Math.floor(v * 10)]!++;
    }
    expect(outOfRange).toBe(0);
    for (const n of buckets) expect(n).toBeGreaterThan(850);
  });

  it('treats seeds modulo 2^32', () => {
    expect(createRng(-1)()).toBe(createRng(0xffffffff)());
  });

  it('randomInt stays in range', () => {
    const rng = createRng(1);
    for (let i = 0; i < 1000; i++) {
      const v = randomInt(rng, 5);
      expect(Number.isInteger(v) && v >= 0 && v < 5).toBe(true);
    }
  });
});

describe('shuffleInPlace', () => {
  it('is a deterministic permutation, in place', () => {
    const a = Array.from({ length: 50 }, (_, i) => i);
    const b = [...a];
    const ret = shuffleInPlace(a, createRng(5));
    shuffleInPlace(b, createRng(5));
    expect(ret).toBe(a);
    expect(a).toEqual(b);
    expect(a).not.toEqual([...a].sort((x, y) => x - y));
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('works on typed arrays', () => {
    const t = Uint16Array.from({ length: 20 }, (_, i) => i);
    const out: Uint16Array = shuffleInPlace(t, createRng(9));
    expect(out).toBe(t);
    expect(Array.from(t).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('handles empty and single-element arrays', () => {
    expect(shuffleInPlace([], createRng(1))).toEqual([]);
    expect(shuffleInPlace(['x'], createRng(1))).toEqual(['x']);
  });
});

describe('seedFromString', () => {
  it('is a stable unsigned 32-bit hash', () => {
    expect(seedFromString('')).toBe(0x811c9dc5);
    expect(seedFromString('a')).toBe(0xe40c292c); // FNV-1a reference value
    expect(seedFromString('client-1')).toBe(seedFromString('client-1'));
    expect(seedFromString('client-1')).not.toBe(seedFromString('client-2'));
    const s = seedFromString('anything at all');
    expect(Number.isInteger(s) && s >= 0 && s <= 0xffffffff).toBe(true);
  });
});
