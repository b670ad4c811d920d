/**
 * How request bodies are read, so that a client can neither smuggle a meaning past the API nor hold
 * the server: JSON only, read strictly (dispatcher/json-body.ts); routes that take no body never
 * read one; and an answer that leaves before its request's body has fully arrived (a 401, a 404, a
 * route that takes none) closes the connection, rather than keep it open for a body nobody wants.
 * A body that stalls is cut off by the server's request timeout (KUBE_WORKER_REQUEST_TIMEOUT_SECONDS).
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { readJsonBody } from '../json-body.js';

/** In the context it is called in, a body of any type is left unread (and dropped by Node once the answer is sent). */
export function takesNoBody(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
}

export default fp(
  async function requestBodies(app: FastifyInstance) {
    // The API speaks JSON only; anything else is refused with 415 rather than parsed as text.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
      try {
        done(null, readJsonBody(body as Buffer, request.headers['content-type'] ?? 'application/json'));
      } catch (error) {
        done(error as Error, undefined);
      }
    });
    app.addHook('onSend', async (request, reply) => {
      if (!request.raw.complete) reply.header('connection', 'close');
    });
  },
  { name: 'request-bodies' },
);
