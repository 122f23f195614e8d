import { CodedError } from '../errors';
import { GCM_TAG_BYTES, IV_BYTES, PKCS8_BYTES, PUBLIC_KEY_BYTES } from './keys';

/** Fixed binary layouts of every secagg stage after setup; all integers little-endian, indices u16. */
export const KEYS_BYTES = 2 * PUBLIC_KEY_BYTES;
export const SEED_BYTES = 32;
/** Share plaintext: [from u16][to u16][b share 32][s_sk share 48]. */
export const SHARE_PLAIN_BYTES = 4 + SEED_BYTES + PKCS8_BYTES;
export const SEALED_BYTES = IV_BYTES + SHARE_PLAIN_BYTES + GCM_TAG_BYTES;
const KEYSET_ENTRY = 2 + KEYS_BYTES;
const SHARE_ENTRY = 2 + SEALED_BYTES;
export const MASKED_HEADER_BYTES = 8;
export const REVEAL_SEED = 0;
export const REVEAL_KEY = 1;

export function badFrame(message: string): never {
  throw new CodedError('HUB_ERR_SECAGG_BAD_FRAME', message);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** [index u16][c_pk 32][s_pk 32] per neighbour, by increasing index. */
export interface KeyEntry {
  index: number;
  keys: Uint8Array;
}

export function encodeKeyset(entries: readonly KeyEntry[]): Uint8Array {
  const out = new Uint8Array(entries.length * KEYSET_ENTRY);
  const view = viewOf(out);
  entries.forEach((e, k) => {
    view.setUint16(k * KEYSET_ENTRY, e.index, true);
    out.set(e.keys, k * KEYSET_ENTRY + 2);
  });
  return out;
}

export function decodeKeyset(bytes: Uint8Array): KeyEntry[] {
  return decodeEntries(bytes, KEYSET_ENTRY, 'keyset').map(({ index, body }) => ({ index, keys: body }));
}

/** A sealed share with the peer's index: `to` in `secagg:shares`, `from` in `secagg:shares-in`. */
export interface SealedEntry {
  peer: number;
  sealed: Uint8Array;
}

export function encodeSealed(entries: readonly SealedEntry[]): Uint8Array {
  const out = new Uint8Array(entries.length * SHARE_ENTRY);
  const view = viewOf(out);
  entries.forEach((e, k) => {
    if (e.sealed.length !== SEALED_BYTES) throw new RangeError(`sealed share of ${e.sealed.length} bytes`);
    view.setUint16(k * SHARE_ENTRY, e.peer, true);
    out.set(e.sealed, k * SHARE_ENTRY + 2);
  });
  return out;
}

export function decodeSealed(bytes: Uint8Array): SealedEntry[] {
  return decodeEntries(bytes, SHARE_ENTRY, 'shares').map(({ index, body }) => ({ peer: index, sealed: body }));
}

/** Fixed-size [index u16][body] entries, strictly increasing by index. */
function decodeEntries(bytes: Uint8Array, size: number, what: string): { index: number; body: Uint8Array }[] {
  if (bytes.length % size !== 0) badFrame(`${what} frame of ${bytes.length} bytes is not a multiple of ${size}`);
  const view = viewOf(bytes);
  const out: { index: number; body: Uint8Array }[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    const index = view.getUint16(at, true);
    if (out.length > 0 && index <= out[out.length - 1]!.index) badFrame(`${what} frame: indices not strictly increasing`);
    out.push({ index, body: bytes.slice(at + 2, at + size) });
  }
  return out;
}

export function encodeSharePlain(from: number, to: number, seedShare: Uint8Array, keyShare: Uint8Array): Uint8Array {
  const out = new Uint8Array(SHARE_PLAIN_BYTES);
  const view = viewOf(out);
  view.setUint16(0, from, true);
  view.setUint16(2, to, true);
  out.set(seedShare, 4);
  out.set(keyShare, 4 + SEED_BYTES);
  return out;
}

export function decodeSharePlain(bytes: Uint8Array): { from: number; to: number; seedShare: Uint8Array; keyShare: Uint8Array } {
  if (bytes.length !== SHARE_PLAIN_BYTES) badFrame(`share of ${bytes.length} bytes`);
  const view = viewOf(bytes);
  return {
    from: view.getUint16(0, true),
    to: view.getUint16(2, true),
    seedShare: bytes.slice(4, 4 + SEED_BYTES),
    keyShare: bytes.slice(4 + SEED_BYTES),
  };
}

/** `secagg:masked`: [index u16][0 u16][round u32] then (L + 1) uint32 words. */
export function maskedHeader(index: number, round: number): Uint8Array {
  const out = new Uint8Array(MASKED_HEADER_BYTES);
  viewOf(out).setUint16(0, index, true);
  viewOf(out).setUint32(4, round, true);
  return out;
}

export function readMaskedHeader(bytes: Uint8Array, length: number): { index: number; round: number } {
  const expected = MASKED_HEADER_BYTES + 4 * (length + 1);
  if (bytes.length !== expected) badFrame(`masked frame of ${bytes.length} bytes, expected ${expected}`);
  const view = viewOf(bytes);
  if (view.getUint16(2, true) !== 0) badFrame('masked frame: reserved bytes are not zero');
  return { index: view.getUint16(0, true), round: view.getUint32(4, true) };
}

/** `secagg:unmask`: [survivors u16][dropped u16] then the survivor indices, then the dropped ones. */
export function encodeUnmask(survivors: readonly number[], dropped: readonly number[]): Uint8Array {
  const out = new Uint8Array(4 + 2 * (survivors.length + dropped.length));
  const view = viewOf(out);
  view.setUint16(0, survivors.length, true);
  view.setUint16(2, dropped.length, true);
  [...survivors, ...dropped].forEach((j, k) => view.setUint16(4 + 2 * k, j, true));
  return out;
}

export function decodeUnmask(bytes: Uint8Array): { survivors: number[]; dropped: number[] } {
  if (bytes.length < 4) badFrame('unmask frame truncated');
  const view = viewOf(bytes);
  const ns = view.getUint16(0, true);
  const nd = view.getUint16(2, true);
  if (bytes.length !== 4 + 2 * (ns + nd)) badFrame(`unmask frame of ${bytes.length} bytes for ${ns} + ${nd} indices`);
  const all = Array.from({ length: ns + nd }, (_, k) => view.getUint16(4 + 2 * k, true));
  return { survivors: all.slice(0, ns), dropped: all.slice(ns) };
}

/** `secagg:reveal` entries: [from u16][kind u8: 0 = b share, 1 = s_sk share][32 or 48 bytes]. */
export interface RevealEntry {
  from: number;
  kind: typeof REVEAL_SEED | typeof REVEAL_KEY;
  bytes: Uint8Array;
}

const revealBytes = (kind: number): number => (kind === REVEAL_SEED ? SEED_BYTES : PKCS8_BYTES);

export function encodeReveal(entries: readonly RevealEntry[]): Uint8Array {
  const out = new Uint8Array(entries.reduce((a, e) => a + 3 + revealBytes(e.kind), 0));
  const view = viewOf(out);
  let at = 0;
  for (const e of entries) {
    view.setUint16(at, e.from, true);
    view.setUint8(at + 2, e.kind);
    out.set(e.bytes, at + 3);
    at += 3 + revealBytes(e.kind);
  }
  return out;
}

export function decodeReveal(bytes: Uint8Array): RevealEntry[] {
  const view = viewOf(bytes);
  const out: RevealEntry[] = [];
  for (let at = 0; at < bytes.length; ) {
    if (at + 3 > bytes.length) badFrame('reveal frame truncated');
    const from = view.getUint16(at, true);
    const kind = view.getUint8(at + 2);
    if (kind !== REVEAL_SEED && kind !== REVEAL_KEY) badFrame(`reveal kind ${kind}`);
    const size = revealBytes(kind);
    if (at + 3 + size > bytes.length) badFrame('reveal frame truncated');
    out.push({ from, kind, bytes: bytes.slice(at + 3, at + 3 + size) });
    at += 3 + size;
  }
  return out;
}
