import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { CodedError } from '@fl/shared';


/** Constant-time comparison: both sides are hashed first so their lengths match. */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header?.startsWith('Bearer ')) return null;
  return header.slice('Bearer '.length).trim();
}

/** A preHandler that refuses state-changing requests without the admin token. */
export function requireAdmin(adminToken: string) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request);
    if (token === null) {
      throw new CodedError('HUB_ERR_UNAUTHORIZED', 'send the admin token as "Authorization: Bearer <token>" (printed in the hub start-up log)');
    }
    if (!tokensEqual(token, adminToken)) throw new CodedError('HUB_ERR_UNAUTHORIZED', 'the admin token is wrong');
  };
}
