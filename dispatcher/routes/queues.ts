/** `GET /api/v1/queues`: how deep each pool's queue is, for `kube-worker queues` and scripts. */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { QueueDepths } from '../../core/contract/queues.js';
import type { PoolQueues } from '../queues.js';

export interface QueueRouteOptions {
  queues: PoolQueues;
}

export default async function queueRoutes(app: FastifyInstance, { queues }: QueueRouteOptions): Promise<void> {
  app.get(
    '/api/v1/queues',
    {
      schema: {
        tags: ['worker'],
        summary: "Depth of each pool's queue",
        description: 'Operations in each pool by queue state: waiting, active (pending or running), completed, failed (including cancelled) and delayed.',
        response: { 200: QueueDepths, 401: Type.Ref('Problem'), 503: Type.Ref('Problem') },
      },
    },
    async () => ({ pools: await queues.depths() }),
  );
}
