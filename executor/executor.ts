/**
 * An executor: one BullMQ worker per pool it serves, each running up to `concurrency` operations.
 * Shutdown stops taking work, hands back at once what has not started (operations waiting for their
 * mutex, or for a previous executor), lets running operations finish for the grace period, then
 * stops them (or, where the runtime can, hands them back), and closes connections — never throwing,
 * and never waiting on an unreachable Redis: once nothing runs here, closing gets a few seconds.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Config } from '../core/config.js';
import { ExecutorRegistry, HEARTBEAT_MS } from '../core/executor-registry.js';
import { keys as redisKeys } from '../core/keys.js';
import type { Logger } from '../core/logger.js';
import type { ExecutorMetrics } from '../core/metrics.js';
import { LogStore } from '../core/log-store.js';
import { OperationStore } from '../core/operation-store.js';
import { queueName, type OperationJobData } from '../core/queue.js';
import { connectRedis, type Redis } from '../core/redis.js';
import { VERSION } from '../core/version.js';
import { CancelSignals } from './cancel-signals.js';
import { Mutexes } from './isolation/mutex.js';
import { awaitPreviousRun } from './previous-run.js';
import { processOperation, recordFault, recordStalled, type ProcessDependencies } from './process-operation.js';
import { watchQueueErrors } from './queue-errors.js';
import { HandBackError, type Runtime } from './runtime.js';

/** How long closing may take once nothing runs here: Redis may be away. */
const CLOSE_MS = 2000;

/** How soon a delivery that failed before its claim is tried again. */
const RETRY_UNCLAIMED_MS = 1000;

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether Redis answers a PING within a second (a stopped one refuses; a frozen one is silent). */
const answers = (redis: Redis): Promise<boolean> =>
  Promise.race([redis.ping().then(() => true, () => false), delay(1000).then(() => false)]);

export type ExecutorSettings = Pick<
  Config,
  'prefix' | 'pools' | 'concurrency' | 'logMaxLines' | 'logMaxBytes' | 'retentionSeconds' | 'defaultTimeoutSeconds' | 'lockDurationMs' | 'shutdownGraceSeconds'
> & { redisUrl: string };

export interface Executor {
  readonly id: string;
  /** Operations running right now. */
  readonly inFlight: number;
  close(): Promise<void>;
}

/** Makes the executor's runtime; given the stores, which a runtime may need to resume a run. */
export type RuntimeFactory = (stores: { operations: OperationStore; logs: LogStore }) => Promise<Runtime>;

