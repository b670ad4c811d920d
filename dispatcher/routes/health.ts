/**
 * Liveness and readiness for probes: alive while the process runs; ready while the primary Redis
 * answers and it is not shutting down. A replica answers too, but cannot take a submission: while
 * the connection holds one (a failover under way), it is not ready.
 */
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
      const role = await Promise.race([primaryOrReplica(options.redis), late]);
      if (role === false) return reply.code(503).send({ status: 'redis unreachable' });
      return role === 'primary' ? { status: 'ready' } : reply.code(503).send({ status: 'redis is a replica; no primary answers' });
    } catch {
      return reply.code(503).send({ status: 'redis unreachable' });
    } finally {
      clearTimeout(timer);
    }
  });
}

/** What ROLE says the connected node is; a Redis that does not allow ROLE (some managed ones) answered, so it counts as the primary. */
async function primaryOrReplica(redis: Redis): Promise<'primary' | 'replica'> {
  try {
    const [role] = (await redis.role()) as [string, ...unknown[]];
    return role === 'master' ? 'primary' : 'replica';
  } catch (error) {
    if (/unknown command|NOPERM/i.test((error as Error).message)) return 'primary';
    throw error;
  }
}
