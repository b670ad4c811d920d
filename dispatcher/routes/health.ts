/**
 * Liveness and readiness for probes: alive while the process runs; ready while the primary Redis
 * answers (on a cluster: the cluster says it is ok, and a node answers) and it is not shutting
 * down. A replica answers too, but cannot take a submission: while the connection holds one (a
 * failover under way), it is not ready.
 */
import type { FastifyInstance } from 'fastify';
import { Cluster } from 'ioredis';
import type { RedisClient } from '../../core/redis.js';

export interface HealthOptions {
  redis: RedisClient;
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
      if (role === 'primary') return { status: 'ready' };
      return reply
        .code(503)
        .send({ status: role === 'replica' ? 'redis is a replica; no primary answers' : 'the redis cluster is not ok: a shard has no primary' });
    } catch {
      return reply.code(503).send({ status: 'redis unreachable' });
    } finally {
      clearTimeout(timer);
    }
  });
}

/**
 * What ROLE says the connected node is; a Redis that does not allow ROLE (some managed ones) answered, so it counts as the primary.
 * A cluster is ready when it says so itself (`cluster_state:ok`: every slot has a primary that
 * answers) and a primary answers a PING: a shard whose primary failed, before its replica is
 * promoted, makes the cluster not ok.
 */
async function primaryOrReplica(redis: RedisClient): Promise<'primary' | 'replica' | 'cluster down'> {
  if (redis instanceof Cluster) {
    const info = await redis.cluster('INFO');
    if (!/^cluster_state:ok/m.test(info)) return 'cluster down';
    await redis.ping();
    return 'primary';
  }
  try {
    const [role] = (await redis.role()) as [string, ...unknown[]];
    return role === 'master' ? 'primary' : 'replica';
  } catch (error) {
    if (/unknown command|NOPERM/i.test((error as Error).message)) return 'primary';
    throw error;
  }
}
