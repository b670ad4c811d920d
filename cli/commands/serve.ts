/**
 * The server commands: `start` (dispatcher and executor in one process, the embedded default, with
 * one metrics registry served on the API's /metrics), `dispatcher` and `executor` (which serves its
 * metrics on a port of its own).
 */
import type { Config } from '../../core/config.js';
import { createLogger, type Logger } from '../../core/logger.js';
import type { Tracing } from '../../core/tracing.js';
import { startTracing } from '../../core/tracing-start.js';
import { createExecutorMetrics, createProcessMetrics, type ExecutorMetrics } from '../../core/metrics.js';
import { buildDispatcher, type Dispatcher } from '../../dispatcher/server.js';
import { startExecutor, type Executor } from '../../executor/executor.js';
import { serveMetrics } from '../../executor/metrics-server.js';
import { ensureToken } from '../api-token.js';
import { startPrivateRedis } from '../private-redis.js';
import { runtimeFactory } from '../runtime-choice.js';
import { onShutdown } from '../shutdown.js';
import { outliveRedisFaults } from '../stray-rejections.js';

const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

async function listen(dispatcher: Dispatcher, config: Config): Promise<string> {
  return dispatcher.app.listen({ host: config.host, port: config.port });
}

async function runExecutor(
  config: Config,
  redisUrl: string,
  logger: Logger,
  env: NodeJS.ProcessEnv,
  metrics: ExecutorMetrics,
  tracing: Tracing,
): Promise<Executor> {
  const countKubernetesRequest = (verb: string, code: number): void => metrics.kubernetesRequests.inc({ verb, code: String(code) });
  const runtime = runtimeFactory(config, env, logger, countKubernetesRequest, metrics.warmPods, tracing);
  return startExecutor({ ...config, redisUrl }, runtime, logger, metrics, { tracing });
}

export async function start(config: Config, env: NodeJS.ProcessEnv): Promise<void> {
  const logger = createLogger(config.logLevel, 'kube-worker', 1, config.logFormat);
  outliveRedisFaults(logger);
  const closers: Array<() => Promise<void>> = [];
  let redisUrl = config.redisUrl;
  if (!redisUrl) {
    const redis = await startPrivateRedis(config.stateDir);
    redisUrl = redis.url;
    closers.push(redis.stop);
    logger.info(
      { dir: config.stateDir },
      `private Redis started on the Unix socket ${redis.socket}, with a password and no TCP port (AOF under ${config.stateDir}/redis)`,
    );
  }
  let tokens = config.apiTokens;
  if (tokens.length === 0) {
    const saved = await ensureToken(config.stateDir);
    tokens = [saved.token];
    if (saved.created) process.stdout.write(`\nAPI token (shown once, saved to ${saved.file} for the CLI):\n  ${saved.token}\n\n`);
    else logger.info(`using the API token saved in ${saved.file}`);
  }
  const metrics = createProcessMetrics();
  const tracing = await startTracing(config, 'kube-worker', logger);
  // Last: what the others do while closing is traced too.
  closers.push(() => tracing.shutdown());
  let address: string;
  try {
    const executor = await runExecutor(config, redisUrl, logger, env, createExecutorMetrics(metrics), tracing);
    closers.unshift(() => executor.close());
    const dispatcher = await buildDispatcher({ ...config, apiTokens: tokens, redisUrl }, logger, metrics, tracing);
    // Stop intake first, then let the executor finish or stop what runs, then the private Redis.
    closers.unshift(() => dispatcher.close());
    address = await listen(dispatcher, config);
  } catch (error) {
    // A start that cannot complete leaves nothing running behind it (the private Redis above all).
    for (const close of closers) await close().catch((err: unknown) => logger.warn({ err }, 'error while closing'));
    throw error;
  }
  onShutdown(logger, closers);
  logger.info(`kube-worker is ready on ${address} — try: npx kube-worker submit 'echo hello' --wait`);
}

export async function dispatcher(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel, 'kube-worker-dispatcher', 1, config.logFormat);
  outliveRedisFaults(logger);
  const tracing = await startTracing(config, 'kube-worker-dispatcher', logger);
  const server = await buildDispatcher({ ...config, redisUrl: config.redisUrl ?? DEFAULT_REDIS }, logger, undefined, tracing);
  onShutdown(logger, [() => server.close(), () => tracing.shutdown()]);
  await listen(server, config);
}

export async function executor(config: Config, env: NodeJS.ProcessEnv): Promise<void> {
  const logger = createLogger(config.logLevel, 'kube-worker-executor', 1, config.logFormat);
  outliveRedisFaults(logger);
  const metrics = createProcessMetrics();
  const tracing = await startTracing(config, 'kube-worker-executor', logger);
  const running = await runExecutor(config, config.redisUrl ?? DEFAULT_REDIS, logger, env, createExecutorMetrics(metrics), tracing);
  let closing = false;
  const closers = [
    () => {
      closing = true;
      return running.close();
    },
  ];
  if (config.metricsPort > 0) {
    const server = await serveMetrics(metrics.registry, config.host, config.metricsPort, () => closing).catch(async (error: unknown) => {
      await running.close();
      throw new Error(`cannot serve metrics on ${config.host}:${config.metricsPort} (KUBE_WORKER_METRICS_PORT): ${(error as Error).message}`);
    });
    // Last to close, so that the drain can be watched.
    closers.push(() => server.close());
    logger.info(`executor metrics at http://${config.host}:${server.port}/metrics`);
  } else {
    logger.info('executor metrics not served: KUBE_WORKER_METRICS_PORT is 0');
  }
  closers.push(() => tracing.shutdown());
  onShutdown(logger, closers);
}
