/** Waiting: the one sleep and the one capped exponential backoff every retry loop uses. */

/** Resolves after `ms`, or as soon as one of `signals` aborts (never rejects). */
export function delay(ms: number, ...signals: AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    if (signals.some((s) => s.aborted)) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      for (const signal of signals) signal.removeEventListener('abort', done);
      resolve();
    }
    for (const signal of signals) signal.addEventListener('abort', done, { once: true });
  });
}

/** The wait before retry number `attempt` (0 for the first): `firstMs`, doubling, never over `maxMs`. */
export const backoffMs = (attempt: number, firstMs: number, maxMs: number): number => Math.min(firstMs * 2 ** Math.min(attempt, 30), maxMs);