/** `metrics` is made by the caller, which also hands it to the runtime (Kubernetes requests) and serves it. */
export async function startExecutor(settings: ExecutorSettings, createRuntime: RuntimeFactory, logger: Logger, metrics: ExecutorMetrics): Promise<Executor> {
  const id = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const log = logger.child({ executor: id });
  const keys = redisKeys(settings.prefix);
  const redis = connectRedis(settings.redisUrl, 'kube-worker-executor');
  let connectedSince = Date.now();
  redis.on('ready', () => (connectedSince = Date.now()));
  const store = new OperationStore(redis, keys);
  const logs = new LogStore(redis, keys);
  const registry = new ExecutorRegistry(redis, keys);
  let runtime: Runtime;
  try {
    runtime = await createRuntime({ operations: store, logs });
  } catch (error) {
    // Say why on /api/v1/worker too, not only in this process's log.
    await registry.refuse(id, (error as Error).message).catch(() => undefined);
    await redis.quit().catch(() => undefined);
    throw error;
  }
  const cancels = new CancelSignals(keys.cancelChannel, (tickets) => store.cancelsRequested(tickets), (error) => log.warn({ err: error }, 'could not read cancel flags; trying again'));
  const cancelConnection = connectRedis(settings.redisUrl, 'kube-worker-executor-cancel');
  // The workers report errors of the shared connection; this one is the executor's alone.
  cancelConnection.on('error', () => metrics.redisErrors.inc({ component: 'executor' }));
  await cancels.start(cancelConnection);
  const stopping = new AbortController();
  // Deliveries being processed here, per ticket: more than one when BullMQ hands this executor an
  // operation it is still running (its lock lapsed during an outage or a pause).
  const deliveries = new Map<string, number>();

  const deps: ProcessDependencies = {
    executorId: id,
    store,
    logs,
    // The lease outlives the queue lock that protects the run, so a run always has one or the other.
    mutexes: new Mutexes(redis, keys, { leaseMs: 2 * settings.lockDurationMs, closing: stopping.signal }),
    cancels,
    previousRun: (ticket, previousExecutor) =>
      awaitPreviousRun(ticket, previousExecutor, { executorId: id, store, registry, runningHere: (t) => (deliveries.get(t) ?? 0) > 1, connectedSince: () => connectedSince, closing: stopping.signal }),
    runtime,
    logger: log,
    metrics,
    settings,
  };

  const processor = async (job: Job<OperationJobData>, token?: string): Promise<void> => {
    const held = { executor: id, pool: job.data.pool };
    metrics.inFlight.inc(held);
    const { ticket } = job.data;
    deliveries.set(ticket, (deliveries.get(ticket) ?? 0) + 1);
    // BullMQ's lock token is new for each delivery: the run's fencing token (process-operation.ts).
    const delivery = token ?? `${id}:${randomBytes(6).toString('hex')}`;
    try {
      const processed = await processOperation(job.data, delivery, deps);
      if (processed.kind === 'skipped') {
        if (processed.refused) throw new UnrecoverableError(processed.why);
        return;
      }
      // A failed or cancelled operation fails its job, so the dashboard shows it as failed; it is an
      // outcome, never something to retry. The result itself is in the record, not in the job.
      const { outcome } = processed;
      if (outcome.state !== 'succeeded') throw new UnrecoverableError(`${outcome.state}: ${outcome.failure?.message ?? `exit code ${outcome.exitCode}`}`);
    } catch (error) {
      if (error instanceof UnrecoverableError) throw error;
      if (error instanceof HandBackError) {
        // Back to the queue at once: the next executor adopts the running Job.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      // A fault of this executor's (Redis refused a command, a defect), not an outcome: a failed
      // job is never delivered again, so the operation is ended here, or, when this delivery did
      // not get as far as owning it, delivered again shortly.
      log.error({ err: error, ticket }, 'the executor failed while handling an operation');
      if (await recordFault(job.data, delivery, error as Error, deps)) throw new UnrecoverableError((error as Error).message);
      await job.moveToDelayed(Date.now() + RETRY_UNCLAIMED_MS, token);
      throw new DelayedError();
    } finally {
      metrics.inFlight.dec(held);
      const left = (deliveries.get(ticket) ?? 1) - 1;
      if (left > 0) deliveries.set(ticket, left);
      else deliveries.delete(ticket);
    }
  };

  const queueErrors: { close(): void }[] = [];
  const workers = settings.pools.map((pool) => {
    const worker = new Worker<OperationJobData, void>(queueName(pool), processor, {
      connection: redis,
      prefix: settings.prefix,
      concurrency: settings.concurrency,
      lockDuration: settings.lockDurationMs,
      stalledInterval: Math.max(500, Math.floor(settings.lockDurationMs / 2)),
      maxStalledCount: 1,
    });
    const errors = watchQueueErrors(worker, log.child({ pool }));
    queueErrors.push(errors);
    worker.on('error', (error) => {
      metrics.redisErrors.inc({ component: 'executor' });
      errors.report(error);
    });
    worker.on('failed', (job, error) => {
      // A job that stalled past its limit never reaches processOperation again; it is ended
      // through the same writer, so that every accepted operation reaches a final state.
      if (job && /stalled/i.test(error.message)) {
        void recordStalled(job.data, error.message, deps).catch((err: unknown) => log.error({ err, ticket: job.data.ticket }, 'could not record a lost operation'));
      }
    });
    return worker;
  });

  const info = { id, pools: settings.pools, runtime: runtime.name, concurrency: settings.concurrency, version: VERSION, problems: [] };
  let beating = false;
  const beat = (): void => {
    // One at a time: while Redis is away they would queue up behind each other.
    if (beating) return;
    beating = true;
    registry
      .beat(info, [...deliveries.keys()])
      .catch((error: unknown) => log.warn({ err: error }, 'heartbeat failed'))
      .finally(() => (beating = false));
  };
  beat();
  const heartbeat = setInterval(beat, HEARTBEAT_MS);
  heartbeat.unref();
  log.info({ pools: settings.pools, concurrency: settings.concurrency, runtime: runtime.name }, 'executor started');

  let closing: Promise<void> | undefined;
  return {
    id,
    get inFlight() {
      return cancels.size;
    },
    close: () => (closing ??= shutdown()),
  };

  async function shutdown(): Promise<void> {
    log.info({ running: cancels.size }, 'executor stopping: taking no more work');
    clearInterval(heartbeat);
    for (const errors of queueErrors) errors.close();
    // Waiters hand their operations back at once: nothing of them has started here.
    stopping.abort();
    const drained = Promise.allSettled(workers.map((w) => w.close())).then(() => true);
    // A runtime that can hand runs over does so at once; scripts go on and are adopted elsewhere.
    if (runtime.handsBackOnShutdown) cancels.stopAll('shutdown');
    const grace = setTimeout(() => {
      log.warn({ running: cancels.size }, `operations still running after ${settings.shutdownGraceSeconds}s; stopping them`);
      cancels.stopAll('shutdown');
    }, settings.shutdownGraceSeconds * 1000);
    // BullMQ's close waits for Redis for ever (taskforcesh/bullmq#4656): once nothing runs here and
    // Redis does not answer, it gets a moment more, and then the connections are cut.
    let drainedYet = false;
    const stuck = (async () => {
      while (!drainedYet && (cancels.size > 0 || (await answers(redis)))) await delay(250);
      await delay(CLOSE_MS);
      return false;
    })();
    const clean = await Promise.race([drained, stuck]);
    drainedYet = true;
    if (!clean) log.warn('the queue did not close: Redis does not answer; disconnecting');
    clearTimeout(grace);
    const steps = [() => registry.remove(id), () => cancels.close(), () => runtime.close(), () => redis.quit().then(() => undefined)];
    const closed = await Promise.race([
      (async () => {
        for (const step of steps) await step().catch((error: unknown) => log.warn({ err: error }, 'error while closing'));
        return true;
      })(),
      delay(CLOSE_MS).then(() => false),
    ]);
    if (!closed) log.warn('could not close cleanly (is Redis reachable?); disconnecting');
    redis.disconnect();
    cancelConnection.disconnect();
    log.info('executor stopped');
  }
}
