import { describe, expect, it } from 'vitest';
import { CodedError } from '../../errors';
import { encodeKeyset, encodeReveal, encodeSealed, encodeUnmask, REVEAL_KEY, REVEAL_SEED, SEALED_BYTES } from '../frames';
import { atMasked, atShares, atUnmask, parties } from './support/stages';
import { codeOf } from './support/code-of';

async function asyncCodeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error instanceof CodedError ? error.code : String(error);
  }
}

describe('the hub refuses', () => {
  it('messages at the wrong stage with HUB_ERR_SECAGG_STAGE', async () => {
    const { hub, clients } = await parties(3);
    expect(codeOf(() => hub.addShares(0, new Uint8Array(0)))).toBe('HUB_ERR_SECAGG_STAGE');
    expect(codeOf(() => hub.addMasked(0, new Uint8Array(44)))).toBe('HUB_ERR_SECAGG_STAGE');
    expect(codeOf(() => hub.addReveal(0, new Uint8Array(0)))).toBe('HUB_ERR_SECAGG_STAGE');
    clients.forEach((c, i) => hub.addKeys(i, c.keysMessage()));
    hub.closeKeys();
    expect(codeOf(() => hub.addKeys(0, clients[0]!.keysMessage()))).toBe('HUB_ERR_SECAGG_STAGE');
    expect(codeOf(() => hub.addKeys(5, clients[0]!.keysMessage()))).toBe('HUB_ERR_SECAGG_STAGE');
  });

  it('replays of keys, shares, masked input and reveal with HUB_ERR_SECAGG_STAGE', async () => {
    const fresh = await parties(3);
    fresh.hub.addKeys(0, fresh.clients[0]!.keysMessage());
    expect(codeOf(() => fresh.hub.addKeys(0, fresh.clients[0]!.keysMessage()))).toBe('HUB_ERR_SECAGG_STAGE');

    const s = await atShares(3);
    const shares = await s.clients[0]!.sharesMessage(s.hub.keysetFor(0));
    s.hub.addShares(0, shares);
    expect(codeOf(() => s.hub.addShares(0, shares))).toBe('HUB_ERR_SECAGG_STAGE');

    const m = await atMasked(3);
    const masked = await m.clients[1]!.maskedInput(new Float32Array(8));
    m.hub.addMasked(1, masked);
    expect(codeOf(() => m.hub.addMasked(1, masked))).toBe('HUB_ERR_SECAGG_STAGE');

    const u = await atUnmask(3);
    const reveal = u.clients[2]!.reveal(u.hub.unmaskRequestFor(2));
    u.hub.addReveal(2, reveal);
    expect(codeOf(() => u.hub.addReveal(2, reveal))).toBe('HUB_ERR_SECAGG_STAGE');
  });

  it('a share addressed to a non-neighbour with HUB_ERR_SECAGG_UNKNOWN_NEIGHBOUR', async () => {
    const s = await atShares(20);
    const stranger = s.params.participants.map((_, j) => j).find((j) => j !== 0 && !s.params.neighbours[0]!.includes(j))!;
    const legit = s.params.neighbours[0]!.slice(1).map((peer) => ({ peer, sealed: new Uint8Array(SEALED_BYTES) }));
    const entries = [...legit, { peer: stranger, sealed: new Uint8Array(SEALED_BYTES) }].sort((a, b) => a.peer - b.peer);
    expect(codeOf(() => s.hub.addShares(0, encodeSealed(entries)))).toBe('HUB_ERR_SECAGG_UNKNOWN_NEIGHBOUR');
    // A frame missing a neighbour is malformed rather than misaddressed.
    expect(codeOf(() => s.hub.addShares(0, encodeSealed(legit)))).toBe('HUB_ERR_SECAGG_BAD_FRAME');
  });

  it('bad frames with HUB_ERR_SECAGG_BAD_FRAME: keys of the wrong length, masked input of the wrong length or index', async () => {
    const p = await parties(3);
    expect(codeOf(() => p.hub.addKeys(0, new Uint8Array(63)))).toBe('HUB_ERR_SECAGG_BAD_FRAME');
    const m = await atMasked(3);
    const masked = await m.clients[1]!.maskedInput(new Float32Array(8));
    expect(codeOf(() => m.hub.addMasked(1, masked.subarray(0, masked.length - 4)))).toBe('HUB_ERR_SECAGG_BAD_FRAME');
    expect(codeOf(() => m.hub.addMasked(2, masked))).toBe('HUB_ERR_SECAGG_BAD_FRAME');
  });

  it('a reveal of a share its sender does not hold with HUB_ERR_SECAGG_BAD_SHARE', async () => {
    const u = await atUnmask(3);
    // Nobody dropped, so a key share of client 1 is a share no one should reveal.
    const forged = encodeReveal([
      { from: 0, kind: REVEAL_SEED, bytes: new Uint8Array(32) },
      { from: 1, kind: REVEAL_KEY, bytes: new Uint8Array(48) },
    ]);
    expect(codeOf(() => u.hub.addReveal(0, forged))).toBe('HUB_ERR_SECAGG_BAD_SHARE');
  });
});

