/**
 * The dispatcher's side of the pools' queues: a BullMQ Queue per pool to enqueue on and to read
 * depths from, and QueueEvents per pool so that every dispatcher hears when an operation finishes.
 */
import { EventEmitter } from 'node:events';
import { Queue, QueueEvents } from 'bullmq';
import { QUEUE_STATES, type PoolDepth } from '../core/contract/queues.js';
import { KubeWorkerError } from '../core/errors.js';
import { JOB_NAME, jobOptions, queueName, type OperationJobData } from '../core/queue.js';
import type { Redis } from '../core/redis.js';

/** Depths are read on every scrape; past this, Redis counts as unreachable rather than slow. */
const DEPTH_DEADLINE_MS = 2000;

export class PoolQueues {
  /**
   * Emits `finished` with the ticket whenever an operation of any pool ends. The queue events are
   * read from the first `finished` listener on: reading them costs the dispatcher CPU for every
   * job event of every pool (as much as a tenth of what a submission costs), wasted when no one listens.
   */
  readonly events = new EventEmitter();
  private readonly queues = new Map<string, Queue<OperationJobData>>();
  private readonly listeners: QueueEvents[] = [];

  /** `onError` hears every error the Redis clients report (they reconnect by themselves). */
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    pools: readonly string[],
    private readonly retentionSeconds: number,
    private readonly onError: (error: Error) => void,
  ) {
    this.events.setMaxListeners(0);
    this.events.on('newListener', (event: string | symbol) => {
      if (event === 'finished') this.listen();
    });
    for (const pool of pools) {
      const queue = new Queue<OperationJobData>(queueName(pool), { connection: redis, prefix });
      queue.on('error', onError);
      this.queues.set(pool, queue);
    }
  }

  /** Subscribes to every pool's queue events (BullMQ gives each its own blocking connection), once. */
  listen(): void {
    if (this.listeners.length > 0) return;
    for (const pool of this.queues.keys()) {
      const events = new QueueEvents(queueName(pool), { connection: this.redis, prefix: this.prefix });
      const finished = ({ jobId }: { jobId: string }): boolean => this.events.emit('finished', jobId);
      events.on('completed', finished);
      events.on('failed', finished);
      // ioredis reconnects by itself; followers also re-check state when they wake.
      events.on('error', this.onError);
      this.listeners.push(events);
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
      timer = setTimeout(() => reject(new KubeWorkerError('KW_ERR_UNAVAILABLE', `the queue (Redis) did not answer within ${DEPTH_DEADLINE_MS / 1000}s; retry shortly`)), DEPTH_DEADLINE_MS);
    });
    try {
      return await Promise.race([read, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async enqueue(data: OperationJobData): Promise<void> {
    const queue = this.queues.get(data.pool);
    if (!queue) throw new Error(`no queue for pool ${data.pool}`);
    await queue.add(JOB_NAME, data, jobOptions(data.ticket, this.retentionSeconds));
  }

  /** Removes a job that is waiting or finished; one an executor holds stays. */
  async remove(pool: string, ticket: string): Promise<void> {
    await this.queues.get(pool)?.remove(ticket);
  }

  async close(): Promise<void> {
    for (const events of this.listeners) await events.close().catch(() => undefined);
    for (const queue of this.queues.values()) await queue.close().catch(() => undefined);
  }
}
