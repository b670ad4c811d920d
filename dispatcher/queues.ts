/**
 * The dispatcher's side of the pools' queues: a BullMQ Queue per pool to enqueue on and to read
 * depths from. (That an operation finished is heard from its record: see finished-operations.ts.)
 */
import { Queue } from 'bullmq';
import { QUEUE_STATES, type PoolDepth } from '../core/contract/queues.js';
import { KubeWorkerError } from '../core/errors.js';
import { JOB_NAME, jobOptions, queueName, type OperationJobData } from '../core/queue.js';
import type { Keys } from '../core/keys.js';
import type { RedisClient } from '../core/redis.js';

/** Depths are read on every scrape; past this, Redis counts as unreachable rather than slow. */
const DEPTH_DEADLINE_MS = 2000;

export class PoolQueues {
  private readonly queues = new Map<string, Queue<OperationJobData>>();

  /** `onError` hears every error the Redis clients report (they reconnect by themselves). */
  constructor(
    redis: RedisClient,
    keys: Pick<Keys, 'pool'>,
    pools: readonly string[],
    private readonly retentionSeconds: number,
    onError: (error: Error) => void,
  ) {
    for (const pool of pools) {
      // Each pool's queue under the pool's hash tag: on a cluster its keys share a slot with its records.
      // No version check: BullMQ asks it (INFO) once, when the queue is made, and keeps a failure
      // of that question for the queue's life. On this connection, whose commands time out after the
      // API's limit, one late answer at start would make every submission answer 503 until a
      // restart. The executors' queues and workers, on connections without that limit, check it.
      const queue = new Queue<OperationJobData>(queueName(pool), { connection: redis, prefix: keys.pool(pool).queuePrefix, skipVersionCheck: true });
      queue.on('error', onError);
      this.queues.set(pool, queue);
    }
  }

  get pools(): string[] {
    return [...this.queues.keys()];
  }

  queue(pool: string): Queue<OperationJobData> | undefined {
    return this.queues.get(pool);
  }

  get all(): Queue<OperationJobData>[] {
    return [...this.queues.values()];
  }

  /** How many jobs each pool's queue holds in each state; 503 when Redis does not answer in time. */
  async depths(): Promise<PoolDepth[]> {
    const read = Promise.all(
      [...this.queues].map(async ([pool, queue]) => {
        const counts = await queue.getJobCounts(...QUEUE_STATES);
        return { pool, ...Object.fromEntries(QUEUE_STATES.map((state) => [state, counts[state] ?? 0])) } as PoolDepth;
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new KubeWorkerError('KW_ERR_UNAVAILABLE', `the queue (Redis) did not answer within ${DEPTH_DEADLINE_MS / 1000}s; retry shortly`)),
        DEPTH_DEADLINE_MS,
      );
    });
    try {
      return await Promise.race([read, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** `jobId`: from jobIdFor; BullMQ ignores an add for an id it still has. */
  async enqueue(data: OperationJobData, jobId: string): Promise<void> {
    const queue = this.queues.get(data.pool);
    if (!queue) throw new Error(`no queue for pool ${data.pool}`);
    await queue.add(JOB_NAME, data, jobOptions(jobId, this.retentionSeconds));
  }

  /** Where the job is in its queue (BullMQ's getJobState): 'unknown' when it is in none. */
  async jobState(pool: string, jobId: string): Promise<string> {
    const queue = this.queues.get(pool);
    if (!queue) throw new Error(`no queue for pool ${pool}`);
    return queue.getJobState(jobId);
  }

  /** The Redis key of a job's hash. */
  jobKey(pool: string, jobId: string): string {
    const queue = this.queues.get(pool);
    if (!queue) throw new Error(`no queue for pool ${pool}`);
    return queue.toKey(jobId);
  }

  /** Removes a job that is waiting or finished; false while an executor holds it (or it is gone). */
  async remove(pool: string, jobId: string): Promise<boolean> {
    return ((await this.queues.get(pool)?.remove(jobId)) ?? 0) === 1;
  }

  async close(): Promise<void> {
    for (const queue of this.queues.values()) await queue.close().catch(() => undefined);
  }
}
