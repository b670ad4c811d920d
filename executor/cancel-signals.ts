/**
 * Cancellation reaching the executor that runs an operation: the dispatcher flags the record and
 * publishes the ticket; the executor holding it aborts the run. One subscriber per executor.
 */
import type { Redis } from 'ioredis';
import type { StopReason } from './runtime.js';

export class CancelSignals {
  private readonly running = new Map<string, AbortController>();
  private subscriber: Redis | undefined;

  constructor(private readonly channel: string) {}

  async start(connection: Redis): Promise<void> {
    this.subscriber = connection;
    connection.on('message', (channel: string, ticket: string) => {
      if (channel === this.channel) this.stop(ticket, 'cancel');
    });
    await connection.subscribe(this.channel);
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
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }
}
