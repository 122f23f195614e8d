/** WebCrypto key types that hold under the DOM lib (tabs) and under Node's types (the hub) alike: taken from the global crypto. */
export type Key = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

export interface KeyPair {
  publicKey: Key;
  privateKey: Key;
}
