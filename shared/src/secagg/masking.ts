import { addMask, expandMask } from './prg';

/** A mask to add (+1) or subtract (-1): PRG(seed) over the vector's length. */
export interface MaskTerm {
  seed: Uint8Array;
  sign: 1 | -1;
}

/** acc += sum of sign * PRG(seed), expanding the next mask while adding the current one (at most two in memory). */
export async function maskInput(acc: Uint32Array, terms: readonly MaskTerm[]): Promise<void> {
  if (terms.length === 0) return;
  let next = expandMask(terms[0]!.seed, acc.length);
  for (let k = 0; k < terms.length; k++) {
    const mask = await next;
    if (k + 1 < terms.length) next = expandMask(terms[k + 1]!.seed, acc.length);
    addMask(acc, mask, terms[k]!.sign);
  }
}
