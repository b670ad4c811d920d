/**
 * The dispatcher: a stateless fastify server. Everything it knows lives in Redis, so any replica
 * answers for any ticket. Each concern is a plugin; the API's bearer auth is scoped to `/api`, the
 * dashboard's basic auth to `/dashboard`.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { OperationRequest } from '../core/contract/operation.js';
import { Problem } from '../core/contract/problem.js';
import { QueueDepths } from '../core/contract/queues.js';
import { Accepted, OperationStatus } from '../core/contract/status.js';
import { WorkerHealth } from '../core/contract/worker.js';
import type { Config } from '../core/config.js';
import { delay } from '../core/delay.js';
import { ExecutorRegistry } from '../core/executor-registry.js';
import { keys as redisKeys } from '../core/keys.js';
import type { Logger } from '../core/logger.js';
import { LogStore } from '../core/log-store.js';
import { createProcessMetrics, registerQueueDepth, type ProcessMetrics } from '../core/metrics.js';
import { MAX_PAYLOAD_BYTES } from '../core/operation-rules.js';
import { OperationStore } from '../core/operation-store.js';
import { publish } from '../core/channels.js';
import { connectRedis, duplicateOf, type RedisClient } from '../core/redis.js';
import { parseRedisUrl } from '../core/redis-url.js';
import { ReplicaAcks } from '../core/replica-acks.js';
import { FinishedOperations } from './finished-operations.js';
import type { OperationsDependencies } from './operations.js';
import apiDocs from './plugins/api-docs.js';
import bearerAuth from './plugins/bearer-auth.js';
import dashboard from './plugins/dashboard.js';
import metricsRoute from './plugins/metrics.js';
import problems, { clientErrorHandler, frameworkErrors } from './plugins/problems.js';
import requestBodies from './plugins/request-bodies.js';
import { Follows } from './follows.js';
import { buildValidator } from './validation.js';
import { PoolQueues } from './queues.js';
import healthRoutes from './routes/health.js';
import operationRoutes from './routes/operations.js';
import queueRoutes from './routes/queues.js';
import workerRoutes from './routes/worker.js';
import { NO_TRACING, type Tracing } from '../core/tracing.js';

export type DispatcherSettings = Pick<
  Config,
  | 'prefix'
  | 'apiTokens'
  | 'pools'
  | 'retentionSeconds'
  | 'scriptMaxCpu'
  | 'scriptMaxMemory'
  | 'scriptLimitsCpu'
  | 'scriptLimitsMemory'
  | 'scriptAllowedServiceAccounts'
  | 'packageSources'
  | 'dashboardUser'
  | 'dashboardPassword'
  | 'dashboardWrite'
  | 'shutdownGraceSeconds'
  | 'shutdownDelaySeconds'
  | 'redisCommandTimeoutMs'
  | 'redisSentinelPassword'
  | 'redisWaitMs'
  | 'maxFollows'
  | 'followIdleSeconds'
  | 'requestTimeoutSeconds'
> & { redisUrl: string };

export interface Dispatcher {
  app: FastifyInstance;
  close(): Promise<void>;
}

/** /readyz answers within this, so that a probe's own timeout (1 s by default) never fires first. */
const READY_PING_MS = 500;

/** `promise`, or a rejection once `ms` have passed. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`not done within the shutdown grace period`)), Math.max(ms, 0));
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Files travel as base64 (4/3 larger) inside JSON; the 1 MiB payload limit is checked after parsing. */
const BODY_LIMIT = Math.ceil(MAX_PAYLOAD_BYTES * 1.5) + 64 * 1024;

/** `metrics`: the process's registry when the executor runs in the same process; else one of its own. */
export async function buildDispatcher(
  settings: DispatcherSettings,
  logger: Logger,
  metrics: ProcessMetrics = createProcessMetrics(),
  tracing: Tracing = NO_TRACING,
): Promise<Dispatcher> {
  if (settings.apiTokens.length === 0) throw new Error('the dispatcher needs at least one API token: set KUBE_WORKER_API_TOKEN');
  // Every request waits on Redis: past the command timeout it answers 503 rather than wait for Redis.
  const redis: RedisClient = connectRedis(settings.redisUrl, 'kube-worker-dispatcher', {
    coalesceWrites: true,
    commandTimeoutMs: settings.redisCommandTimeoutMs,
    sentinelPassword: settings.redisSentinelPassword,
  });
  return dispatcherOn(redis, { ...settings, expectReplicas: parseRedisUrl(settings.redisUrl).kind === 'sentinel' }, logger, metrics, tracing);
}

/**
 * The dispatcher on a Redis client it is given; it connects nothing itself, and sends no command
 * before a request asks for one (nor do BullMQ's queues when it serves no pool): so the OpenAPI
 * document can be built from it without a Redis (openapi-document.ts).
 */
