/**
 * An executor: one BullMQ worker per pool it serves (queue-workers.ts; replaced when they stop
 * taking work, worker-generations.ts), each running up to `concurrency` operations
 * (process-operation.ts, which records through record-result.ts), a heartbeat (heartbeat.ts), and a
 * shutdown that never throws (shutdown.ts). This file wires them together.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Config } from '../core/config.js';
import { ExecutorRegistry } from '../core/executor-registry.js';
import { isTerminal, type OperationState } from '../core/contract/status.js';
import { keys as redisKeys } from '../core/keys.js';
import type { Logger } from '../core/logger.js';
import type { ExecutorMetrics } from '../core/metrics.js';
import { LogStore } from '../core/log-store.js';
import { OperationStore } from '../core/operation-store.js';
import { connectRedis, type RedisClient } from '../core/redis.js';
import { parseRedisUrl } from '../core/redis-url.js';
import { ReplicaAcks } from '../core/replica-acks.js';
import { NO_TRACING, type Tracing } from '../core/tracing.js';
import { VERSION } from '../core/version.js';
import { CancelSignals } from './cancel-signals.js';
import { startHeartbeat } from './heartbeat.js';
import { Mutexes } from './isolation/mutex.js';
import { awaitPreviousRun } from './previous-run.js';
import type { ProcessDependencies } from './process-operation.js';
import { startQueueWorkers } from './queue-workers.js';
import type { Runtime } from './runtime.js';
import { shutDown } from './shutdown.js';

/** Whether an operation in `state` has ended: its record final, or gone. */
const isEnded = (state: OperationState | undefined): boolean => state === undefined || isTerminal(state);

export type ExecutorSettings = Pick<
  Config,
  | 'prefix'
  | 'pools'
  | 'concurrency'
  | 'logMaxLines'
  | 'logMaxBytes'
  | 'retentionSeconds'
  | 'defaultTimeoutSeconds'
  | 'lockDurationMs'
  | 'shutdownGraceSeconds'
  | 'redisWaitMs'
  | 'redisCommandTimeoutMs'
> & { redisUrl: string; redisSentinelPassword?: string };

export interface Executor {
  readonly id: string;
  /** Operations running right now. */
  readonly inFlight: number;
  close(): Promise<void>;
}

/** Makes the executor's runtime; given the operation store, in which a runtime may look for what it left (the sweeper). */
export type RuntimeFactory = (stores: { operations: OperationStore }) => Promise<Runtime>;

/**
 * `metrics` is made by the caller, which also hands it to the runtime (Kubernetes requests) and serves it.
 * `connect` makes each Redis connection (connectRedis; a test may watch what it makes); `tracing`
 * the operations' spans (core/tracing.ts).
 */
export async function startExecutor(
  settings: ExecutorSettings,
  createRuntime: RuntimeFactory,
  logger: Logger,
  metrics: ExecutorMetrics,
  { connect = connectRedis, tracing = NO_TRACING }: { connect?: typeof connectRedis; tracing?: Tracing } = {},
): Promise<Executor> {
  const id = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const log = logger.child({ executor: id });
  const keys = redisKeys(settings.prefix);
  const connectAs = (name: string): RedisClient => connect(settings.redisUrl, name, { sentinelPassword: settings.redisSentinelPassword });
  // The workers report errors of the shared connection; one the executor makes for a use of its
  // own has nobody else to: its errors are counted here (and not printed by ioredis as unhandled).
  const countedConnection = (name: string): RedisClient => {
    const connection = connectAs(name);
    connection.on('error', () => metrics.redisErrors.inc({ component: 'executor' }));
    return connection;
  };
  const redis = connectAs('kube-worker-executor');
  let connectedSince = Date.now();
  redis.on('ready', () => (connectedSince = Date.now()));
  const store = new OperationStore(redis, keys);
  const logs = new LogStore(redis, keys);
  const registry = new ExecutorRegistry(redis, keys);
  let runtime: Runtime;
  try {
    runtime = await createRuntime({ operations: store });
  } catch (error) {
    // Say why on /api/v1/worker too, not only in this process's log.
    await registry.refuse(id, (error as Error).message).catch(() => undefined);
    await redis.quit().catch(() => undefined);
    throw error;
  }
  const cancels = new CancelSignals(
    settings.pools.map((pool) => keys.pool(pool).cancelChannel),
    (ops) => store.cancelsRequested(ops),
    (error) => log.warn({ err: error }, 'could not read cancel flags; trying again'),
  );
  const cancelConnection = countedConnection('kube-worker-executor-cancel');
  await cancels.start(cancelConnection);
  const stopping = new AbortController();

  // A result is kept once a replica has it: WAIT, on a connection of its own (core/replica-acks.ts).
  const replicas = new ReplicaAcks(countedConnection('kube-worker-executor-replicas'), keys, {
    waitMs: settings.redisWaitMs,
    commandTimeoutMs: settings.redisCommandTimeoutMs,
    expectReplicas: parseRedisUrl(settings.redisUrl).kind === 'sentinel',
  });
  const deps: ProcessDependencies = {
    executorId: id,
    store,
    logs,
    replicas,
    // The lease outlives the queue lock that protects the run, so a run always has one or the other.
    mutexes: new Mutexes(redis, keys, {
      leaseMs: 2 * settings.lockDurationMs,
      closing: stopping.signal,
      ended: async (op) => isEnded(await store.state(op)),
      log,
    }),
    cancels,
    previousRun: (op, previousExecutor) =>
      awaitPreviousRun(op, previousExecutor, {
        executorId: id,
        store,
        registry,
        runningHere: (t) => (workers.deliveries.get(t) ?? 0) > 1,
        connectedSince: () => connectedSince,
        closing: stopping.signal,
      }),
    runtime,
    logger: log,
    metrics,
    tracing,
    settings,
  };
  const workers = startQueueWorkers(
    { ...settings, queuePrefix: (pool) => keys.pool(pool).queuePrefix },
    { connect: () => connectAs('kube-worker-executor-queue'), primary: redis },
    deps,
    log,
  );
  const info = { id, pools: settings.pools, runtime: runtime.name, concurrency: settings.concurrency, version: VERSION, problems: [] };
  const heartbeat = startHeartbeat(registry, info, () => [...workers.deliveries.keys()], log);
  log.info({ pools: settings.pools, concurrency: settings.concurrency, runtime: runtime.name }, 'executor started');

  let closing: Promise<void> | undefined;
  return {
    id,
    get inFlight() {
      return cancels.size;
    },
    close: () =>
      (closing ??= shutDown({
        id,
        redis,
        cancelConnection,
        replicas,
        registry,
        runtime,
        cancels,
        heartbeat,
        workers,
        stopping,
        shutdownGraceSeconds: settings.shutdownGraceSeconds,
        log,
      })),
  };
}
