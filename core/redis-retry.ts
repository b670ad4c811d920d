/**
 * Asking Redis again while it cannot answer (restarting, failing over, a cluster moving a slot):
 * the one retry loop of every step an operation cannot do without, from its claim to its result.
 * A step given up on in an outage would fail an operation whose executor is alive, or leave it
 * running for ever. Only Redis's unavailability is retried; any other error is the caller's.
 *
 * A step retried must be safe to send twice: its reply may be lost after Redis did it.
 */
import { backoffMs, delay } from './delay.js';
import type { Logger } from './logger.js';
import { isRedisUnavailable } from './redis.js';

/** The wait between tries: from the first, doubling, to the most. */
export const REDIS_RETRY_MS = { first: 250, max: 5000 };

export interface RetryOptions {
  log: Logger;
  /** What the step does, for the warning: "take the result", "confirm the claim". */
  doing: string;
  /** Stops the retries: the last error is thrown then. */
  signal?: AbortSignal;
}

/** `step`'s answer, asked again for as long as Redis is unavailable (or until `signal` aborts). */
export async function untilRedisAnswers<T>(step: () => Promise<T>, { log, doing, signal }: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await step();
    } catch (error) {
      if (!(error instanceof Error) || !isRedisUnavailable(error) || signal?.aborted) throw error;
      const retryInMs = backoffMs(attempt, REDIS_RETRY_MS.first, REDIS_RETRY_MS.max);
      log.warn({ err: error, retryInMs }, `Redis cannot ${doing} now; trying again`);
      await delay(retryInMs, ...(signal ? [signal] : []));
    }
  }
}
