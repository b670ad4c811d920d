/**
 * The depth of each pool's queue: `GET /api/v1/queues` and the `kube_worker_queue_depth` metric.
 * States are BullMQ's job states (queue-states.ts).
 */
import { Type, type Static } from '@sinclair/typebox';

export { QUEUE_STATES, type QueueState } from './queue-states.js';

const count = (description: string) => Type.Integer({ minimum: 0, description });

export const PoolDepth = Type.Object({
  pool: Type.String(),
  waiting: count('Submitted, not yet taken by an executor.'),
  active: count('Held by an executor: pending or running.'),
  completed: count('Succeeded, kept for the retention.'),
  failed: count('Failed or cancelled, kept for the retention.'),
  delayed: count('Waiting to be retried later (normally none: operations run once).'),
});
export type PoolDepth = Static<typeof PoolDepth>;

export const QueueDepths = Type.Object({ pools: Type.Array(PoolDepth) }, { $id: 'QueueDepths' });
export type QueueDepths = Static<typeof QueueDepths>;
