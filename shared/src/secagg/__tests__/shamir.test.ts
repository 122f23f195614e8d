import { describe, expect, it } from 'vitest';
import { gfDiv, gfMul } from '../gf256';
import { reconstruct, split, type Share } from '../shamir';

function subsets<T>(items: readonly T[], size: number): T[][] {
  if (size === 0) return [[]];
  if (items.length < size) return [];
  const [head, ...rest] = items;
  return [...subsets(rest, size - 1).map((s) => [head!, ...s]), ...subsets(rest, size)];
}

const secretOf = (len: number, salt: number): Uint8Array => Uint8Array.from({ length: len }, (_, i) => (i * 37 + salt) & 0xff);

describe('GF(256)', () => {
  it('multiplies by the AES polynomial and divides back', () => {
    // FIPS-197 section 4.2: {57} x {83} = {c1}.
    expect(gfMul(0x57, 0x83)).toBe(0xc1);
    for (let a = 1; a < 256; a++) for (const b of [1, 2, 3, 0x53, 0xff]) expect(gfDiv(gfMul(a, b), b)).toBe(a);
  });
});

describe('Shamir over GF(256)', () => {
  it.each([
    [2, 3],
    [3, 5],
    [4, 7],
  ])('any %i of %i shares rebuild an 80-byte secret', (t, n) => {
    const secret = secretOf(80, t);
    const shares = split(secret, t, Array.from({ length: n }, (_, i) => i + 1));
    for (const subset of subsets(shares, t)) expect(reconstruct(subset, t)).toEqual(secret);
    for (const subset of subsets(shares, t + 1)) expect(reconstruct(subset.reverse(), t)).toEqual(secret);
  });

  it('no t - 1 shares rebuild the secret, for every (t-1)-subset', () => {
    const t = 3;
    const secret = secretOf(80, 9);
    const shares = split(secret, t, [1, 2, 3, 4, 5, 6]);
    for (const subset of subsets(shares, t - 1)) {
      // Interpolating t - 1 points as if they were enough gives a different constant term.
      expect(reconstruct(subset, t - 1)).not.toEqual(secret);
    }
  });

  it('t - 1 shares are consistent with every candidate secret byte (perfect secrecy)', () => {
    // Degree t-1 polynomials through t-1 fixed points and any chosen value at 0 exist, so t-1 shares say nothing.
    const t = 3;
    const shares = split(Uint8Array.of(0x42), t, [1, 2, 3]);
    const two = shares.slice(0, 2);
    for (const candidate of [0x00, 0x42, 0x99, 0xff]) {
      const withGuess: Share[] = [{ x: 0xfe, bytes: Uint8Array.of(0) }, ...two];
      // Solve for the share at x=0xfe that would make `candidate` the secret, then check it interpolates.
      let found = false;
      for (let y = 0; y < 256 && !found; y++) {
        withGuess[0] = { x: 0xfe, bytes: Uint8Array.of(y) };
        found = reconstruct(withGuess, t)[0] === candidate;
      }
      expect(found).toBe(true);
    }
  });

  it('never hands out a share at x = 0 and refuses duplicate or out-of-range x', () => {
    const shares = split(secretOf(32, 1), 2, [1, 2, 255]);
    expect(shares.map((s) => s.x)).toEqual([1, 2, 255]);
    expect(shares.every((s) => s.bytes.length === 32)).toBe(true);
    expect(() => split(secretOf(32, 1), 2, [0, 1, 2])).toThrow(RangeError);
    expect(() => split(secretOf(32, 1), 2, [1, 1, 2])).toThrow(RangeError);
    expect(() => split(secretOf(32, 1), 2, [1, 256])).toThrow(RangeError);
    expect(() => reconstruct([{ x: 0, bytes: new Uint8Array(1) }, { x: 1, bytes: new Uint8Array(1) }], 2)).toThrow(RangeError);
  });

  it('shares of one secret differ between splits (fresh coefficients)', () => {
    const secret = secretOf(80, 3);
    const a = split(secret, 3, [1, 2, 3]);
    const b = split(secret, 3, [1, 2, 3]);
    expect(a[0]!.bytes).not.toEqual(b[0]!.bytes);
  });
});
