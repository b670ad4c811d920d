/**
 * The lifetime of an executor's queue workers. The workers of every pool share one Redis connection
 * of their own: a generation. A watchdog (worker-watchdog.ts) looks at the queues on the executor's
 * own connection, and when the workers have stopped taking work (after a failover) the generation
 * is replaced by a new one on a new connection. The old one takes nothing more; what it runs goes
 * on — each run records its result through the stores, on the executor's own connection, fenced by
 * its delivery token — and it is closed once that has ended.
 *
 * What a worker does with a delivery is queue-workers.ts's.
 */
import { Queue, type Worker } from 'bullmq';
import type { Logger } from '../core/logger.js';
import type { ExecutorMetrics } from '../core/metrics.js';
import { queueName, type OperationJobData } from '../core/queue.js';
import type { RedisClient } from '../core/redis.js';
import type { QueueErrors } from './queue-errors.js';
import { startWorkerWatchdog, type Observation, type WatchdogTimings } from './worker-watchdog.js';

export interface QueueConnections {
  /** A new connection for a set of workers (BullMQ duplicates it for its blocking fetches). */
  connect(): RedisClient;
  /** The executor's own connection: the watchdog reads the queues and pings the primary on it. */
  primary: RedisClient;
}

/** The workers of every pool, on one connection: replaced together when the watchdog says so. */
export interface Generation {
  redis: RedisClient;
  workers: Worker<OperationJobData, void>[];
  errors: QueueErrors[];
  since: number;
  /** Deliveries these workers are processing. */
  processing: number;
  /** Resolves when `processing` next falls to 0. */
  idle?: () => void;
}

export interface GenerationSettings {
  /** BullMQ's prefix for a pool's queue (its hash tag, core/keys.ts). */
  queuePrefix(pool: string): string;
  pools: string[];
  concurrency: number;
}

/** What the watchdog reads of the deliveries, per pool (queue-workers.ts keeps it). */
export interface PoolActivity {
  running(pool: string): number;
  lastTakenAt(pool: string): number;
}

export interface Generations {
  /** Stops replacing; closes the current workers once their deliveries have ended, and the old ones still retiring. */
  close(): Promise<void>;
}

/** How long an old generation's close may take once nothing of it runs: its connection may be gone. */
const RETIRE_CLOSE_MS = 2000;

/** `makeWorker` makes one pool's worker in a generation, on its connection, and adds its errors to it. */
export function startGenerations(
  settings: GenerationSettings,
  connections: QueueConnections,
  makeWorker: (pool: string, generation: Generation) => Worker<OperationJobData, void>,
  activity: PoolActivity,
  timings: WatchdogTimings,
  metrics: Pick<ExecutorMetrics, 'workerRestarts'>,
  log: Logger,
): Generations {
  const startGeneration = (): Generation => {
    const redis = connections.connect();
    // Errors are the workers' to report (through their own 'error' events).
    redis.on('error', () => undefined);
    const generation: Generation = { redis, workers: [], errors: [], since: Date.now(), processing: 0 };
    generation.workers = settings.pools.map((pool) => makeWorker(pool, generation));
    return generation;
  };

  /** Old workers take nothing more; once what they run has ended, they and their connection are closed. */
  const retire = async (old: Generation): Promise<void> => {
    for (const worker of old.workers) void worker.pause(true).catch(() => undefined);
    if (old.processing > 0) await new Promise<void>((resolve) => (old.idle = resolve));
    for (const poolErrors of old.errors) poolErrors.close();
    const closed = Promise.allSettled(old.workers.map((w) => w.close(true)));
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, RETIRE_CLOSE_MS).unref())]);
    old.redis.disconnect();
  };

  let current = startGeneration();
  const retiring = new Set<Promise<void>>();

  // The queues, on the executor's own connection, for the watchdog's reads.
  const queues = new Map(
    settings.pools.map((pool) => [pool, new Queue(queueName(pool), { connection: connections.primary, prefix: settings.queuePrefix(pool) })]),
  );
  for (const queue of queues.values()) queue.on('error', () => undefined);
  const observe = async (): Promise<Observation> => {
    const pools = await Promise.all(
      settings.pools.map(async (pool, index) => {
        const queue = queues.get(pool)!;
        const [waiting, queuePaused] = await Promise.all([queue.getWaitingCount(), queue.isPaused()]);
        return {
          pool,
          waiting,
          running: activity.running(pool),
          paused: queuePaused || current.workers[index]!.isPaused(),
          lastTakenAt: activity.lastTakenAt(pool),
        };
      }),
    );
    const primaryAnswers = await connections.primary.ping().then(
      () => true,
      () => false,
    );
    return { now: Date.now(), connection: current.redis.status, since: current.since, primaryAnswers, concurrency: settings.concurrency, pools };
  };
  const watchdog = startWorkerWatchdog(
    timings,
    observe,
    async (why) => {
      metrics.workerRestarts.inc();
      log.warn({ reason: why, running: current.processing }, 'the queue workers stopped taking work; replacing them on a new connection');
      const old = current;
      current = startGeneration();
      const retired = retire(old).catch((error: unknown) => log.warn({ err: error }, 'error while closing replaced queue workers'));
      retiring.add(retired);
      void retired.finally(() => retiring.delete(retired));
    },
    log,
  );

  return {
    async close() {
      watchdog.stop();
      for (const poolErrors of current.errors) poolErrors.close();
      await Promise.allSettled([...current.workers.map((w) => w.close()), ...retiring]);
      await Promise.allSettled([...queues.values()].map((q) => q.close()));
      await current.redis.quit().catch(() => current.redis.disconnect());
    },
  };
}
