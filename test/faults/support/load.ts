/**
 * Client load for fault tests: `count` operations submitted through several dispatchers by a few
 * clients at once, each client retrying an operation (same ticket, same body) on 503 or a broken
 * connection, as a deployment server would, until it is accepted. A probe meanwhile reads
 * `/readyz` and the status of accepted operations. Every outcome is tallied by the phase the test
 * says it is in ("before", "outage", …), and every answer that is not an allowed one is kept.
 */
import { call, outcomeName, type Outcome } from './client.js';

export interface LoadOptions {
  /** The dispatchers' URLs; clients go round them, so a dead one is skipped on retry. */
  dispatchers: string[];
  count: number;
  /** Clients submitting at once. */
  clients: number;
  /** Pause of a client between two operations, to spread the load over the fault. */
  pauseMs: number;
  /** The operation with this ticket (the ticket is set by the load). */
  operation(ticket: string): Record<string, unknown>;
  ticketPrefix: string;
}

/** Answers a client may see during a fault: success, or 503 while Redis is away. */
const ALLOWED: Record<string, number[]> = {
  submit: [200, 202, 503],
  status: [200, 503],
  readyz: [200, 503],
};

export interface Surprise {
  phase: string;
  what: string;
  outcome: Outcome;
}

export class Load {
  phase = 'before';
  readonly accepted = new Set<string>();
  /** "phase what outcome" → count, e.g. "outage submit 503" → 120. */
  readonly tally = new Map<string, number>();
  /** Requests that got no answer in time. */
  readonly hangs: Surprise[] = [];
  /** The longest any request waited for its answer (or its timeout), ms. */
  longestWaitMs = 0;
  /** Answers outside ALLOWED (a 500, a 409, a 404 for an accepted ticket, …). */
  readonly unexpected: Surprise[] = [];
  readonly done: Promise<void>;
  private next = 0;
  private finished = false;
  private waiters: Array<{ count: number; resolve(): void }> = [];

  constructor(private readonly options: LoadOptions) {
    const clients = Array.from({ length: options.clients }, (_, i) => this.client(i));
    const probe = this.probe();
    this.done = Promise.all(clients).then(async () => {
      this.finished = true;
      await probe;
    });
  }

  ticket(i: number): string {
    return `${this.options.ticketPrefix}-${i}`;
  }

  /** Resolves once `count` operations are accepted. */
  whenAccepted(count: number): Promise<void> {
    if (this.accepted.size >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Calls the API, counting how long the answer took. */
  private async timed(url: string, method: string, route: string, body?: unknown): Promise<Outcome> {
    const started = Date.now();
    const outcome = await call(url, method, route, body);
    this.longestWaitMs = Math.max(this.longestWaitMs, Date.now() - started);
    return outcome;
  }

  private record(what: string, outcome: Outcome): void {
    const key = `${this.phase} ${what} ${outcomeName(outcome)}`;
    this.tally.set(key, (this.tally.get(key) ?? 0) + 1);
    if (outcome.kind === 'timeout') this.hangs.push({ phase: this.phase, what, outcome });
    else if (outcome.kind === 'answer' && !ALLOWED[what.split(' ')[0]!]!.includes(outcome.status)) this.unexpected.push({ phase: this.phase, what, outcome });
  }

  private async client(index: number): Promise<void> {
    const { dispatchers } = this.options;
    for (let i = this.next++; i < this.options.count; i = this.next++) {
      const ticket = this.ticket(i);
      const operation = { ...this.options.operation(ticket), ticket };
      for (let attempt = 0; ; attempt += 1) {
        const outcome = await this.timed(dispatchers[(index + i + attempt) % dispatchers.length]!, 'POST', '/api/v1/operations', operation);
        this.record('submit', outcome);
        if (outcome.kind === 'answer' && (outcome.status === 200 || outcome.status === 202)) break;
        if (attempt > 600) throw new Error(`operation ${ticket} was never accepted; last outcome ${JSON.stringify(outcome)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      this.accepted.add(ticket);
      for (const waiter of this.waiters.filter((w) => this.accepted.size >= w.count)) waiter.resolve();
      await new Promise((r) => setTimeout(r, this.options.pauseMs));
    }
  }

  private async probe(): Promise<void> {
    const { dispatchers } = this.options;
    for (let round = 0; !this.finished; round += 1) {
      const url = dispatchers[round % dispatchers.length]!;
      const accepted = [...this.accepted];
      const reads: Array<Promise<void>> = [this.timed(url, 'GET', '/readyz').then((o) => this.record('readyz', o))];
      if (accepted.length > 0) {
        const ticket = accepted[(round * 7919) % accepted.length]!;
        reads.push(this.timed(url, 'GET', `/api/v1/operations/${ticket}?limit=1`).then((o) => this.record('status', o)));
      }
      await Promise.all(reads);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
