import { describe, expect, it } from 'vitest';
import { wordsOf } from '../bytes';
import { encodeFixed } from '../fixed-point';
import { MASKED_HEADER_BYTES } from '../frames';
import { atMasked } from './support/stages';

const TRIALS = 200;
const LENGTH = 64;

/** Chi-square of the top bytes of `words` against the uniform distribution over 256 buckets. */
function chiSquareTopByte(words: readonly number[]): number {
  const counts = new Array<number>(256).fill(0);
  for (const w of words) counts[w >>> 24]! += 1;
  const expected = words.length / 256;
  return counts.reduce((a, c) => a + (c - expected) ** 2 / expected, 0);
}

function correlation(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let k = 0; k < n; k++) {
    sxy += (xs[k]! - mx) * (ys[k]! - my);
    sxx += (xs[k]! - mx) ** 2;
    syy += (ys[k]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

// The masks come from WebCrypto keys, which cannot be seeded; the bounds sit about 8 standard deviations out
// (chi-square with 255 degrees of freedom: sd 22.6; correlation over 13,000 pairs: sd 0.009), so a false alarm has
// odds below 1e-12, while the unmasked input fails both by orders of magnitude (checked below).
const CHI_SQUARE_BOUND = 255 + 8 * 22.6;
const CORRELATION_BOUND = 0.07;

describe('what the hub receives from one client', () => {
  it('is uniform and uncorrelated with the update, over 200 trials of zeros vs large updates', async () => {
    const masked: Record<'zeros' | 'large', number[]> = { zeros: [], large: [] };
    const plain: Record<'zeros' | 'large', number[]> = { zeros: [], large: [] };
    const updateValues: number[] = [];
    const maskedValues: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const kind = trial % 2 === 0 ? 'zeros' : 'large';
      const p = await atMasked(3, LENGTH);
      const delta = new Float32Array(LENGTH).fill(kind === 'zeros' ? 0 : 0.99);
      const frame = await p.clients[0]!.maskedInput(delta);
      const words = Array.from(wordsOf(frame.subarray(MASKED_HEADER_BYTES)));
      masked[kind].push(...words);
      plain[kind].push(...encodeFixed(delta, p.params.weights[0]!, p.params.clip, p.params.fracBits));
      for (const w of words) {
        updateValues.push(kind === 'zeros' ? 0 : 0.99);
        maskedValues.push(w);
      }
    }
    expect(chiSquareTopByte(masked.zeros)).toBeLessThan(CHI_SQUARE_BOUND);
    expect(chiSquareTopByte(masked.large)).toBeLessThan(CHI_SQUARE_BOUND);
    expect(Math.abs(correlation(updateValues, maskedValues))).toBeLessThan(CORRELATION_BOUND);

    // The same statistics on what would travel without masks fail by far: the test has power.
    expect(chiSquareTopByte(plain.zeros)).toBeGreaterThan(100 * CHI_SQUARE_BOUND);
    const plainValues = [...plain.zeros, ...plain.large];
    const plainUpdates = [...plain.zeros.map(() => 0), ...plain.large.map(() => 0.99)];
    expect(Math.abs(correlation(plainUpdates, plainValues))).toBeGreaterThan(0.5);
  });
});
