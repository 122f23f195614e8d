import { bufferSource, utf8 } from './bytes';
import type { Key, KeyPair } from './webcrypto-types';

/** X25519 public keys travel raw (32 bytes); a private key, when shared, as pkcs8 (48 bytes). */
export const PUBLIC_KEY_BYTES = 32;
export const PKCS8_BYTES = 48;

export type AgreementPurpose = 'fl-secagg/mask' | 'fl-secagg/share';

const X25519 = { name: 'X25519' } as const;

/** A fresh X25519 pair; `extractable` only for the mask pair, whose private key is Shamir-shared. */
export async function generateKeyPair(extractable: boolean): Promise<KeyPair> {
  return (await globalThis.crypto.subtle.generateKey(X25519, extractable, ['deriveBits'])) as KeyPair;
}

export async function exportPublic(key: Key): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.exportKey('raw', key));
}

export async function exportPrivate(key: Key): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.exportKey('pkcs8', key));
}

export function importPublic(raw: Uint8Array): Promise<Key> {
  return globalThis.crypto.subtle.importKey('raw', bufferSource(raw), X25519, true, []);
}

export function importPrivate(pkcs8: Uint8Array): Promise<Key> {
  return globalThis.crypto.subtle.importKey('pkcs8', bufferSource(pkcs8), X25519, false, ['deriveBits']);
}

/** ECDH(X25519) then HKDF-SHA256 with salt `${runId}:${round}` and the purpose as info: 32 bytes, same from both ends. */
export async function agree(
  privateKey: Key,
  publicRaw: Uint8Array,
  runId: string,
  round: number,
  purpose: AgreementPurpose,
): Promise<Uint8Array> {
  const subtle = globalThis.crypto.subtle;
  const publicKey = await importPublic(publicRaw);
  const shared = await subtle.deriveBits({ name: 'X25519', public: publicKey }, privateKey, 256);
  const ikm = await subtle.importKey('raw', shared, 'HKDF', false, ['deriveBits']);
  const bits = await subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: utf8(`${runId}:${round}`), info: utf8(purpose) },
    ikm,
    256,
  );
  return new Uint8Array(bits);
}

export const IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;

/** AES-256-GCM under a 32-byte share key; returns [iv 12][ciphertext + tag]. */
export async function sealShare(key32: Uint8Array, aad: string, plaintext: Uint8Array): Promise<Uint8Array> {
  const subtle = globalThis.crypto.subtle;
  const key = await subtle.importKey('raw', bufferSource(key32), 'AES-GCM', false, ['encrypt']);
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ct = new Uint8Array(
    await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: utf8(aad) }, key, bufferSource(plaintext)),
  );
  const out = new Uint8Array(IV_BYTES + ct.length);
  out.set(iv);
  out.set(ct, IV_BYTES);
  return out;
}

/** Opens [iv][ciphertext + tag]; null when the tag does not verify (tampered, wrong key or wrong AAD). */
export async function openShare(key32: Uint8Array, aad: string, sealed: Uint8Array): Promise<Uint8Array | null> {
  const subtle = globalThis.crypto.subtle;
  const key = await subtle.importKey('raw', bufferSource(key32), 'AES-GCM', false, ['decrypt']);
  try {
    const pt = await subtle.decrypt(
      { name: 'AES-GCM', iv: bufferSource(sealed.slice(0, IV_BYTES)), additionalData: utf8(aad) },
      key,
      bufferSource(sealed.slice(IV_BYTES)),
    );
    return new Uint8Array(pt);
  } catch {
    return null;
  }
}
