/**
 * Bearer-token authentication for the API. Registered inside the `/api` context only, so health
 * probes, metrics and the dashboard (which has credentials of its own) are not affected.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { digestAll, matchesAny } from '../../core/tokens.js';
import { sendProblem } from './problems.js';

export interface BearerAuthOptions {
  tokens: readonly string[];
}

async function bearerAuth(app: FastifyInstance, options: BearerAuthOptions): Promise<void> {
  const accepted = digestAll(options.tokens);
  app.addHook('onRequest', async (request, reply) => {
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (token === '' || !matchesAny(token, accepted)) {
      reply.header('www-authenticate', 'Bearer realm="kube-worker"');
      return sendProblem(reply, request, 'KW_ERR_UNAUTHORIZED', header ? 'the bearer token is not accepted' : 'send Authorization: Bearer <token>');
    }
  });
}

// Not encapsulated: the hook must cover the routes registered next to it in the /api context.
export default fp(bearerAuth, { name: 'bearer-auth' });
