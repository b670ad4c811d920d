/**
 * Counts the jobs of a pool that end, from BullMQ's event stream — the same signal for kube-worker
 * (whose job completes once the operation's result is recorded, and fails unless it succeeded) and
 * for the bare BullMQ worker.
 */
import { QueueEvents } from 'bullmq';
import { keys } from '../../core/keys.js';
import { queueName } from '../../core/queue.js';
import { connectRedis } from '../../core/redis.js';
import { POOL } from './operation.js';

export interface Completions {
  readonly succeeded: number;
  readonly failed: number;
  /** Ticket → when its job was seen ending, ms (performance.now()). */
  readonly endedAt: ReadonlyMap<string, number>;
  /** Resolves once `count` jobs have ended in all. */
  until(count: number): Promise<void>;
  close(): Promise<void>;
}

/** A job's id is its ticket and a nonce (core/queue.ts jobIdFor); a bare BullMQ job's is its own. */
const ticketOf = (jobId: string): string => (jobId.includes('.') ? jobId.slice(0, jobId.lastIndexOf('.')) : jobId);

/** BullMQ's prefix for the bench pool's queue of a kube-worker deployment under `prefix` (the pool's hash tag). */
export const kubeWorkerQueuePrefix = (prefix: string): string => keys(prefix).pool(POOL).queuePrefix;

/** `queuePrefix`: BullMQ's prefix of the queue whose jobs are counted (kubeWorkerQueuePrefix for kube-worker). */
export function countCompletions(redisUrl: string, queuePrefix: string): Completions {
  const redis = connectRedis(redisUrl, 'bench-completions');
  // Read from the stream's start: the prefix is fresh, and no event can slip by before the first read.
  const events = new QueueEvents(queueName(POOL), { connection: redis, prefix: queuePrefix, lastEventId: '0-0' });
  let succeeded = 0;
  let failed = 0;
  let waiting: { count: number; resolve: () => void } | undefined;
  const endedAt = new Map<string, number>();
  const ended = ({ jobId }: { jobId: string }): void => {
    endedAt.set(ticketOf(jobId), performance.now());
    if (waiting && succeeded + failed >= waiting.count) waiting.resolve();
  };
  events.on('completed', (job) => {
    succeeded += 1;
    ended(job);
  });
  events.on('failed', (job) => {
    failed += 1;
    ended(job);
  });
  return {
    get succeeded() {
      return succeeded;
    },
    get failed() {
      return failed;
    },
    endedAt,
    until(count) {
      if (succeeded + failed >= count) return Promise.resolve();
      return new Promise((resolve) => {
        waiting = { count, resolve };
      });
    },
    async close() {
      await events.close();
      await redis.quit();
    },
  };
}
