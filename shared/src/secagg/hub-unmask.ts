import { CodedError } from '../errors';
import { decodeFixed } from './fixed-point';
import { REVEAL_KEY, REVEAL_SEED, type RevealEntry } from './frames';
import { agree, importPrivate, PUBLIC_KEY_BYTES } from './keys';
import { maskInput, type MaskTerm } from './masking';
import type { SecAggParams } from './params';
import { reconstruct, type Share } from './shamir';

export interface UnmaskInput {
  params: SecAggParams;
  /** Sum of the survivors' masked inputs (mod 2^32); unmasked in place. */
  sum: Uint32Array;
  survivors: readonly number[];
  dropped: readonly number[];
  seedShares: ReadonlyMap<number, readonly Share[]>;
  keyShares: ReadonlyMap<number, readonly Share[]>;
  /** c_pk || s_pk per index. */
  publicKeys: ReadonlyMap<number, Uint8Array>;
}

function unrecoverable(message: string): never {
  throw new CodedError('HUB_ERR_SECAGG_UNRECOVERABLE', message);
}

/**
 * Removes every survivor's self mask (b rebuilt from t shares) and, for each dropped client d, the pairwise masks its
 * surviving neighbours added for it (s_sk_d rebuilt, s_dj agreed again). What is left is the sum of the survivors' x.
 */
export async function unmaskSum(input: UnmaskInput): Promise<{ sum: Float64Array; weight: number }> {
  const { params, sum, survivors, dropped } = input;
  const t = params.threshold;
  const alive = new Set(survivors);
  const terms: MaskTerm[] = survivors.map((u) => ({ seed: reconstruct(input.seedShares.get(u) ?? [], t), sign: -1 }));
  for (const d of dropped) {
    const pkcs8 = reconstruct(input.keyShares.get(d) ?? [], t);
    const secret = await importPrivate(pkcs8).catch(() => unrecoverable(`the rebuilt key of ${d} does not import`));
    for (const j of params.neighbours[d]!) {
      if (!alive.has(j)) continue;
      const sPk = input.publicKeys.get(j)!.subarray(PUBLIC_KEY_BYTES);
      const seed = await agree(secret, sPk, params.runId, params.round, 'fl-secagg/mask');
      // j added +PRG(s_jd) when d > j and -PRG when d < j; undo that.
      terms.push({ seed, sign: d > j ? -1 : 1 });
    }
  }
  await maskInput(sum, terms);
  return decodeFixed(sum, params.fracBits);
}

/**
 * A survivor's reveal must hold exactly one share per holder-of relation it has: a b share for each survivor and an
 * s_sk share for each dropped client among N(i) and itself. Anything else is HUB_ERR_SECAGG_BAD_SHARE or _BAD_FRAME.
 */
export function checkReveal(
  entries: RevealEntry[],
  holderOf: readonly number[],
  survivors: ReadonlySet<number>,
  dropped: ReadonlySet<number>,
): RevealEntry[] {
  const mine = new Set(holderOf);
  const seen = new Set<number>();
  for (const e of entries) {
    if (seen.has(e.from)) throw new CodedError('HUB_ERR_SECAGG_BAD_FRAME', `two reveals for ${e.from}`);
    seen.add(e.from);
    const holds = mine.has(e.from) && (e.kind === REVEAL_SEED ? survivors.has(e.from) : dropped.has(e.from));
    if (!holds) {
      const what = e.kind === REVEAL_KEY ? 'key' : 'seed';
      throw new CodedError('HUB_ERR_SECAGG_BAD_SHARE', `a ${what} share of ${e.from}, which this survivor does not hold`);
    }
  }
  const expected = holderOf.filter((j) => survivors.has(j) || dropped.has(j)).length;
  if (entries.length !== expected) throw new CodedError('HUB_ERR_SECAGG_BAD_FRAME', `${entries.length} reveals, expected ${expected}`);
  return entries;
}
