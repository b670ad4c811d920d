/**
 * The watchdog of an executor's queue workers. After a failover a BullMQ worker can stop taking
 * work for good while `isRunning()` stays true: its connection ended (ioredis's terminal state
 * 'end', which nothing reconnects) or its blocking fetch is wedged (taskforcesh/bullmq #3088,
 * #3185, #4378). The maintainers' advice is a watchdog in the application; this is it.
 *
 * It looks every `checkMs` and asks for new workers (worker-generations.ts makes them, on a new
 * connection) when:
 * - the workers' connection has ended; or
 * - a pool has had operations waiting for `stallMs` while its worker had room for more, took none,
 *   and was not paused — and the primary answered a PING meanwhile, so it is the worker that is
 *   stuck, not Redis that is away.
 *
 * `diagnose` decides from what was observed (pure); `startWorkerWatchdog` gathers it.
 */
import type { Logger } from '../core/logger.js';

export interface PoolObservation {
  pool: string;
  /** Jobs in the pool's wait list now. */
  waiting: number;
  /** Operations this executor runs (or holds) for the pool now. */
  running: number;
  /** Whether the worker or the queue is paused (by the error backoff, or from the dashboard). */
  paused: boolean;
  /** When the pool's worker last took an operation (ms; 0: never). */
  lastTakenAt: number;
}

export interface Observation {
  now: number;
  /** The workers' connection status (ioredis). */
  connection: string;
  /** When the current workers were made (ms). */
  since: number;
  /** Whether the primary answered a PING just now. */
  primaryAnswers: boolean;
  concurrency: number;
  pools: PoolObservation[];
}

/** Per pool: since when operations have waited with no take (ms). Carried from one check to the next. */
export type WaitingSince = Map<string, number>;

/** Why the workers must be made again, or undefined while they are well. Updates `waitingSince`. */
export function diagnose(observation: Observation, waitingSince: WaitingSince, stallMs: number): string | undefined {
  if (observation.connection === 'end') return "the workers' Redis connection has ended";
  for (const pool of observation.pools) {
    const starved = pool.waiting > 0 && pool.running < observation.concurrency && !pool.paused;
    const since = waitingSince.get(pool.pool);
    if (!starved || (since !== undefined && pool.lastTakenAt >= since)) {
      if (starved) waitingSince.set(pool.pool, observation.now);
      else waitingSince.delete(pool.pool);
      continue;
    }
    if (since === undefined) {
      waitingSince.set(pool.pool, observation.now);
      continue;
    }
    const stalled = observation.now - Math.max(since, observation.since) >= stallMs;
    if (stalled && observation.primaryAnswers) {
      return `pool ${pool.pool}: ${pool.waiting} operations waited ${Math.round((observation.now - since) / 1000)}s while its worker had room and took none`;
    }
  }
  return undefined;
}

export interface WatchdogTimings {
  checkMs: number;
  stallMs: number;
}

/**
 * The watchdog's timings for an executor's queue lock: a stall is a third of it, between 7 and 15 s.
 * Never under 7 s: an idle BullMQ worker may sleep up to its drainDelay (5 s) before it sees a job
 * put back in the queue (a stalled one), and that is not a stall.
 */
export function watchdogTimings(lockDurationMs: number): WatchdogTimings {
  const stallMs = Math.min(15_000, Math.max(7_000, Math.floor(lockDurationMs / 3)));
  return { stallMs, checkMs: Math.floor(stallMs / 4) };
}

export interface Watchdog {
  stop(): void;
}

/** Checks every `checkMs`; calls `recreate` (awaited, one at a time) when `diagnose` says so. */
export function startWorkerWatchdog(
  timings: WatchdogTimings,
  observe: () => Promise<Observation>,
  recreate: (why: string) => Promise<void>,
  log: Logger,
): Watchdog {
  const waitingSince: WaitingSince = new Map();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const check = async (): Promise<void> => {
    try {
      const why = diagnose(await observe(), waitingSince, timings.stallMs);
      if (why && !stopped) {
        waitingSince.clear();
        await recreate(why);
      }
    } catch (error) {
      // Redis did not answer what the check asked: nothing to decide from.
      log.debug({ err: error }, 'the queue watchdog could not look');
    }
    if (!stopped) timer = setTimeout(() => void check(), timings.checkMs);
  };
  timer = setTimeout(() => void check(), timings.checkMs);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
