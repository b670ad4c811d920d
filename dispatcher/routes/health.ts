/** Liveness and readiness for probes: alive while the process runs; ready while Redis answers and it is not shutting down. */
import type { FastifyInstance } from 'fastify';
import type { Redis } from '../../core/redis.js';

export interface HealthOptions {
  redis: Redis;
  isShuttingDown(): boolean;
  /** Longer than this, and Redis counts as unreachable. */
  pingTimeoutMs: number;
}

export default async function healthRoutes(app: FastifyInstance, options: HealthOptions): Promise<void> {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    if (options.isShuttingDown()) return reply.code(503).send({ status: 'shutting down' });
    // Not connected: say so at once rather than queue a ping behind the reconnection.
    if (options.redis.status !== 'ready') return reply.code(503).send({ status: 'redis unreachable' });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), options.pingTimeoutMs)));
    try {
      const answered = await Promise.race([options.redis.ping().then(() => true), late]);
      return answered ? { status: 'ready' } : reply.code(503).send({ status: 'redis unreachable' });
    } catch {
      return reply.code(503).send({ status: 'redis unreachable' });
    } finally {
      clearTimeout(timer);
    }
  });
}
