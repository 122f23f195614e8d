import { useCallback, useState } from 'react';

const STORAGE_KEY = 'fl-dashboard-admin-token';

/** Takes `?token=` out of the address bar (so it is not bookmarked or shared) and keeps it for this tab's session. */
function takeToken(): string | null {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    url.searchParams.delete('token');
    window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
    sessionStorage.setItem(STORAGE_KEY, fromUrl);
    return fromUrl;
  }
  return sessionStorage.getItem(STORAGE_KEY);
}

export interface Access {
  /** The admin token, or null in read-only mode. */
  token: string | null;
  /** True once the hub answered 401 to this session's token. */
  refused: boolean;
  /** Drops the token after a 401: the page falls back to read-only. */
  refuse(): void;
}

export function useAccess(): Access {
  const [token, setToken] = useState<string | null>(takeToken);
  const [refused, setRefused] = useState(false);
  const refuse = useCallback(() => {
    sessionStorage.removeItem(STORAGE_KEY);
    setToken(null);
    setRefused(true);
  }, []);
  return { token, refused, refuse };
}
