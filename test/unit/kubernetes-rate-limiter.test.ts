import { describe, expect, it, vi } from 'vitest';
import { RateLimiter, type Urgency } from '../../executor/kubernetes/rate-limiter.js';

/** Takes a token for each request in order and gives the order they were let go in. */
async function order(limiter: RateLimiter, requests: Array<[string, Urgency]>): Promise<string[]> {
  const gone: string[] = [];
  await Promise.all(requests.map(([name, urgency]) => limiter.take(urgency).then(() => void gone.push(name))));
  return gone;
}

describe("the executor's Kubernetes API rate limit", () => {
  it('lets a burst go at once, then one request per 1/QPS', async () => {
    vi.useFakeTimers();
    try {
      const limiter = new RateLimiter(50, 3);
      const gone: string[] = [];
      for (const name of ['a', 'b', 'c', 'd', 'e']) void limiter.take().then(() => void gone.push(name));
      await vi.advanceTimersByTimeAsync(0);
      expect(gone).toEqual(['a', 'b', 'c']);
      await vi.advanceTimersByTimeAsync(19);
      expect(gone).toEqual(['a', 'b', 'c']);
      await vi.advanceTimersByTimeAsync(1);
      expect(gone).toEqual(['a', 'b', 'c', 'd']);
      await vi.advanceTimersByTimeAsync(20);
      expect(gone).toEqual(['a', 'b', 'c', 'd', 'e']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('serves the requests of operations under way before the one starting another, each kind in order', async () => {
    // The clock stands still while the requests queue up: no token comes between two of them.
    vi.useFakeTimers();
    try {
      const limiter = new RateLimiter(200, 1);
      const gone = order(limiter, [
        ['start 1', 'starts'],
        ['start 2', 'starts'],
        ['secret of 1', 'continues'],
        ['start 3', 'starts'],
        ['resume 1', 'continues'],
      ]);
      await vi.advanceTimersByTimeAsync(100);
      expect(await gone).toEqual(['start 1', 'secret of 1', 'resume 1', 'start 2', 'start 3']);
    } finally {
      vi.useRealTimers();
    }
  });
});
