/**
 * The floor of any HTTP intake on BullMQ: fastify parses the JSON body and the one route adds it to
 * the queue. No auth, validation, record or logging — whatever kube-worker costs above this is what
 * those features cost.
 */
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { JOB_NAME, queueName } from '../../core/queue.js';
import { connectRedis } from '../../core/redis.js';
import type { IntakeServer } from './kube-worker-intake.js';
import { POOL, SUBMIT_PATH } from './operation.js';

export async function startMinimalIntake(redisUrl: string, prefix: string): Promise<IntakeServer> {
  const redis = connectRedis(redisUrl, 'bench-minimal-intake');
  const queue = new Queue(queueName(POOL), { connection: redis, prefix });
  const app = Fastify();
  app.post(SUBMIT_PATH, async (request, reply) => {
    const job = await queue.add(JOB_NAME, request.body);
    return reply.code(202).send({ ticket: job.id, state: 'queued' });
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    async close() {
      await app.close();
      await queue.close();
      await redis.quit();
    },
  };
}
