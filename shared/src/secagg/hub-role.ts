import { CodedError, type ErrorCode } from '../errors';
import { wordsOf } from './bytes';
import {
  decodeReveal,
  decodeSealed,
  encodeKeyset,
  encodeSealed,
  encodeUnmask,
  KEYS_BYTES,
  MASKED_HEADER_BYTES,
  readMaskedHeader,
  REVEAL_SEED,
  type SealedEntry,
} from './frames';
import { checkReveal, unmaskSum } from './hub-unmask';
import { checkParams, holdersOf, requireHolders, type SecAggParams } from './params';
import type { Share } from './shamir';

export type HubStage = 'keys' | 'shares' | 'masked' | 'unmask' | 'done';

const fail = (code: ErrorCode, message: string): never => {
  throw new CodedError(code, message);
};

/**
 * The hub's side of one secure round. It relays public keys and sealed shares, sums masked inputs as they come
 * (never keeping one client's), and unmasks the sum from the survivors' reveals. Each add* refuses with a code.
 */
export class SecAggHub {
  private current: HubStage = 'keys';
  private readonly keys = new Map<number, Uint8Array>();
  /** sealed[to] = shares addressed to `to`, by sender. */
  private readonly sealed = new Map<number, Map<number, Uint8Array>>();
  private readonly sharesFrom = new Set<number>();
  private readonly maskedFrom = new Set<number>();
  /** Masked inputs accepted on another hub node, whose sum that node has not handed over yet. */
  private readonly elsewhere = new Set<number>();
  private readonly revealedBy = new Set<number>();
  private readonly seedShares = new Map<number, Share[]>();
  private readonly keyShares = new Map<number, Share[]>();
  private survivors: number[] = [];
  private dropped: number[] = [];
  private readonly sum: Uint32Array;

  constructor(private readonly params: SecAggParams) {
    checkParams(params);
    this.sum = new Uint32Array(params.length + 1);
  }

  get stage(): HubStage {
    return this.current;
  }

  /** `secagg:keys` from `index`: 64 bytes, once. */
  addKeys(index: number, frame: Uint8Array): void {
    this.expect('keys', index);
    if (this.keys.has(index)) fail('HUB_ERR_SECAGG_STAGE', `keys from ${index} already arrived`);
    if (frame.length !== KEYS_BYTES) fail('HUB_ERR_SECAGG_BAD_FRAME', `keys frame of ${frame.length} bytes, expected ${KEYS_BYTES}`);
    this.keys.set(index, frame.slice());
  }

  /** Ends the key stage: participants without keys are out; refuses when an in-client's holders fall below t. */
  closeKeys(): { out: number[] } {
    this.expect('keys');
    const inKeys = new Set(this.keys.keys());
    requireHolders(this.params, inKeys, inKeys, 'after keys');
    this.current = 'shares';
    return { out: this.indices().filter((i) => !inKeys.has(i)) };
  }

  /** `secagg:keyset` for `index`: its neighbours still in, with their public keys. */
  keysetFor(index: number): Uint8Array {
    this.expect('shares', index, this.keys);
    const entries = this.params.neighbours[index]!.filter((j) => this.keys.has(j));
    return encodeKeyset(entries.map((j) => ({ index: j, keys: this.keys.get(j)! })));
  }

  /** `secagg:shares` from `index`: exactly one sealed share per neighbour in its keyset. */
  addShares(index: number, frame: Uint8Array): void {
    this.expect('shares', index, this.keys);
    if (this.sharesFrom.has(index)) fail('HUB_ERR_SECAGG_STAGE', `shares from ${index} already arrived`);
    const entries = decodeSealed(frame);
    const expected = this.params.neighbours[index]!.filter((j) => this.keys.has(j));
    const allowed = new Set(expected);
    for (const e of entries) {
      if (!allowed.has(e.peer)) fail('HUB_ERR_SECAGG_UNKNOWN_NEIGHBOUR', `${index} sent a share to ${e.peer}, not a neighbour in`);
    }
    if (entries.length !== expected.length) fail('HUB_ERR_SECAGG_BAD_FRAME', `${entries.length} shares, expected ${expected.length}`);
    for (const e of entries) {
      const inbox = this.sealed.get(e.peer) ?? new Map<number, Uint8Array>();
      inbox.set(index, e.sealed);
      this.sealed.set(e.peer, inbox);
    }
    this.sharesFrom.add(index);
  }

