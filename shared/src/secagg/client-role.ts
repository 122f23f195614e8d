import { CodedError } from '../errors';
import { bytesOfWords, concatBytes } from './bytes';
import { encodeFixed } from './fixed-point';
import {
  decodeKeyset,
  decodeSealed,
  decodeSharePlain,
  decodeUnmask,
  encodeReveal,
  encodeSealed,
  encodeSharePlain,
  KEYS_BYTES,
  maskedHeader,
  REVEAL_KEY,
  REVEAL_SEED,
  SEED_BYTES,
  type RevealEntry,
} from './frames';
import { agree, exportPrivate, exportPublic, generateKeyPair, openShare, sealShare } from './keys';
import { maskInput } from './masking';
import { checkParams, type SecAggParams } from './params';
import { split } from './shamir';
import type { KeyPair } from './webcrypto-types';

type ClientStage = 'keys' | 'shares' | 'received' | 'masked';

interface HeldShare {
  seedShare: Uint8Array;
  keyShare: Uint8Array;
}

const fail = (code: 'HUB_ERR_SECAGG_STAGE' | 'HUB_ERR_SECAGG_UNKNOWN_NEIGHBOUR' | 'HUB_ERR_SECAGG_BAD_SHARE' | 'HUB_ERR_SECAGG_TOO_FEW' | 'HUB_ERR_SECAGG_BAD_REQUEST', message: string): never => {
  throw new CodedError(code, message);
};

/** One participant's side of a secure round: fresh keys, encrypted shares, the masked input, then its reveal. */
export class SecAggClient {
  private stage: ClientStage = 'keys';
  private readonly neighbourKeys = new Map<number, Uint8Array>();
  /** Shares this client holds, by owner index (its own included); their owners are the neighbours still in. */
  private readonly held = new Map<number, HeldShare>();
  private revealed: { request: string; frame: Uint8Array } | null = null;

  private constructor(
    private readonly params: SecAggParams,
    private readonly index: number,
    private readonly cKeys: KeyPair,
    private readonly sKeys: KeyPair,
    private readonly selfSeed: Uint8Array,
    private readonly publicKeys: Uint8Array,
  ) {}

  /** Generates this round's two X25519 pairs (c for share encryption, s for masks) and the self-mask seed b. */
  static async create(params: SecAggParams, index: number): Promise<SecAggClient> {
    checkParams(params);
    if (!Number.isInteger(index) || index < 0 || index >= params.participants.length) {
      throw new RangeError(`index ${index} is not a participant`);
    }
    const [c, s] = await Promise.all([generateKeyPair(false), generateKeyPair(true)]);
    const keys = concatBytes([await exportPublic(c.publicKey), await exportPublic(s.publicKey)]);
    const b = globalThis.crypto.getRandomValues(new Uint8Array(SEED_BYTES));
    return new SecAggClient(params, index, c, s, b, keys);
  }

  /** `secagg:keys`: c_pk || s_pk, 64 bytes. */
  keysMessage(): Uint8Array {
    return this.publicKeys.slice(0, KEYS_BYTES);
  }

  /** `secagg:shares`: Shamir shares of b and s_sk for every neighbour in the keyset, each sealed for it with AES-GCM. */
  async sharesMessage(keyset: Uint8Array): Promise<Uint8Array> {
    this.expect('keys');
    const { runId, round, threshold } = this.params;
    const mine = new Set(this.params.neighbours[this.index]);
    const entries = decodeKeyset(keyset);
    for (const e of entries) {
      if (!mine.has(e.index)) fail('HUB_ERR_SECAGG_UNKNOWN_NEIGHBOUR', `keyset names ${e.index}, not a neighbour of ${this.index}`);
    }
    if (entries.length + 1 < threshold) fail('HUB_ERR_SECAGG_TOO_FEW', `${entries.length + 1} holders, threshold ${threshold}`);
    this.stage = 'shares';
    for (const e of entries) this.neighbourKeys.set(e.index, e.keys);
    const holders = [...entries.map((e) => e.index), this.index].sort((a, b) => a - b);
    const xs = holders.map((j) => j + 1);
    const sk = await exportPrivate(this.sKeys.privateKey);
    const seedShares = split(this.selfSeed, threshold, xs);
    const keyShares = split(sk, threshold, xs);
    const sealed = await Promise.all(
      holders.map(async (j, k) => {
        if (j === this.index) {
          this.held.set(j, { seedShare: seedShares[k]!.bytes, keyShare: keyShares[k]!.bytes });
          return null;
        }
        const key = await agree(this.cKeys.privateKey, this.neighbourKeys.get(j)!.subarray(0, 32), runId, round, 'fl-secagg/share');
        const plain = encodeSharePlain(this.index, j, seedShares[k]!.bytes, keyShares[k]!.bytes);
        return { peer: j, sealed: await sealShare(key, `${runId}:${round}:${this.index}:${j}`, plain) };
      }),
    );
    return encodeSealed(sealed.filter((e) => e !== null));
  }

