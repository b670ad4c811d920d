/** `GET /api/v1/worker`: the worker's health check for the deployment server. */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ExecutorRegistry } from '../../core/executor-registry.js';
import { VERSION } from '../../core/version.js';

export const WorkerHealth = Type.Object(
  {
    version: Type.String(),
    pools: Type.Array(Type.String()),
    healthy: Type.Boolean({ description: 'At least one executor online for every pool, none reporting problems.' }),
    executors: Type.Array(
      Type.Object({
        id: Type.String(),
        pools: Type.Array(Type.String()),
        runtime: Type.String(),
        concurrency: Type.Integer(),
        version: Type.String(),
        problems: Type.Array(Type.String(), { description: 'E.g. Kubernetes permissions the executor lacks.' }),
      }),
    ),
    problems: Type.Array(Type.String()),
  },
  { $id: 'WorkerHealth' },
);

export interface WorkerRouteOptions {
  pools: readonly string[];
  registry: ExecutorRegistry;
}

export default async function workerRoutes(app: FastifyInstance, options: WorkerRouteOptions): Promise<void> {
  app.get('/api/v1/worker', { schema: { tags: ['worker'], summary: 'Health of this worker', response: { 200: WorkerHealth } } }, async () => {
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
