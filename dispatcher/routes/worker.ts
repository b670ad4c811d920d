/** `GET /api/v1/worker`: the worker's health check for the deployment server. */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { WorkerHealth } from '../../core/contract/worker.js';
import type { ExecutorRegistry } from '../../core/executor-registry.js';
import { VERSION } from '../../core/version.js';
import { WORKER_EXAMPLES } from './examples.js';
import { ANY_ROUTE, answer, problemAnswers } from './responses.js';

export interface WorkerRouteOptions {
  pools: readonly string[];
  registry: ExecutorRegistry;
}

export default async function workerRoutes(app: FastifyInstance, options: WorkerRouteOptions): Promise<void> {
  const schema = {
    operationId: 'getWorker',
    tags: ['worker'],
    summary: 'Health of this worker',
    description:
      'Version, pools, the executors online with their runtime, and any problems: a pool no executor serves, permissions an executor lacks, an executor that refused to start.',
    response: { 200: answer('The worker, healthy or not.', Type.Ref('WorkerHealth'), WORKER_EXAMPLES), ...problemAnswers('/api/v1/worker', ANY_ROUTE) },
  };
  app.get('/api/v1/worker', { schema }, async (): Promise<WorkerHealth> => {
    const executors = await options.registry.online();
    const problems: string[] = [];
    for (const pool of options.pools) {
      if (!executors.some((e) => e.pools.includes(pool))) problems.push(`no executor online for pool "${pool}"`);
    }
    for (const executor of executors) for (const problem of executor.problems) problems.push(`executor ${executor.id}: ${problem}`);
    for (const refusal of await options.registry.refusals()) problems.push(`executor ${refusal.id} refused to start: ${refusal.reason}`);
    return { version: VERSION, pools: [...options.pools], healthy: problems.length === 0, executors, problems };
  });
}
