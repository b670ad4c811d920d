/**
 * Cancellation reaching the executor that runs an operation: the dispatcher flags the record and
 * publishes the ticket on the pool's cancel channel; the executor holding it aborts the run. One
 * subscriber per executor, on the channels of the pools it serves (sharded on a cluster).
 *
 * A message is lost when it is published while the subscriber is away (a reconnect), so the record's
 * flag is the truth and the message only makes it quick: the flags of every running operation are
 * read again after each (re)subscription and every RECHECK_MS.
 */
import { subscribe } from '../core/channels.js';
import type { OperationRef } from '../core/keys.js';
import type { RedisClient } from '../core/redis.js';
import type { StopReason } from './runtime.js';

/** The longest a cancel whose message was lost waits to be noticed. */
const RECHECK_MS = 2000;

/** The tickets of those of `ops` whose record says cancel. */
export type CancelFlags = (ops: readonly OperationRef[]) => Promise<string[]>;

export class CancelSignals {
  private readonly running = new Map<string, { op: OperationRef; controller: AbortController }>();
  private subscriber: RedisClient | undefined;
  private recheckTimer: NodeJS.Timeout | undefined;
  /** While Redis is away a read waits for it; one at a time, not one per tick. */
  private rechecking = false;

  /** `channels`: the cancel channel of each pool served. `onError`: a recheck that could not read the flags (it is tried again at the next one). */
  constructor(
    private readonly channels: readonly string[],
    private readonly flags: CancelFlags,
    private readonly onError: (error: unknown) => void,
  ) {}

  async start(connection: RedisClient): Promise<void> {
    this.subscriber = connection;
    // ioredis subscribes again by itself after a reconnect; what was published meanwhile is gone.
    connection.on('ready', () => void this.recheck());
    await subscribe(connection, this.channels, (channel, ticket) => {
      if (this.channels.includes(channel)) this.stop(ticket, 'cancel');
    });
    this.recheckTimer = setInterval(() => void this.recheck(), RECHECK_MS);
    this.recheckTimer.unref();
  }

  /** Stops every run whose record asks for it. */
  async recheck(): Promise<void> {
    const ops = [...this.running.values()].map((run) => run.op);
    if (ops.length === 0 || this.rechecking) return;
    this.rechecking = true;
    try {
      for (const ticket of await this.flags(ops)) this.stop(ticket, 'cancel');
    } catch (error) {
      this.onError(error);
    } finally {
      this.rechecking = false;
    }
  }

  /** The controller whose signal stops this ticket's run. */
  register(op: OperationRef): AbortController {
    const controller = new AbortController();
    this.running.set(op.ticket, { op, controller });
    return controller;
  }

  unregister(ticket: string): void {
    this.running.delete(ticket);
  }

  stop(ticket: string, reason: StopReason): void {
    const controller = this.running.get(ticket)?.controller;
    if (controller && !controller.signal.aborted) controller.abort(reason);
  }

  stopAll(reason: StopReason): void {
    for (const ticket of this.running.keys()) this.stop(ticket, reason);
  }

  get size(): number {
    return this.running.size;
  }

  async close(): Promise<void> {
    clearInterval(this.recheckTimer);
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }
}
