/**
 * The executor's BullMQ side: one worker per pool it serves, each handing its deliveries to
 * processOperation and telling BullMQ what became of them. A delivery's lock token is the run's
 * fencing token (process-operation.ts).
 *
 * The workers have a Redis connection of their own, and a watchdog (worker-watchdog.ts): workers
 * that stop taking work (after a failover) are replaced by new ones on a new connection. The old
 * ones take nothing more; what they run goes on — each run records its result through the stores,
 * on the executor's own connection, fenced by its delivery token — and they are closed once it has
 * ended.
 */
import { randomBytes } from 'node:crypto';
import { DelayedError, Queue, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Logger } from '../core/logger.js';
import { queueName, type OperationJobData } from '../core/queue.js';
import type { RedisClient } from '../core/redis.js';
import { processOperation, recordFault, recordStalled, type ProcessDependencies } from './process-operation.js';
import { watchQueueErrors, type QueueErrors } from './queue-errors.js';
import { startWorkerWatchdog, watchdogTimings, type Observation, type WatchdogTimings } from './worker-watchdog.js';

/** How soon a delivery that failed before its claim is tried again. */
const RETRY_UNCLAIMED_MS = 1000;

export interface QueueWorkerSettings {
  /** BullMQ's prefix for a pool's queue (its hash tag, core/keys.ts). */
  queuePrefix(pool: string): string;
  pools: string[];
  concurrency: number;
  lockDurationMs: number;
}

export interface QueueWorkers {
  /** Deliveries being processed, per ticket: more than one when BullMQ hands this executor an operation it is still running (its lock lapsed during an outage or a pause). */
  readonly deliveries: ReadonlyMap<string, number>;
  /** Stops taking work; resolves once the deliveries under way have ended. */
  close(): Promise<void>;
}

export interface QueueConnections {
  /** A new connection for a set of workers (BullMQ duplicates it for its blocking fetches). */
  connect(): RedisClient;
  /** The executor's own connection: the watchdog reads the queues and pings the primary on it. */
  primary: RedisClient;
}

/** The workers of every pool, on one connection: replaced together when the watchdog says so. */
interface Generation {
  redis: RedisClient;
  workers: Worker<OperationJobData, void>[];
  errors: QueueErrors[];
  since: number;
  /** Deliveries these workers are processing. */
  processing: number;
  /** Resolves when `processing` next falls to 0. */
  idle?: () => void;
}

/** How long an old generation's close may take once nothing of it runs: its connection may be gone. */
const RETIRE_CLOSE_MS = 2000;

export function startQueueWorkers(
  settings: QueueWorkerSettings,
  connections: QueueConnections,
  deps: ProcessDependencies,
  log: Logger,
  timings: WatchdogTimings = watchdogTimings(settings.lockDurationMs),
): QueueWorkers {
  const { metrics } = deps;
  const deliveries = new Map<string, number>();
  const runningPerPool = new Map<string, number>();
  const lastTakenAt = new Map<string, number>();

  const processor = async (job: Job<OperationJobData>, token: string | undefined, generation: Generation): Promise<void> => {
    const held = { executor: deps.executorId, pool: job.data.pool };
    metrics.inFlight.inc(held);
    const { ticket, pool } = job.data;
    lastTakenAt.set(pool, Date.now());
    runningPerPool.set(pool, (runningPerPool.get(pool) ?? 0) + 1);
    generation.processing += 1;
    deliveries.set(ticket, (deliveries.get(ticket) ?? 0) + 1);
    const delivery = token ?? `${deps.executorId}:${randomBytes(6).toString('hex')}`;
    try {
      const processed = await process(job, delivery, token);
      if (processed === 'handed-back') {
        // Back to the queue at once: the next executor adopts the running Job.
        await job.moveToWait(token);
        throw new WaitingError();
      }
    } finally {
      metrics.inFlight.dec(held);
      runningPerPool.set(pool, (runningPerPool.get(pool) ?? 1) - 1);
      generation.processing -= 1;
      if (generation.processing === 0) generation.idle?.();
      const left = (deliveries.get(ticket) ?? 1) - 1;
      if (left > 0) deliveries.set(ticket, left);
      else deliveries.delete(ticket);
    }
  };

  /** Processes one delivery; throws what BullMQ must hear (a failed job, a delay). */
  const process = async (job: Job<OperationJobData>, delivery: string, token: string | undefined): Promise<'done' | 'handed-back'> => {
    let processed;
    try {
      processed = await processOperation(job.data, delivery, deps);
    } catch (error) {
      // A fault of this executor's (Redis refused a command, a defect), not an outcome: a failed
      // job is never delivered again, so the operation is ended here, or, when this delivery did
      // not get as far as owning it, delivered again shortly.
      log.error({ err: error, ticket: job.data.ticket }, 'the executor failed while handling an operation');
      if (await recordFault(job.data, delivery, error as Error, deps)) throw new UnrecoverableError((error as Error).message);
      await job.moveToDelayed(Date.now() + RETRY_UNCLAIMED_MS, token);
      throw new DelayedError();
    }
    if (processed.kind === 'handed-back') return 'handed-back';
    if (processed.kind === 'skipped') {
      if (processed.refused) throw new UnrecoverableError(processed.why);
      return 'done';
    }
    // A failed or cancelled operation fails its job, so the dashboard shows it as failed; it is an
    // outcome, never something to retry. The result itself is in the record, not in the job.
    const { outcome } = processed;
    if (outcome.state !== 'succeeded') throw new UnrecoverableError(`${outcome.state}: ${outcome.failure?.message ?? `exit code ${outcome.exitCode}`}`);
    return 'done';
  };

  const makeWorker = (pool: string, generation: Generation): Worker<OperationJobData, void> => {
    const worker = new Worker<OperationJobData, void>(queueName(pool), (job, token) => processor(job, token, generation), {
      connection: generation.redis,
      prefix: settings.queuePrefix(pool),
      concurrency: settings.concurrency,
      lockDuration: settings.lockDurationMs,
      stalledInterval: Math.max(500, Math.floor(settings.lockDurationMs / 2)),
      maxStalledCount: 1,
    });
    const poolErrors = watchQueueErrors(worker, log.child({ pool }));
    generation.errors.push(poolErrors);
    worker.on('error', (error) => {
      metrics.redisErrors.inc({ component: 'executor' });
      poolErrors.report(error);
    });
    worker.on('failed', (job, error) => {
      // A job that stalled past its limit is failed by BullMQ when next fetched, without reaching
      // processOperation; it is ended through the same writer, so that every accepted operation
      // reaches a final state.
      if (job?.deferredFailure) {
        void recordStalled(job.data, error.message, deps).catch((err: unknown) =>
          log.error({ err, ticket: job.data.ticket }, 'could not record a lost operation'),
        );
      }
    });
    return worker;
  };

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
          running: runningPerPool.get(pool) ?? 0,
          paused: queuePaused || current.workers[index]!.isPaused(),
          lastTakenAt: lastTakenAt.get(pool) ?? 0,
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
    deliveries,
    async close() {
      watchdog.stop();
      for (const poolErrors of current.errors) poolErrors.close();
      await Promise.allSettled([...current.workers.map((w) => w.close()), ...retiring]);
      await Promise.allSettled([...queues.values()].map((q) => q.close()));
      await current.redis.quit().catch(() => current.redis.disconnect());
    },
  };
}