describe('the client refuses', () => {
  it('a keyset naming a non-neighbour with HUB_ERR_SECAGG_UNKNOWN_NEIGHBOUR', async () => {
    const s = await atShares(20);
    const stranger = s.params.participants.map((_, j) => j).find((j) => j !== 0 && !s.params.neighbours[0]!.includes(j))!;
    const keyset = encodeKeyset([{ index: stranger, keys: s.clients[stranger]!.keysMessage() }]);
    expect(await asyncCodeOf(s.clients[0]!.sharesMessage(keyset))).toBe('HUB_ERR_SECAGG_UNKNOWN_NEIGHBOUR');
  });

  it('a tampered share ciphertext in receiveShares with HUB_ERR_SECAGG_BAD_SHARE', async () => {
    const s = await atShares(3);
    for (const [i, c] of s.clients.entries()) s.hub.addShares(i, await c.sharesMessage(s.hub.keysetFor(i)));
    s.hub.closeShares();
    const sharesIn = s.hub.sharesFor(0).slice();
    sharesIn[2 + 12 + 5] ^= 1;
    expect(await asyncCodeOf(s.clients[0]!.receiveShares(sharesIn))).toBe('HUB_ERR_SECAGG_BAD_SHARE');
    // The untampered frame still opens: the refusal was the tampering, not the keys.
    await s.clients[0]!.receiveShares(s.hub.sharesFor(0));
  });

  it('a share relayed to the wrong recipient with HUB_ERR_SECAGG_BAD_SHARE (its key and AAD bind both ends)', async () => {
    const s = await atShares(3);
    for (const [i, c] of s.clients.entries()) s.hub.addShares(i, await c.sharesMessage(s.hub.keysetFor(i)));
    s.hub.closeShares();
    // Client 1's inbox holds shares from 0 and 2; hand them to client 2 relabelled (2 -> 1).
    const inbox = s.hub.sharesFor(1).slice();
    new DataView(inbox.buffer).setUint16(2 + SEALED_BYTES, 1, true);
    expect(await asyncCodeOf(s.clients[2]!.receiveShares(inbox))).toBe('HUB_ERR_SECAGG_BAD_SHARE');
  });

  it('an unmask request naming one index as both survivor and dropped with HUB_ERR_SECAGG_BAD_REQUEST', async () => {
    const u = await atUnmask(5);
    expect(codeOf(() => u.clients[0]!.reveal(encodeUnmask([0, 1, 2, 3], [1])))).toBe('HUB_ERR_SECAGG_BAD_REQUEST');
    expect(codeOf(() => u.clients[0]!.reveal(encodeUnmask([0, 1], [2])))).toBe('HUB_ERR_SECAGG_BAD_REQUEST');
    expect(codeOf(() => u.clients[0]!.reveal(encodeUnmask([1, 2, 3], [])))).toBe('HUB_ERR_SECAGG_BAD_REQUEST');
  });

  it('a second, different unmask request, so the hub cannot ask for b and s_sk of one client in turn', async () => {
    const u = await atUnmask(5);
    const first = u.clients[0]!.reveal(encodeUnmask([0, 1, 2, 3, 4], []));
    expect(u.clients[0]!.reveal(encodeUnmask([0, 1, 2, 3, 4], []))).toEqual(first);
    expect(codeOf(() => u.clients[0]!.reveal(encodeUnmask([0, 2, 3, 4], [1])))).toBe('HUB_ERR_SECAGG_BAD_REQUEST');
  });

  it('calls out of order with HUB_ERR_SECAGG_STAGE', async () => {
    const p = await parties(3);
    expect(await asyncCodeOf(p.clients[0]!.maskedInput(new Float32Array(8)))).toBe('HUB_ERR_SECAGG_STAGE');
    expect(await asyncCodeOf(p.clients[0]!.receiveShares(new Uint8Array(0)))).toBe('HUB_ERR_SECAGG_STAGE');
    expect(codeOf(() => p.clients[0]!.reveal(encodeUnmask([0, 1, 2], [])))).toBe('HUB_ERR_SECAGG_STAGE');
  });
});
