import { describe, expect, it } from 'vitest';
import { PRG_KNOWN_ANSWER } from '../known-answer';
import { addMask, expandMask } from '../prg';

describe('expandMask', () => {
  it('gives the known answer for the fixed seed (the browser test asserts the same words)', async () => {
    const mask = await expandMask(Uint8Array.from(PRG_KNOWN_ANSWER.seed), PRG_KNOWN_ANSWER.length);
    expect(Array.from(mask)).toEqual(PRG_KNOWN_ANSWER.words);
  });

  it('is deterministic, a prefix of longer expansions, and differs across seeds', async () => {
    const seed = new Uint8Array(32).fill(7);
    const a = await expandMask(seed, 1001);
    const b = await expandMask(seed, 3000);
    expect(Array.from(b.subarray(0, 1001))).toEqual(Array.from(a));
    const other = await expandMask(new Uint8Array(32).fill(8), 1001);
    expect(Array.from(other)).not.toEqual(Array.from(a));
  });

  it('refuses seeds that are not 32 bytes', async () => {
    await expect(expandMask(new Uint8Array(16), 4)).rejects.toThrow(RangeError);
  });
});

describe('addMask', () => {
  it('adds and subtracts modulo 2^32', () => {
    const acc = Uint32Array.of(0xffffffff, 0, 5);
    addMask(acc, Uint32Array.of(2, 1, 0xffffffff), 1);
    expect(Array.from(acc)).toEqual([1, 1, 4]);
    addMask(acc, Uint32Array.of(2, 1, 0xffffffff), -1);
    expect(Array.from(acc)).toEqual([0xffffffff, 0, 5]);
  });
});
