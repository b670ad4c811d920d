/**
 * Every error leaves as `application/problem+json` (RFC 9457) with a stable `code`: ours from the
 * catalogue, fastify's own (validation, body size, content type) mapped onto it, and anything
 * unexpected as KW_ERR_INTERNAL without internals.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import fp from 'fastify-plugin';
import type { Problem } from '../../core/contract/problem.js';
import { ERRORS, KubeWorkerError, type ErrorCode } from '../../core/errors.js';
import { isRedisUnavailable } from '../../core/redis.js';

/** The problem document; `instance` is the path, unless the path itself is the problem. */
export function problem(code: ErrorCode, detail: string, instance?: string): Problem {
  const { status, title } = ERRORS[code];
  return { type: `urn:kube-worker:error:${code}`, title, status, detail, code, ...(instance === undefined ? {} : { instance }) };
}

const pathOf = (request: FastifyRequest): string => request.url.split('?')[0]!;

export function sendProblem(reply: FastifyReply, request: FastifyRequest, code: ErrorCode, detail: string, options: { echoPath?: boolean } = {}): FastifyReply {
  return reply
    .code(ERRORS[code].status)
    .type('application/problem+json')
    .send(problem(code, detail, options.echoPath === false ? undefined : pathOf(request)));
}

/**
 * fastify's `frameworkErrors`: a path it cannot route. Neither answer quotes the path: it is what
 * is wrong, and it may be long or hold anything.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void sendProblem(reply, request, 'KW_ERR_URI_TOO_LONG', 'a part of the path is longer than any ticket; a ticket has at most 63 characters', {
      echoPath: false,
    });
  } else if (error.code === 'FST_ERR_BAD_URL') {
    void sendProblem(reply, request, 'KW_ERR_VALIDATION', 'the path is not a valid URL path (a broken %-escape?)', { echoPath: false });
  } else {
    request.log.error({ err: error }, 'unexpected routing error');
    void sendProblem(reply, request, 'KW_ERR_INTERNAL', 'an unexpected error occurred; it has been logged', { echoPath: false });
  }
}

/**
 * Node's `clientError`: a request that never arrived whole — cut off by the request timeout, headers
 * too large, or not HTTP. Answered as problem+json on the raw socket, which is then destroyed.
 */
export function clientErrorHandler(requestTimeoutSeconds: number): (error: Error & { code?: string }, socket: Duplex) => void {
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const [code, detail]: [ErrorCode, string] =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['KW_ERR_REQUEST_TIMEOUT', `the request did not arrive whole within ${requestTimeoutSeconds} s (KUBE_WORKER_REQUEST_TIMEOUT_SECONDS)`]
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? ['KW_ERR_HEADERS_TOO_LARGE', 'the request headers are larger than the server accepts']
          : ['KW_ERR_VALIDATION', 'the request is not valid HTTP'];
    const body = JSON.stringify(problem(code, detail));
    const { status } = ERRORS[code];
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}

function fromFastify(error: FastifyError): { code: ErrorCode; detail: string } | undefined {
  if (error.validation) {
    const context = error.validationContext ?? 'body';
    const detail = error.validation
      .map((v) => {
        const where = `${context}${v.instancePath.replace(/\//g, '.')}`;
        if (v.keyword === 'additionalProperties') return `${where}: unknown property "${(v.params as { additionalProperty: string }).additionalProperty}"`;
        if (v.keyword === 'pattern' && v.instancePath.endsWith('ticket'))
          return `${where}: must start with a letter or digit and hold at most 63 letters, digits, _ or -`;
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
  const notFound = (request: FastifyRequest, reply: FastifyReply): FastifyReply =>
    sendProblem(reply, request, 'KW_ERR_ROUTE_NOT_FOUND', `${request.method} ${pathOf(request)} is not a route of this API`);
  // Answered before any body is read: no route wants it.
  app.addHook('onRequest', async (request, reply) => {
    if (request.is404) return notFound(request, reply);
  });
  app.setNotFoundHandler(notFound);
});
