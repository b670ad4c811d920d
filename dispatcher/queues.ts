/**
 * The dispatcher's side of the pools' queues: a BullMQ Queue per pool to enqueue on, and
 * QueueEvents per pool so that every dispatcher hears when an operation finishes.
 */
import { EventEmitter } from 'node:events';
import { Queue, QueueEvents } from 'bullmq';
import { JOB_NAME, jobOptions, queueName, type OperationJobData } from '../core/queue.js';
import type { Redis } from '../core/redis.js';

export class PoolQueues {
  /** Emits `finished` with the ticket whenever an operation of any pool ends. */
  readonly events = new EventEmitter();
  private readonly queues = new Map<string, Queue<OperationJobData>>();
  private readonly listeners: QueueEvents[] = [];

  constructor(private readonly redis: Redis, private readonly prefix: string, pools: readonly string[], private readonly retentionSeconds: number) {
    this.events.setMaxListeners(0);
    for (const pool of pools) this.queues.set(pool, new Queue<OperationJobData>(queueName(pool), { connection: redis, prefix }));
  }

  /** Subscribes to every pool's queue events (BullMQ gives each its own blocking connection). */
  listen(): void {
    for (const pool of this.queues.keys()) {
      const events = new QueueEvents(queueName(pool), { connection: this.redis, prefix: this.prefix });
      const finished = ({ jobId }: { jobId: string }): boolean => this.events.emit('finished', jobId);
      events.on('completed', finished);
      events.on('failed', finished);
      events.on('error', () => {
        // ioredis reconnects by itself; followers also re-check state when they wake.
      });
      this.listeners.push(events);
    }
  }

  get pools(): string[] {
    return [...this.queues.keys()];
  }

  queue(pool: string): Queue<OperationJobData> | undefined {
    return this.queues.get(pool);
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
