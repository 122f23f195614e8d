import type { FastifyError, FastifyInstance } from 'fastify';
import { CodedError, type ErrorCode } from '@fl/shared';

/** The one error mechanism: routes and socket handlers throw CodedError; over HTTP its code maps to a status here. */
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  HUB_ERR_INVALID_SETTINGS: 400,
  HUB_ERR_INVALID_PAYLOAD: 400,
  HUB_ERR_UNAUTHORIZED: 401,
  HUB_ERR_NOT_FOUND: 404,
  HUB_ERR_RUN_ACTIVE: 409,
  HUB_ERR_TOO_LARGE: 413,
  HUB_ERR_RATE_LIMITED: 429,
  HUB_ERR_NO_LEADER: 503,
};

export function httpStatus(code: ErrorCode): number {
  return STATUS_BY_CODE[code] ?? 500;
}

/** Every HTTP error answers `{ error: { code, message } }`, the same shape as socket acknowledgements. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | CodedError, request, reply) => {
    if (error instanceof CodedError) {
      return reply.status(httpStatus(error.code)).send({ error: error.toBody() });
    }
    if (error.validation) {
      const code = request.url.startsWith('/api/runs') && request.method === 'POST' ? 'HUB_ERR_INVALID_SETTINGS' : 'HUB_ERR_INVALID_PAYLOAD';
      return reply.status(400).send({ error: { code, message: validationMessage(error) } });
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const code = error.code?.startsWith('HUB_ERR_') ? error.code : status === 429 ? 'HUB_ERR_RATE_LIMITED' : 'HUB_ERR_INTERNAL';
    return reply.status(status).send({ error: { code, message: status >= 500 ? 'internal error' : error.message } });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: { code: 'HUB_ERR_NOT_FOUND', message: `no route ${request.method} ${request.url}` } });
  });
}

/** Ajv's message names the property only in params (e.g. an unknown setting); put it in words. */
function validationMessage(error: FastifyError): string {
  const first = error.validation?.[0];
  const extra = first?.params && 'additionalProperty' in first.params ? String(first.params.additionalProperty) : null;
  return extra ? `${error.message}: unknown setting '${extra}'` : error.message;
}
