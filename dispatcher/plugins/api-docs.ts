/**
 * The OpenAPI 3.1 document at `/docs/json`, generated from the same TypeBox schemas that validate
 * requests, and a browsable page at `/docs`. Registered before the routes so it sees all of them.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { VERSION } from '../../core/version.js';

export default fp(async function apiDocs(app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'kube-worker API',
        version: VERSION,
        description:
          'Submit deployment operations, follow their logs, cancel and complete them. Every call needs `Authorization: Bearer <token>`. ' +
          'Errors are application/problem+json (RFC 9457) with a stable `code` and a `detail` that says what to fix. ' +
          'Any request may also be answered, before it reaches a route, 408 when it does not arrive whole in time and 431 when its headers are too large.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      // Relative: the API is where this document is served from, whatever the address a deployment gives it.
      servers: [{ url: '/', description: 'The dispatcher that serves this document' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
      tags: [
        { name: 'operations', description: 'Submit an operation, read its status and log, cancel it, complete it.' },
        { name: 'worker', description: 'The worker itself: its executors, pools and queues.' },
      ],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
});
