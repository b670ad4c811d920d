/**
 * The executor's BullMQ side: one worker per pool it serves, each handing its deliveries to
 * processOperation and telling BullMQ what became of them. A delivery's lock token is the run's
 * fencing token (process-operation.ts).
 *
 * The workers live in generations that a watchdog replaces when they stop taking work
 * (worker-generations.ts); this file keeps the deliveries, whichever generation took them.
 */
import { randomBytes } from 'node:crypto';
import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Logger } from '../core/logger.js';
import { queueName, type OperationJobData } from '../core/queue.js';
import { processOperation, recordFault, recordStalled, type ProcessDependencies } from './process-operation.js';
import { watchQueueErrors } from './queue-errors.js';
import { startGenerations, type Generation, type QueueConnections } from './worker-generations.js';
import { watchdogTimings, type WatchdogTimings } from './worker-watchdog.js';

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

/** Processes one delivery; throws what BullMQ must hear (a failed job, a delay). */
async function processDelivery(
  job: Job<OperationJobData>,
  delivery: string,
  token: string | undefined,
  deps: ProcessDependencies,
  log: Logger,
): Promise<'done' | 'handed-back'> {
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
}

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
      const processed = await processDelivery(job, delivery, token, deps, log);
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

  const generations = startGenerations(
    settings,
    connections,
    makeWorker,
    { running: (pool) => runningPerPool.get(pool) ?? 0, lastTakenAt: (pool) => lastTakenAt.get(pool) ?? 0 },
    timings,
    metrics,
    log,
  );

  return {
    deliveries,
    close: () => generations.close(),
  };
}
