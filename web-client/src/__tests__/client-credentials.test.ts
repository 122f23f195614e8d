import { describe, expect, it } from 'vitest';
import { tabCredentialStore } from '../client-credentials';

function memoryStorage(): Storage {
  const items = new Map<string, string>();
  return {
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    getItem: (k) => items.get(k) ?? null,
    key: (i) => [...items.keys()][i] ?? null,
    removeItem: (k) => void items.delete(k),
    setItem: (k, v) => void items.set(k, v),
  };
}

const credentials = { clientId: 'c-1', secret: 's'.repeat(43) };

describe('tabCredentialStore', () => {
  it('keeps the id and secret across a reload of the tab (a new store on the same storage)', () => {
    const storage = memoryStorage();
    tabCredentialStore(() => storage).save(credentials);
    expect(tabCredentialStore(() => storage).load()).toEqual(credentials);
  });

  it('forgets them when cleared (the hub no longer knows the id)', () => {
    const storage = memoryStorage();
    const store = tabCredentialStore(() => storage);
    store.save(credentials);
    store.save(null);
    expect(tabCredentialStore(() => storage).load()).toBeNull();
  });

  it('works in memory when storage throws, and ignores unreadable content', () => {
    const throwing = tabCredentialStore(() => {
      throw new Error('SecurityError');
    });
    throwing.save(credentials);
    expect(throwing.load()).toEqual(credentials);
    const storage = memoryStorage();
    storage.setItem('fl.client-credentials', '{not json');
    expect(tabCredentialStore(() => storage).load()).toBeNull();
    storage.setItem('fl.client-credentials', JSON.stringify({ clientId: 5 }));
    expect(tabCredentialStore(() => storage).load()).toBeNull();
  });
});
