import { bufferSource, wordsOf } from './bytes';

const ZERO_COUNTER = new Uint8Array(16);

/**
 * The mask PRG: AES-256-CTR keyed by the 32-byte seed, counter block zero (64-bit counter), over a zero buffer of
 * 4 * length bytes, read as little-endian uint32. Same bytes in Node and in the browser (both are WebCrypto).
 */
export async function expandMask(seed: Uint8Array, length: number): Promise<Uint32Array> {
  if (seed.length !== 32) throw new RangeError(`mask seed must be 32 bytes, got ${seed.length}`);
  const subtle = globalThis.crypto.subtle;
  const key = await subtle.importKey('raw', bufferSource(seed), { name: 'AES-CTR' }, false, ['encrypt']);
  const stream = await subtle.encrypt({ name: 'AES-CTR', counter: ZERO_COUNTER, length: 64 }, key, new Uint8Array(4 * length));
  return wordsOf(new Uint8Array(stream));
}

/** acc += sign * mask (mod 2^32); a Uint32Array store wraps the double sum for us. */
export function addMask(acc: Uint32Array, mask: Uint32Array, sign: 1 | -1): void {
  const n = acc.length;
  if (sign === 1) for (let i = 0; i < n; i++) acc[i] = acc[i]! + mask[i]!;
  else for (let i = 0; i < n; i++) acc[i] = acc[i]! - mask[i]!;
}
