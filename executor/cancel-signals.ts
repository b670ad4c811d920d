/**
 * Cancellation reaching the executor that runs an operation: the dispatcher flags the record and
 * publishes the ticket; the executor holding it aborts the run. One subscriber per executor.
 *
 * A message is lost when it is published while the subscriber is away (a reconnect), so the record's
 * flag is the truth and the message only makes it quick: the flags of every running operation are
 * read again after each (re)subscription and every RECHECK_MS.
 */
import type { Redis } from 'ioredis';
import type { StopReason } from './runtime.js';

/** The longest a cancel whose message was lost waits to be noticed. */
const RECHECK_MS = 2000;

/** Those of `tickets` whose record says cancel. */
export type CancelFlags = (tickets: readonly string[]) => Promise<string[]>;

export class CancelSignals {
  private readonly running = new Map<string, AbortController>();
  private subscriber: Redis | undefined;
  private recheckTimer: NodeJS.Timeout | undefined;
  /** While Redis is away a read waits for it; one at a time, not one per tick. */
  private rechecking = false;

  /** `onError`: a recheck that could not read the flags (it is tried again at the next one). */
  constructor(
    private readonly channel: string,
    private readonly flags: CancelFlags,
    private readonly onError: (error: unknown) => void,
  ) {}

  async start(connection: Redis): Promise<void> {
    this.subscriber = connection;
    connection.on('message', (channel: string, ticket: string) => {
      if (channel === this.channel) this.stop(ticket, 'cancel');
    });
    // ioredis subscribes again by itself after a reconnect; what was published meanwhile is gone.
    connection.on('ready', () => void this.recheck());
    await connection.subscribe(this.channel);
    this.recheckTimer = setInterval(() => void this.recheck(), RECHECK_MS);
    this.recheckTimer.unref();
  }

  /** Stops every run whose record asks for it. */
  async recheck(): Promise<void> {
    const tickets = [...this.running.keys()];
    if (tickets.length === 0 || this.rechecking) return;
    this.rechecking = true;
    try {
      for (const ticket of await this.flags(tickets)) this.stop(ticket, 'cancel');
    } catch (error) {
      this.onError(error);
    } finally {
      this.rechecking = false;
    }
  }

  /** The controller whose signal stops this ticket's run. */
  register(ticket: string): AbortController {
    const controller = new AbortController();
    this.running.set(ticket, controller);
    return controller;
  }

  unregister(ticket: string): void {
    this.running.delete(ticket);
  }

  stop(ticket: string, reason: StopReason): void {
    const controller = this.running.get(ticket);
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
