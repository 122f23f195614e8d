import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import createError from '@fastify/error';

const RateLimitedError = createError<[number, number]>('HUB_ERR_RATE_LIMITED', 'more than %d requests a minute from this address; retry in %d s', 429);

export interface SecurityOptions {
  /** Origins allowed to call the API from other pages (a client page served elsewhere). Empty: same origin only. */
  corsOrigins: string[];
  /** Requests per minute per address. */
  rateLimitPerMinute: number;
}

/** Security headers, CORS limited to the configured origins, and HTTP rate limiting. */
export const securityPlugin = fp<SecurityOptions>(
  async (app, { corsOrigins, rateLimitPerMinute }) => {
    await app.register(helmet, {
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          // TF.js compiles its wasm backend; TypeBox validators compile to functions.
          scriptSrc: ["'self'", "'wasm-unsafe-eval'", "'unsafe-eval'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:', 'blob:'],
          connectSrc: ["'self'", 'ws:', 'wss:', ...corsOrigins],
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
      errorResponseBuilder: (_request, context) => new RateLimitedError(context.max, Math.ceil(context.ttl / 1000)),
    });
  },
  { name: 'security' },
);
