/**
 * What a tab's secagg:masked frame looks like next to the plain frames of the same model: each check is
 * a statistic whose value for plain weights (float32 bits, or the unmasked fixed-point change) is near 1
 * and for uniformly random words is known and far from it.
 */

/** The masked frame's layout (shared/src/secagg/frames.ts): [index u16][0 u16][round u32] then (L + 1) words. */
export function readMasked(frame: Buffer): { index: number; round: number; words: Uint32Array } {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const words = new Uint32Array((frame.byteLength - 8) / 4);
  for (let i = 0; i < words.length; i++) words[i] = view.getUint32(8 + 4 * i, true);
  return { index: view.getUint16(0, true), round: view.getUint32(4, true), words };
}

/** Little-endian words of a float32 buffer (weights.bin, an FLW1 payload). */
export function floatWords(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}

/** Share of words that, read as float32, are finite and within ±8: ~1 for model weights, ~0.51 for uniform words. */
export function plausibleFloatShare(words: Uint32Array): number {
  const floats = new Float32Array(words.buffer, words.byteOffset, words.length);
  let n = 0;
  for (const v of floats) if (Math.abs(v) <= 8) n++;
  return n / words.length;
}

/** Share of words that, read as int32, lie within ±2^27: ~1 for a small change in fixed point, 1/16 for uniform words. */
export function nearZeroShare(words: Uint32Array): number {
  const ints = new Int32Array(words.buffer, words.byteOffset, words.length);
  let n = 0;
  for (const v of ints) if (Math.abs(v) < 2 ** 27) n++;
  return n / words.length;
}

/** Share of positions where the two word vectors agree exactly. */
export function equalShare(a: Uint32Array, b: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) n++;
  return n / a.length;
}

/** Pearson correlation of two word vectors read as int32. */
export function int32Correlation(a: Uint32Array, b: Uint32Array): number {
  const x = new Int32Array(a.buffer, a.byteOffset, a.length);
  const y = new Int32Array(b.buffer, b.byteOffset, b.length);
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}
