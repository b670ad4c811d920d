/**
 * Every error leaves as `application/problem+json` (RFC 9457) with a stable `code`: ours from the
 * catalogue, fastify's own (validation, body size, content type) mapped onto it, and anything
 * unexpected as KW_ERR_INTERNAL without internals.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ERRORS, KubeWorkerError, type ErrorCode } from '../../core/errors.js';
import { isRedisUnavailable } from '../../core/redis.js';

export function sendProblem(reply: FastifyReply, request: FastifyRequest, code: ErrorCode, detail: string): FastifyReply {
  const { status, title } = ERRORS[code];
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: `urn:kube-worker:error:${code}`, title, status, detail, code, instance: request.url.split('?')[0] });
}

function fromFastify(error: FastifyError): { code: ErrorCode; detail: string } | undefined {
  if (error.validation) {
    const context = error.validationContext ?? 'body';
    const detail = error.validation
      .map((v) => {
        const where = `${context}${v.instancePath.replace(/\//g, '.')}`;
        if (v.keyword === 'additionalProperties') return `${where}: unknown property "${(v.params as { additionalProperty: string }).additionalProperty}"`;
        if (v.keyword === 'pattern' && v.instancePath.endsWith('ticket')) return `${where}: must start with a letter or digit and hold at most 63 letters, digits, _ or -`;
        return `${where} ${v.message ?? 'is invalid'}`;
      })
      .join('; ');
    return { code: 'KW_ERR_VALIDATION', detail };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'KW_ERR_TOO_LARGE', detail: 'the request body is larger than the server accepts; script, files and variables must come to at most 1 MiB' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'KW_ERR_UNSUPPORTED_MEDIA_TYPE', detail: 'send the operation as JSON with Content-Type: application/json' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'KW_ERR_VALIDATION', detail: 'the body is empty; send the operation as JSON' };
    default:
      if (error.statusCode === 400) return { code: 'KW_ERR_VALIDATION', detail: `the body is not valid JSON: ${error.message}` };
      return undefined;
  }
}

export default fp(async function problems(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof KubeWorkerError) return sendProblem(reply, request, error.code, error.message);
    const known = fromFastify(error);
    if (known) return sendProblem(reply, request, known.code, known.detail);
    if (isRedisUnavailable(error)) {
      request.log.error({ err: error }, 'redis unavailable');
      return sendProblem(reply, request, 'KW_ERR_UNAVAILABLE', 'the queue (Redis) cannot be reached; retry shortly');
    }
    request.log.error({ err: error }, 'unexpected error');
    return sendProblem(reply, request, 'KW_ERR_INTERNAL', 'an unexpected error occurred; it has been logged');
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, request, 'KW_ERR_ROUTE_NOT_FOUND', `${request.method} ${request.url.split('?')[0]} is not a route of this API`));
});
