const STORAGE_KEY = 'fl.tab-name';
export const MAX_NAME_LENGTH = 80;

function randomSuffix(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

// Storage throws in some privacy modes; a tab must still work there, just without remembering.
function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** The remembered tab name, or a fresh "tab-xxxx" that is remembered from now on. */
export function loadTabName(): string {
  const store = storage();
  const saved = store?.getItem(STORAGE_KEY)?.trim();
  if (saved) return saved.slice(0, MAX_NAME_LENGTH);
  const name = `tab-${randomSuffix()}`;
  store?.setItem(STORAGE_KEY, name);
  return name;
}

/** Cleans a typed name; null when nothing usable is left. */
export function normalizeTabName(input: string): string | null {
  const name = input.replace(/\s+/g, ' ').trim().slice(0, MAX_NAME_LENGTH);
  return name.length > 0 ? name : null;
}

export function saveTabName(name: string): void {
  storage()?.setItem(STORAGE_KEY, name);
}
