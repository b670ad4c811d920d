/**
 * How an executor stops, never throwing and never waiting on an unreachable Redis: it stops taking
 * work, hands back at once what has not started (operations waiting for their mutex, or for a
 * previous executor), lets running operations finish for the grace period, then stops them (or,
 * where the runtime can, hands them back), and closes connections one after another — once nothing
 * runs here, closing gets a few seconds.
 */
import { delay } from '../core/delay.js';
import type { ExecutorRegistry } from '../core/executor-registry.js';
import type { Logger } from '../core/logger.js';
import type { RedisClient } from '../core/redis.js';
import type { CancelSignals } from './cancel-signals.js';
import type { Heartbeat } from './heartbeat.js';
import type { QueueWorkers } from './queue-workers.js';
import type { Runtime } from './runtime.js';

/** How long closing may take once nothing runs here: Redis may be away. */
const CLOSE_MS = 2000;

export interface RunningExecutor {
  id: string;
  redis: RedisClient;
  cancelConnection: RedisClient;
  /** The replica check's own connection. */
  replicas: { close(): void };
  registry: ExecutorRegistry;
  runtime: Runtime;
  cancels: CancelSignals;
  heartbeat: Heartbeat;
  workers: QueueWorkers;
  /** Aborted first: waiters hand their operations back at once, since nothing of them started here. */
  stopping: AbortController;
  shutdownGraceSeconds: number;
  log: Logger;
}

/** Whether Redis answers a PING within a second (a stopped one refuses; a frozen one is silent). */
const answers = (redis: RedisClient): Promise<boolean> =>
  Promise.race([
    redis.ping().then(
      () => true,
      () => false,
    ),
    delay(1000).then(() => false),
  ]);

export async function shutDown(executor: RunningExecutor): Promise<void> {
  const { redis, runtime, cancels, log } = executor;
  log.info({ running: cancels.size }, 'executor stopping: taking no more work');
  executor.heartbeat.stop();
  executor.stopping.abort();
  const drained = executor.workers.close().then(() => true);
  // A runtime that can hand runs over does so at once; scripts go on and are adopted elsewhere.
  if (runtime.handsBackOnShutdown) cancels.stopAll('shutdown');
  const grace = setTimeout(() => {
    log.warn({ running: cancels.size }, `operations still running after ${executor.shutdownGraceSeconds}s; stopping them`);
    cancels.stopAll('shutdown');
  }, executor.shutdownGraceSeconds * 1000);
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
  const steps = [() => executor.registry.remove(executor.id), () => cancels.close(), () => runtime.close(), () => redis.quit().then(() => undefined)];
  const closed = await Promise.race([
    (async () => {
      for (const step of steps) await step().catch((error: unknown) => log.warn({ err: error }, 'error while closing'));
      return true;
    })(),
    delay(CLOSE_MS).then(() => false),
  ]);
  if (!closed) log.warn('could not close cleanly (is Redis reachable?); disconnecting');
  redis.disconnect();
  executor.cancelConnection.disconnect();
  executor.replicas.close();
  log.info('executor stopped');
}
