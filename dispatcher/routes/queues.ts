/** `GET /api/v1/queues`: how deep each pool's queue is, for `kube-worker queues` and scripts. */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { PoolQueues } from '../queues.js';
import { QUEUES_EXAMPLES } from './examples.js';
import { ANY_ROUTE, answer, problemAnswers } from './responses.js';

export interface QueueRouteOptions {
  queues: PoolQueues;
}

export default async function queueRoutes(app: FastifyInstance, { queues }: QueueRouteOptions): Promise<void> {
  app.get(
    '/api/v1/queues',
    {
      schema: {
        operationId: 'getQueues',
        tags: ['worker'],
        summary: "Depth of each pool's queue",
        description: 'Operations in each pool by queue state: waiting, active (pending or running), completed, failed (including cancelled) and delayed.',
        response: {
          200: answer('Each pool, in the order configured.', Type.Ref('QueueDepths'), QUEUES_EXAMPLES),
          ...problemAnswers('/api/v1/queues', ANY_ROUTE),
        },
      },
    },
    async () => ({ pools: await queues.depths() }),
  );
}