  /** `secagg:shares-in`: opens and checks each share addressed here; their senders are the neighbours it will mask with. */
  async receiveShares(sharesIn: Uint8Array): Promise<void> {
    this.expect('shares');
    const { runId, round, threshold } = this.params;
    const entries = decodeSealed(sharesIn);
    const opened = await Promise.all(
      entries.map(async ({ peer, sealed }) => {
        const keys = this.neighbourKeys.get(peer);
        if (!keys) return fail('HUB_ERR_SECAGG_UNKNOWN_NEIGHBOUR', `a share from ${peer}, not in the keyset`);
        const key = await agree(this.cKeys.privateKey, keys.subarray(0, 32), runId, round, 'fl-secagg/share');
        const plain = await openShare(key, `${runId}:${round}:${peer}:${this.index}`, sealed);
        if (!plain) return fail('HUB_ERR_SECAGG_BAD_SHARE', `the share from ${peer} does not decrypt`);
        const share = decodeSharePlain(plain);
        if (share.from !== peer || share.to !== this.index) fail('HUB_ERR_SECAGG_BAD_SHARE', `the share from ${peer} is misaddressed`);
        return { peer, share };
      }),
    );
    if (opened.length + 1 < threshold) fail('HUB_ERR_SECAGG_TOO_FEW', `${opened.length + 1} holders left, threshold ${threshold}`);
    for (const { peer, share } of opened) this.held.set(peer, share);
    this.stage = 'received';
  }

  /** `secagg:masked`: header, then x + PRG(b) + the pairwise masks with every neighbour still in (mod 2^32). */
  async maskedInput(delta: Float32Array): Promise<Uint8Array> {
    this.expect('received');
    const { length, clip, fracBits, runId, round } = this.params;
    if (delta.length !== length) throw new CodedError('HUB_ERR_SECAGG_BAD_FRAME', `update of ${delta.length} values, expected ${length}`);
    this.stage = 'masked';
    const x = encodeFixed(delta, this.params.weights[this.index]!, clip, fracBits);
    const peers = [...this.held.keys()].filter((j) => j !== this.index);
    const pairwise = await Promise.all(
      peers.map(async (j) => ({
        seed: await agree(this.sKeys.privateKey, this.neighbourKeys.get(j)!.subarray(32), runId, round, 'fl-secagg/mask'),
        sign: (j > this.index ? 1 : -1) as 1 | -1,
      })),
    );
    await maskInput(x, [{ seed: this.selfSeed, sign: 1 }, ...pairwise]);
    return concatBytes([maskedHeader(this.index, round), bytesOfWords(x)]);
  }

  /** `secagg:reveal`: b shares of survivors, s_sk shares of the dropped; never both for one index, never two answers. */
  reveal(unmaskRequest: Uint8Array): Uint8Array {
    this.expect('masked');
    const key = Array.from(unmaskRequest).join(',');
    if (this.revealed) {
      if (this.revealed.request !== key) fail('HUB_ERR_SECAGG_BAD_REQUEST', 'a second, different unmask request');
      return this.revealed.frame;
    }
    const { survivors, dropped } = decodeUnmask(unmaskRequest);
    const alive = new Set(survivors);
    const gone = new Set(dropped);
    if (alive.size !== survivors.length || gone.size !== dropped.length) fail('HUB_ERR_SECAGG_BAD_REQUEST', 'an index listed twice');
    if (dropped.some((j) => alive.has(j))) fail('HUB_ERR_SECAGG_BAD_REQUEST', 'an index named both survivor and dropped');
    if (survivors.length < this.params.threshold) fail('HUB_ERR_SECAGG_BAD_REQUEST', `${survivors.length} survivors, threshold ${this.params.threshold}`);
    if (!alive.has(this.index)) fail('HUB_ERR_SECAGG_BAD_REQUEST', 'this client is not named a survivor');
    const entries: RevealEntry[] = [];
    for (const j of [...this.held.keys()].sort((a, b) => a - b)) {
      const share = this.held.get(j)!;
      if (alive.has(j)) entries.push({ from: j, kind: REVEAL_SEED, bytes: share.seedShare });
      else if (gone.has(j)) entries.push({ from: j, kind: REVEAL_KEY, bytes: share.keyShare });
    }
    const frame = encodeReveal(entries);
    this.revealed = { request: key, frame };
    return frame;
  }

  private expect(stage: ClientStage): void {
    if (this.stage !== stage) fail('HUB_ERR_SECAGG_STAGE', `the client is at stage ${this.stage}, not ${stage}`);
  }
}
