/**
 * A token bucket bounding the executor's Kubernetes API request rate (like client-go's QPS and
 * burst), so that a flood of operations cannot overload the API server.
 *
 * When the rate is what limits, requests of operations already under way go before the request
 * that starts another: a burst is then worked through a few operations at a time, each reaching
 * its script (and freeing its slot) soon, instead of every operation advancing together one step
 * per round, each waiting behind all the others' requests at every step. Within each kind, first
 * come, first served.
 */
export type Urgency = 'continues' | 'starts';

export class RateLimiter {
  private tokens: number;
  private last = Date.now();
  private readonly waiting: Record<Urgency, Array<() => void>> = { continues: [], starts: [] };
  private refill: NodeJS.Timeout | undefined;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Resolves when a request may go. */
  take(urgency: Urgency = 'continues'): Promise<void> {
    return new Promise((resolve) => {
      this.waiting[urgency].push(resolve);
      this.serve();
    });
  }

  private serve(): void {
    if (this.refill) return;
    for (let next = this.next(); next; next = this.next()) {
      const now = Date.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
      this.last = now;
      if (this.tokens < 1) {
        this.refill = setTimeout(
          () => {
            this.refill = undefined;
            this.serve();
          },
          Math.ceil(((1 - this.tokens) / this.qps) * 1000),
        );
        return;
      }
      this.tokens -= 1;
      next.shift()!();
    }
  }

  private next(): Array<() => void> | undefined {
    if (this.waiting.continues.length > 0) return this.waiting.continues;
    return this.waiting.starts.length > 0 ? this.waiting.starts : undefined;
  }
}
