/**
 * What an executor does with its queue's errors. BullMQ reports an error that is not a lost
 * connection and tries again at once: a queue whose keys are damaged (WRONGTYPE) fails thousands of
 * times a second. So an error is logged when it first appears; its repeats are counted and said
 * once with the count; and when errors come in a tight loop, the pool's worker stops fetching for
 * a while (1 s, doubling to 30 s) — operations it is running go on.
 */
import type { Worker } from 'bullmq';
import { backoffMs } from '../core/delay.js';
import type { Logger } from '../core/logger.js';

/** This many errors within TIGHT_LOOP_MS is a loop, not bad luck: back off. */
const TIGHT_LOOP_ERRORS = 10;
const TIGHT_LOOP_MS = 1000;
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
/** Repeats of the same error are summed up at most this often. */
const SUMMARY_MS = 30_000;

export interface QueueErrors {
  report(error: Error): void;
  /** Says how often the last error repeated, and stops backing off. */
  close(): void;
}

export function watchQueueErrors(worker: Pick<Worker, 'pause' | 'resume'>, log: Logger): QueueErrors {
  let last: { message: string; repeated: number; since: number } | undefined;
  let recent: number[] = [];
  let lastAt = 0;
  let backoffs = 0;
  let resumeTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const summarize = (): void => {
    if (!last || last.repeated === 0) return;
    const seconds = Math.round((Date.now() - last.since) / 1000);
    log.error({ error: last.message, repeated: last.repeated }, `the same queue error repeated ${last.repeated} times in ${seconds}s`);
    last = { ...last, repeated: 0, since: Date.now() };
  };
  const summary = setInterval(summarize, SUMMARY_MS);
  summary.unref();

  const backOff = (): void => {
    if (resumeTimer || closed) return;
    const delay = backoffMs(backoffs, FIRST_BACKOFF_MS, MAX_BACKOFF_MS);
    backoffs += 1;
    log.warn({ backoffMs: delay }, `queue errors in a tight loop: fetching no new operations for ${delay / 1000}s`);
    void worker.pause(true).catch(() => undefined);
    resumeTimer = setTimeout(() => {
      resumeTimer = undefined;
      if (!closed) worker.resume();
    }, delay);
    resumeTimer.unref();
  };

  return {
    report(error) {
      const now = Date.now();
      // A quiet spell since the last error: a new loop starts from the shortest pause again.
      if (now - lastAt > MAX_BACKOFF_MS * 2) backoffs = 0;
      lastAt = now;
      if (last?.message === error.message) last.repeated += 1;
      else {
        summarize();
        last = { message: error.message, repeated: 0, since: now };
        log.error({ err: error }, 'queue error');
      }
      recent = [...recent.filter((at) => now - at < TIGHT_LOOP_MS), now];
      if (recent.length >= TIGHT_LOOP_ERRORS) {
        recent = [];
        backOff();
      }
    },
    close() {
      closed = true;
      clearInterval(summary);
      clearTimeout(resumeTimer);
      summarize();
    },
  };
}
