import type { ClientCredentials, CredentialStore } from '@fl/shared/federated-client';

const STORAGE_KEY = 'fl.client-credentials';

/**
 * The tab's id and secret in sessionStorage: it survives a reload, and unlike localStorage it is
 * not shared with the other tabs of this browser, which are other clients (two tabs presenting one
 * secret would keep taking the id from each other). Storage that throws (privacy modes) leaves the
 * credentials in memory only: the tab then joins as a new client after a reload.
 */
export function tabCredentialStore(storage: () => Storage | null = sessionStorageOrNull): CredentialStore {
  let held: ClientCredentials | null = null;
  return {
    load() {
      if (held) return held;
      try {
        const parsed = JSON.parse(storage()?.getItem(STORAGE_KEY) ?? 'null') as Partial<ClientCredentials> | null;
        if (typeof parsed?.clientId === 'string' && typeof parsed.secret === 'string') held = { clientId: parsed.clientId, secret: parsed.secret };
      } catch {
        // Unreadable or not JSON: as if nothing was kept.
      }
      return held;
    },
    save(credentials) {
      held = credentials;
      try {
        const store = storage();
        if (credentials) store?.setItem(STORAGE_KEY, JSON.stringify(credentials));
        else store?.removeItem(STORAGE_KEY);
      } catch {
        // Quota or privacy mode: kept in memory only.
      }
    },
  };
}

function sessionStorageOrNull(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}
