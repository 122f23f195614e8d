import type { FastifyReply } from 'fastify';

/**
 * Headers of the client tab's page and its assets (its worker, its .wasm), set as each file is sent.
 *
 * Cross-origin isolation (COOP same-origin, COEP require-corp) gives the tab SharedArrayBuffer, which
 * TF.js's threaded wasm needs. Every asset the tab loads is this origin's; a hub elsewhere (?hub=) is
 * reached by CORS fetches and WebSockets, which COEP allows.
 *
 * TF.js starts each wasm thread from a script it puts in a Blob (its factory's own source), so script-src
 * also takes blob: here. Only script already running on this origin can make such a URL.
 * Only under /client/: the dashboard and the API keep the plain policy.
 */
export function setClientPageHeaders(reply: FastifyReply): void {
  reply.header('Cross-Origin-Opener-Policy', 'same-origin');
  reply.header('Cross-Origin-Embedder-Policy', 'require-corp');
  const policy = reply.getHeader('content-security-policy');
  if (typeof policy === 'string') reply.header('content-security-policy', withBlobScripts(policy));
}

/** The policy with blob: added to script-src, once. */
export function withBlobScripts(policy: string): string {
  return policy.replace(/(^|;)\s*script-src([^;]*)/, (directive, start: string, sources: string) =>
    sources.split(/\s+/).includes('blob:') ? directive : `${start}script-src${sources} blob:`,
  );
}