  /** Ends the share stage: key holders that sent no shares are out. */
  closeShares(): { out: number[] } {
    this.expect('shares');
    requireHolders(this.params, this.sharesFrom, this.sharesFrom, 'after shares');
    this.current = 'masked';
    return { out: this.indices().filter((i) => this.keys.has(i) && !this.sharesFrom.has(i)) };
  }

  /** `secagg:shares-in` for `index`: the sealed shares its neighbours still in addressed to it. */
  sharesFor(index: number): Uint8Array {
    this.expect('masked', index, this.sharesFrom);
    const inbox = this.sealed.get(index) ?? new Map<number, Uint8Array>();
    const entries: SealedEntry[] = [...inbox.entries()]
      .filter(([from]) => this.sharesFrom.has(from))
      .sort(([a], [b]) => a - b)
      .map(([peer, sealed]) => ({ peer, sealed }));
    return encodeSealed(entries);
  }

  /** `secagg:masked` from `index`: added to the running sum at once, so no single input is kept. */
  addMasked(index: number, frame: Uint8Array): void {
    this.expect('masked', index, this.sharesFrom);
    if (this.maskedFrom.has(index)) fail('HUB_ERR_SECAGG_STAGE', `masked input from ${index} already arrived`);
    const header = readMaskedHeader(frame, this.params.length);
    if (header.index !== index || header.round !== this.params.round) {
      fail('HUB_ERR_SECAGG_BAD_FRAME', `masked frame names index ${header.index} round ${header.round}`);
    }
    const words = wordsOf(frame.subarray(MASKED_HEADER_BYTES));
    const sum = this.sum;
    for (let k = 0; k < sum.length; k++) sum[k] = sum[k]! + words[k]!;
    this.maskedFrom.add(index);
  }

  /**
   * A masked input from `index` that a relaying hub node checked and keeps in its own sum of masked inputs (README,
   * "Several hub nodes"): counted as arrived; its words come with that node's sum (addMaskedSum).
   */
  acceptMaskedElsewhere(index: number): void {
    this.expect('masked', index, this.sharesFrom);
    if (this.maskedFrom.has(index)) fail('HUB_ERR_SECAGG_STAGE', `masked input from ${index} already arrived`);
    this.maskedFrom.add(index);
    this.elsewhere.add(index);
  }

  /**
   * A relaying node's sum, modulo 2^32 like this one's, of the masked inputs of `indices` (each accepted with
   * acceptMaskedElsewhere). Still masked: only the whole sum, once the survivors' shares remove the masks, is readable.
   */
  addMaskedSum(indices: readonly number[], words: Uint32Array): void {
    this.expect('masked');
    if (words.length !== this.sum.length) fail('HUB_ERR_SECAGG_BAD_FRAME', `masked sum of ${words.length} words, expected ${this.sum.length}`);
    const missing = indices.find((i) => !this.elsewhere.has(i));
    if (missing !== undefined || new Set(indices).size !== indices.length) fail('HUB_ERR_SECAGG_BAD_FRAME', `the masked sum names index ${missing ?? 'twice'}, not accepted elsewhere`);
    for (const i of indices) this.elsewhere.delete(i);
    const sum = this.sum;
    for (let k = 0; k < sum.length; k++) sum[k] = sum[k]! + words[k]!;
  }

  /** Masked inputs accepted elsewhere whose sum will not come (the node is gone): their clients dropped after their shares. */
  forgetMaskedElsewhere(indices: readonly number[]): void {
    for (const i of indices) if (this.elsewhere.delete(i)) this.maskedFrom.delete(i);
  }