/** `expectReplicas`: the Redis is a primary with replicas (Sentinel), so a submission waits for one to confirm it. */
export async function dispatcherOn(
  redis: RedisClient,
  settings: Omit<DispatcherSettings, 'redisUrl'> & { expectReplicas: boolean },
  logger: Logger,
  metrics: ProcessMetrics,
  tracing: Tracing = NO_TRACING,
): Promise<Dispatcher> {
  const keys = redisKeys(settings.prefix);
  const follows = new Follows(settings.maxFollows);
  const countError = (): void => metrics.redisErrors.inc({ component: 'dispatcher' });
  const queues = new PoolQueues(redis, keys, settings.pools, settings.retentionSeconds, countError);
  const finished = new FinishedOperations(
    () => duplicateOf(redis),
    settings.pools.map((pool) => keys.pool(pool).finishedChannel),
    countError,
  );
  registerQueueDepth(metrics, () => queues.depths());
  // A connection of a use's own (the replica check, a follow): its errors are counted like the shared one's.
  const countedConnection = (name?: string): RedisClient => {
    const connection = duplicateOf(redis, name);
    connection.on('error', countError);
    return connection;
  };
  let shuttingDown = false;

  const requestTimeoutMs = settings.requestTimeoutSeconds * 1000;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    // A request (headers and body) must arrive whole within the timeout, or its connection is
    // closed. Node checks every connectionsCheckingInterval (30 s unless set), and uses the larger
    // of the two timeouts for the body when headersTimeout is the larger one: both are set.
    requestTimeout: requestTimeoutMs,
    http: { headersTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.min(1000, requestTimeoutMs) },
    clientErrorHandler: clientErrorHandler(settings.requestTimeoutSeconds),
    frameworkErrors,
    // Each use case logs what matters once; per-request lines would double the intake's cost.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
    schemaController: { compilersFactory: { buildValidator } },
    return503OnClosing: true,
  });
  // Shared: each is validated or serialized by the routes and named in the OpenAPI document.
  for (const schema of [Problem, OperationRequest, Accepted, OperationStatus, QueueDepths, WorkerHealth]) app.addSchema(schema);
  await app.register(problems);
  await app.register(requestBodies);
  await app.register(apiDocs);

  // WAIT blocks its connection: the replica check has one of its own (core/replica-acks.ts).
  const replicas = new ReplicaAcks(countedConnection('kube-worker-dispatcher-replicas'), keys, {
    waitMs: settings.redisWaitMs,
    commandTimeoutMs: settings.redisCommandTimeoutMs,
    expectReplicas: settings.expectReplicas,
  });
  const deps: OperationsDependencies = {
    store: new OperationStore(redis, keys),
    logs: new LogStore(redis, keys),
    queues,
    finished,
    replicas,
    policy: {
      pools: settings.pools,
      maxResources: { cpu: settings.scriptMaxCpu, memory: settings.scriptMaxMemory },
      defaultLimits: { cpu: settings.scriptLimitsCpu, memory: settings.scriptLimitsMemory },
      allowedServiceAccounts: settings.scriptAllowedServiceAccounts,
      packageSources: settings.packageSources,
    },
    retentionSeconds: settings.retentionSeconds,
    publishCancel: (op) => publish(redis, keys.pool(op.pool).cancelChannel, op.ticket),
    log: logger,
    tracing,
  };

  await app.register(healthRoutes, { redis, isShuttingDown: () => shuttingDown, pingTimeoutMs: Math.min(settings.redisCommandTimeoutMs, READY_PING_MS) });
  await app.register(metricsRoute, { registry: metrics.registry });
  if (settings.dashboardUser && settings.dashboardPassword) {
    await app.register(dashboard, { queues: queues.all, user: settings.dashboardUser, password: settings.dashboardPassword, write: settings.dashboardWrite });
    logger.info(`dashboard at /dashboard (${settings.dashboardWrite ? 'read and write' : 'read-only'})`);
  } else {
    logger.info('dashboard off: set KUBE_WORKER_DASHBOARD_USER and KUBE_WORKER_DASHBOARD_PASSWORD to serve it at /dashboard');
  }
  await app.register(async (api) => {
    await api.register(bearerAuth, { tokens: settings.apiTokens });
    await api.register(operationRoutes, { deps, follow: { connectFollower: () => countedConnection(), follows, idleMs: settings.followIdleSeconds * 1000 } });
    await api.register(workerRoutes, { pools: settings.pools, registry: new ExecutorRegistry(redis, keys) });
    await api.register(queueRoutes, { queues });
  });

  return {
    app,
    /**
     * Says it is not ready and goes on answering for the shutdown delay: a Service keeps sending
     * new connections to a pod until its endpoints change everywhere, and once the pod is gone
     * such a connection hangs instead of being refused. Then it stops taking requests, ends the log
     * streams, lets requests in flight finish (each Redis command is bounded by its timeout), and
     * closes; all within the grace period, after which what is left is cut off.
     */
    async close() {
      shuttingDown = true;
      if (settings.shutdownDelaySeconds > 0) {
        logger.info(`not ready; still answering for ${settings.shutdownDelaySeconds}s while the Service stops sending requests here`);
        await delay(settings.shutdownDelaySeconds * 1000);
      }
      follows.stopAll();
      const deadline = Date.now() + settings.shutdownGraceSeconds * 1000;
      for (const step of [() => app.close(), () => queues.close(), () => finished.close(), async () => void (await redis.quit())]) {
        await within(step(), deadline - Date.now()).catch((error: unknown) => logger.warn({ err: error }, 'error while closing the dispatcher'));
      }
      app.server.closeAllConnections();
      replicas.close();
      redis.disconnect();
    },
  };
}
