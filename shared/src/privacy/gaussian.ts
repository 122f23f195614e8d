/**
 * Gaussian noise for differential privacy, drawn from WebCrypto's getRandomValues only (the same code in Node 20
 * and in the tab): a seeded or Math.random source would let anyone who learns the state subtract the noise.
 * Uniforms carry 53 bits (two uint32 each); Box–Muller turns each pair into two independent normals.
 */
import { CodedError } from '../errors';

/** getRandomValues refuses more than 65,536 bytes per call. */
const MAX_RANDOM_BYTES = 65_536;
const WORDS_PER_CALL = MAX_RANDOM_BYTES / 4;
const TWO_POW_53 = 2 ** 53;
const TWO_POW_26 = 2 ** 26;

function checkStd(std: number): void {
  if (!Number.isFinite(std) || std < 0) {
    throw new CodedError('HUB_ERR_INVALID_SETTINGS', `noise standard deviation must be a finite number >= 0, got ${std}`);
  }
}

/** 53-bit integer from the top 27 bits of a and the top 26 bits of b. */
function bits53(a: number, b: number): number {
  return (a >>> 5) * TWO_POW_26 + (b >>> 6);
}

/**
 * `length` independent draws from N(0, std²). The argument is the STANDARD DEVIATION, not the variance.
 * std 0 gives zeros without touching the random source.
 */
export function gaussianNoise(length: number, std: number): Float64Array {
  checkStd(std);
  if (!Number.isInteger(length) || length < 0) {
    throw new CodedError('HUB_ERR_INVALID_SETTINGS', `noise length must be a whole number >= 0, got ${length}`);
  }
  const out = new Float64Array(length);
  if (std === 0 || length === 0) return out;
  const words = new Uint32Array(WORDS_PER_CALL);
  let filled = 0;
  while (filled < length) {
    const pairs = Math.min(Math.ceil((length - filled) / 2), WORDS_PER_CALL / 4);
    const chunk = words.subarray(0, pairs * 4);
    globalThis.crypto.getRandomValues(chunk);
    for (let p = 0; p < pairs; p++) {
      // u1 in (0, 1] so that log(u1) is finite; u2 in [0, 1).
      const u1 = (bits53(chunk[4 * p]!, chunk[4 * p + 1]!) + 1) / TWO_POW_53;
      const u2 = bits53(chunk[4 * p + 2]!, chunk[4 * p + 3]!) / TWO_POW_53;
      const r = std * Math.sqrt(-2 * Math.log(u1));
      const theta = 2 * Math.PI * u2;
      out[filled++] = r * Math.cos(theta);
      if (filled < length) out[filled++] = r * Math.sin(theta);
    }
  }
  return out;
}

/** Adds N(0, std²) noise to every coordinate, in place (float32 arrays round each sum to float32). */
export function addGaussianNoise(values: Float32Array | Float64Array, std: number): void {
  checkStd(std);
  if (std === 0) return;
  const noise = gaussianNoise(values.length, std);
  for (let i = 0; i < values.length; i++) values[i] = values[i]! + noise[i]!;
}