  /** Ends the masked stage; refuses when the survivors could not rebuild every secret the sum needs. */
  closeMasked(): { survivors: number[]; dropped: number[] } {
    this.expect('masked');
    // A masked input whose node never handed its sum over is not in the sum: its client dropped.
    this.forgetMaskedElsewhere([...this.elsewhere]);
    const survivors = this.indices().filter((i) => this.maskedFrom.has(i));
    const dropped = this.indices().filter((i) => this.sharesFrom.has(i) && !this.maskedFrom.has(i));
    if (survivors.length < this.params.threshold) {
      fail('HUB_ERR_SECAGG_TOO_FEW', `${survivors.length} survivors, threshold ${this.params.threshold}`);
    }
    // A survivor's b and a dropped client's s_sk both need t survivors among their holders.
    requireHolders(this.params, new Set([...survivors, ...dropped]), this.maskedFrom, 'after masked input');
    this.survivors = survivors;
    this.dropped = dropped;
    this.current = 'unmask';
    return { survivors: [...survivors], dropped: [...dropped] };
  }

  /** `secagg:unmask` for a survivor: who survived and who dropped. */
  unmaskRequestFor(index: number): Uint8Array {
    this.expect('unmask', index, this.maskedFrom);
    return encodeUnmask(this.survivors, this.dropped);
  }

  /** `secagg:reveal` from a survivor: exactly its b shares of survivors and s_sk shares of the dropped it holds. */
  addReveal(index: number, frame: Uint8Array): void {
    this.expect('unmask', index, this.maskedFrom);
    if (this.revealedBy.has(index)) fail('HUB_ERR_SECAGG_STAGE', `the reveal from ${index} already arrived`);
    const entries = checkReveal(decodeReveal(frame), holdersOf(this.params, index), this.maskedFrom, new Set(this.dropped));
    for (const e of entries) {
      const book = e.kind === REVEAL_SEED ? this.seedShares : this.keyShares;
      book.set(e.from, [...(book.get(e.from) ?? []), { x: index + 1, bytes: e.bytes }]);
    }
    this.revealedBy.add(index);
  }

  /** True when every survivor's b and every dropped client's s_sk has at least t shares. */
  canFinish(): boolean {
    if (this.current !== 'unmask') return false;
    const t = this.params.threshold;
    return (
      this.survivors.every((u) => (this.seedShares.get(u)?.length ?? 0) >= t) &&
      this.dropped.every((d) => (this.keyShares.get(d)?.length ?? 0) >= t)
    );
  }

  /** The survivors' sum of w_i * clipped delta and their weight total; HUB_ERR_SECAGG_UNRECOVERABLE when it cannot. */
  async finish(): Promise<{ sum: Float64Array; weight: number }> {
    this.expect('unmask');
    if (!this.canFinish()) fail('HUB_ERR_SECAGG_UNRECOVERABLE', 'too few reveals to rebuild every needed secret');
    this.current = 'done';
    const result = await unmaskSum({
      params: this.params,
      sum: this.sum,
      survivors: this.survivors,
      dropped: this.dropped,
      seedShares: this.seedShares,
      keyShares: this.keyShares,
      publicKeys: this.keys,
    });
    const expected = this.survivors.reduce((a, u) => a + this.params.weights[u]!, 0);
    if (result.weight !== expected) fail('HUB_ERR_SECAGG_UNRECOVERABLE', `unmasked weight ${result.weight}, expected ${expected}`);
    return result;
  }

  private indices(): number[] {
    return this.params.participants.map((_, i) => i);
  }

  /** Refuses with HUB_ERR_SECAGG_STAGE a message at another stage, from a non-participant, or from one already out. */
  private expect(stage: HubStage, index?: number, stillIn?: { has(i: number): boolean }): void {
    if (this.current !== stage) fail('HUB_ERR_SECAGG_STAGE', `the round is at stage ${this.current}, not ${stage}`);
    if (index === undefined) return;
    if (!(Number.isInteger(index) && index >= 0 && index < this.params.participants.length)) {
      fail('HUB_ERR_SECAGG_STAGE', `${index} is not a participant`);
    }
    if (stillIn && !stillIn.has(index)) fail('HUB_ERR_SECAGG_STAGE', `${index} is out of this round`);
  }
}
