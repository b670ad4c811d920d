/**
 * The dispatcher hears that an operation ended: the script that records a result also publishes the
 * ticket on its pool's `finished` channel (OperationStore.recordResult), and log followers waiting
 * on that ticket wake at once instead of at their next check. On a cluster the channels are sharded
 * (core/channels.ts): each pool's is served by the shard that holds the pool's records.
 *
 * A message can be missed — published while this subscriber reconnects — so a waiter must still
 * re-check the record by itself now and then; the message only makes the end prompt. The
 * subscription is opened with the first waiter, so a dispatcher nobody follows pays nothing for it.
 */
import { subscribe } from '../core/channels.js';
import type { OperationRef } from '../core/keys.js';
import type { RedisClient } from '../core/redis.js';

export interface FinishedWait {
  /** Resolves when the operation is heard to end. */
  readonly ended: Promise<void>;
  /** Forgets the wait (the follower went). */
  cancel(): void;
}

export class FinishedOperations {
  private readonly waiters = new Map<string, Set<() => void>>();
  private subscriber: RedisClient | undefined;
  private readonly channels: Set<string>;

  /**
   * `connect`: a connection of its own, which this subscribes on. `channels`: each pool's finished
   * channel. `onError`: its errors (it reconnects by itself).
   */
  constructor(
    private readonly connect: () => RedisClient,
    channels: readonly string[],
    private readonly onError: (error: Error) => void,
  ) {
    this.channels = new Set(channels);
  }

  wait({ ticket }: OperationRef): FinishedWait {
    this.subscribe();
    let wake!: () => void;
    const ended = new Promise<void>((resolve) => (wake = resolve));
    const waiting = this.waiters.get(ticket) ?? new Set();
    waiting.add(wake);
    this.waiters.set(ticket, waiting);
    return {
      ended,
      cancel: () => {
        waiting.delete(wake);
        if (waiting.size === 0 && this.waiters.get(ticket) === waiting) this.waiters.delete(ticket);
      },
    };
  }

  private subscribe(): void {
    if (this.subscriber) return;
    const subscriber = (this.subscriber = this.connect());
    subscriber.on('error', this.onError);
    // ioredis subscribes again after a reconnect (or a failover); a failure here is reported and followers fall back on their checks.
    subscribe(subscriber, [...this.channels], (channel, ticket) => {
      if (!this.channels.has(channel)) return;
      const waiting = this.waiters.get(ticket);
      this.waiters.delete(ticket);
      for (const wake of waiting ?? []) wake();
    }).catch(this.onError);
  }

  async close(): Promise<void> {
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }
}
