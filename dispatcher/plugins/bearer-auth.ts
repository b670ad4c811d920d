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

/** `Bearer <token>`, the scheme in any case (RFC 9110 §11.1); '' for anything else. */
const BEARER = /^bearer +(.*)$/i;

/** How many Authorization headers came: Node keeps the first and drops the rest from `headers`. */
const authorizationCount = (rawHeaders: string[]): number => rawHeaders.filter((value, i) => i % 2 === 0 && value.toLowerCase() === 'authorization').length;

async function bearerAuth(app: FastifyInstance, options: BearerAuthOptions): Promise<void> {
  const accepted = digestAll(options.tokens);
  // onRequest: refused before any body is read.
  app.addHook('onRequest', async (request, reply) => {
    if (authorizationCount(request.raw.rawHeaders) > 1) {
      return sendProblem(reply, request, 'KW_ERR_VALIDATION', 'send one Authorization header, not several');
    }
    const header = request.headers.authorization ?? '';
    const token = BEARER.exec(header)?.[1]?.trim() ?? '';
    if (token === '' || !matchesAny(token, accepted)) {
      reply.header('www-authenticate', 'Bearer realm="kube-worker"');
      return sendProblem(reply, request, 'KW_ERR_UNAUTHORIZED', header ? 'the bearer token is not accepted' : 'send Authorization: Bearer <token>');
    }
  });
}

// Not encapsulated: the hook must cover the routes registered next to it in the /api context.
export default fp(bearerAuth, { name: 'bearer-auth' });
