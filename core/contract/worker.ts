/** The worker's health for the deployment server: `GET /api/v1/worker`. */
import { Type, type Static } from '@sinclair/typebox';

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
export type WorkerHealth = Static<typeof WorkerHealth>;
