import { gfDiv, gfMul } from './gf256';

/** One Shamir share: the holder's x (1..255, never 0, where the secret sits) and one field element per secret byte. */
export interface Share {
  x: number;
  bytes: Uint8Array;
}

function checkXs(xs: readonly number[]): void {
  const seen = new Set<number>();
  for (const x of xs) {
    if (!Number.isInteger(x) || x < 1 || x > 255) throw new RangeError(`share x must be in 1..255, got ${x}`);
    if (seen.has(x)) throw new RangeError(`duplicate share x ${x}`);
    seen.add(x);
  }
}

/**
 * Splits `secret` byte-wise into shares at the given x values; any `threshold` of them reconstruct it, fewer reveal nothing.
 * @example split(seed32, 3, [1, 2, 3, 4, 5])
 */
export function split(secret: Uint8Array, threshold: number, xs: readonly number[]): Share[] {
  checkXs(xs);
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > xs.length) {
    throw new RangeError(`threshold ${threshold} does not fit ${xs.length} holders`);
  }
  const len = secret.length;
  // coeffs[d * len + b] is the degree-(d+1) coefficient of byte b's polynomial; degree 0 is the secret itself.
  const coeffs = new Uint8Array((threshold - 1) * len);
  globalThis.crypto.getRandomValues(coeffs);
  return xs.map((x) => {
    const bytes = new Uint8Array(len);
    for (let b = 0; b < len; b++) {
      // Horner from the highest degree down.
      let y = 0;
      for (let d = threshold - 2; d >= 0; d--) y = gfMul(y, x) ^ coeffs[d * len + b]!;
      bytes[b] = gfMul(y, x) ^ secret[b]!;
    }
    return { x, bytes };
  });
}

/** Lagrange interpolation at x = 0 from the first `threshold` shares (which must have distinct x and equal lengths). */
export function reconstruct(shares: readonly Share[], threshold: number): Uint8Array {
  if (shares.length < threshold) throw new RangeError(`${shares.length} shares, ${threshold} needed`);
  const used = shares.slice(0, threshold);
  checkXs(used.map((s) => s.x));
  const len = used[0]!.bytes.length;
  if (used.some((s) => s.bytes.length !== len)) throw new RangeError('shares of different lengths');
  // Lagrange basis at 0 in characteristic 2: prod over m != j of x_m / (x_m xor x_j).
  const basis = used.map((sj, j) => {
    let l = 1;
    used.forEach((sm, m) => {
      if (m !== j) l = gfMul(l, gfDiv(sm.x, sm.x ^ sj.x));
    });
    return l;
  });
  const out = new Uint8Array(len);
  for (let b = 0; b < len; b++) {
    let acc = 0;
    for (let j = 0; j < used.length; j++) acc ^= gfMul(basis[j]!, used[j]!.bytes[b]!);
    out[b] = acc;
  }
  return out;
}
