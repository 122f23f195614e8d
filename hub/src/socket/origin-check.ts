import type { IncomingMessage } from 'node:http';

/**
 * Whether a handshake may open a socket: a page of the hub's own origin (the Host it was asked for,
 * over http or https), one of the configured origins, or a client that sends no Origin (Node).
 * A browser always sends Origin on a WebSocket handshake, so any other web page is refused.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  const given = origin.trim().toLowerCase();
  if (allowed.some((o) => o.trim().toLowerCase().replace(/\/$/, '') === given)) return true;
  if (!host) return false;
  const own = host.trim().toLowerCase();
  return given === `http://${own}` || given === `https://${own}`;
}

/** Socket.IO's `allowRequest` (engine level, so it covers every namespace and both transports). */
export function originCheck(allowed: readonly string[]) {
  return (request: IncomingMessage, callback: (error: string | null | undefined, success: boolean) => void): void => {
    const ok = originAllowed(request.headers.origin, request.headers.host, allowed);
    callback(ok ? null : 'origin not allowed: set CORS_ORIGINS on the hub to allow this page', ok);
  };
}
