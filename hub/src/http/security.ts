import fp from 'fastify-plugin';
import { CodedError } from '@fl/shared';
import helmet from '@fastify/helmet';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest, FastifyServerOptions } from 'fastify';


export interface SecurityOptions {
  /** Origins allowed to call the API from other pages (a client page served elsewhere). Empty: same origin only. */
  corsOrigins: string[];
  /** Requests per minute per address. */
  rateLimitPerMinute: number;
}

/** A URL without the values of parameters that carry secrets (?token=, ?join=). */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of [...params.keys()]) if (/token|join|secret/i.test(key)) params.set(key, '[redacted]');
  return `${url.slice(0, q)}?${params.toString()}`;
}

/** Fastify's logger option with a request serializer that never writes a token (errors log `req`). */
export function redactedLogger(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (!logger) return false;
  const base = logger === true ? {} : logger;
  return {
    ...base,
    serializers: {
      req: (req: { method?: string; url?: string }) => ({ method: req.method, url: redactUrl(req.url ?? '') }),
      ...base.serializers,
    },
  };
}

const HOST_PATTERN = /^[a-z0-9.-]+(:\d+)?$|^\[[0-9a-f:.]+\](:\d+)?$/i;

/** The WebSocket origins of the host a page was served from (the Host header, checked: it lands in a header). */
function ownSocketOrigins(request: { headers: { host?: string | undefined } }): string {
  const host = request.headers.host ?? '';
  return HOST_PATTERN.test(host) ? `ws://${host} wss://${host}` : '';
}

/** http(s) origins plus their ws(s) twins, for connect-src. */
function withSocketTwins(origins: string[]): string[] {
  return origins.flatMap((o) => [o, o.replace(/^http(s?):/, 'ws$1:')]).filter((o, i, all) => all.indexOf(o) === i);
}

/** Security headers, CORS limited to the configured origins, and HTTP rate limiting. */
export const securityPlugin = fp<SecurityOptions>(
  async (app, { corsOrigins, rateLimitPerMinute }) => {
    await app.register(helmet, {
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          // TF.js compiles its wasm backend. No 'unsafe-eval': TypeBox's Compile falls back to its
          // interpreter when `new Function` is refused, and TF.js evaluates no strings in a browser.
          scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:', 'blob:'],
          connectSrc: ["'self'", (request) => ownSocketOrigins(request as FastifyRequest['raw']), ...withSocketTwins(corsOrigins)],
          workerSrc: ["'self'", 'blob:'],
          upgradeInsecureRequests: null,
        },
      },
      // Tabs on other machines open the client page over plain http on a LAN.
      strictTransportSecurity: false,
      crossOriginEmbedderPolicy: false,
    });
    await app.register(cors, { origin: corsOrigins.length ? corsOrigins : false, credentials: false });
    await app.register(rateLimit, {
      max: rateLimitPerMinute,
      timeWindow: '1 minute',
      errorResponseBuilder: (_request, context) =>
        new CodedError('HUB_ERR_RATE_LIMITED', `more than ${context.max} requests a minute from this address; retry in ${Math.ceil(context.ttl / 1000)} s`),
    });
    // Request logging is off in Fastify (its line holds the query string): one line per API request
    // here, without the query, none for pages and static files; reads that succeed only at debug.
    app.addHook('onResponse', async (request, reply) => {
      if (!request.url.startsWith('/api/')) return;
      const status = reply.statusCode;
      const level = status >= 500 ? 'error' : request.method !== 'GET' || status >= 400 ? 'info' : 'debug';
      request.log[level]({ method: request.method, path: request.url.split('?')[0], status, ms: Math.round(reply.elapsedTime) }, 'request');
    });
  },
  { name: 'security' },
);
