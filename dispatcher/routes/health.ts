/** Liveness and readiness for probes: alive while the process runs; ready while Redis answers and it is not shutting down. */
import type { FastifyInstance } from 'fastify';
import type { Redis } from '../../core/redis.js';

export interface HealthOptions {
  redis: Redis;
  isShuttingDown(): boolean;
}

export default async function healthRoutes(app: FastifyInstance, options: HealthOptions): Promise<void> {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    if (options.isShuttingDown()) return reply.code(503).send({ status: 'shutting down' });
    try {
      await options.redis.ping();
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'redis unreachable' });
    }
  });
}
