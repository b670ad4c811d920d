/**
 * Every Prometheus metric kube-worker exposes, defined once so that names, labels and help texts
 * stay the ones the README documents. Nothing is registered at import time: each process makes one
 * registry and adds the metrics of the sides it runs; `kube-worker start` runs both on one registry.
 *
 *   side        metric                                        type       labels
 *   both        process_* and nodejs_* defaults               (various)
 *   both        kube_worker_redis_errors_total                counter    component
 *   dispatcher  kube_worker_queue_depth                       gauge      pool, state
 *   executor    kube_worker_operations_total                  counter    pool, outcome, reason
 *   executor    kube_worker_operation_queued_seconds          histogram  pool
 *   executor    kube_worker_operation_pending_seconds         histogram  pool
 *   executor    kube_worker_operation_run_seconds             histogram  pool, outcome
 *   executor    kube_worker_operation_pod_start_seconds       histogram  pool
 *   executor    kube_worker_operation_image_pull_seconds      histogram  pool
 *   executor    kube_worker_operations_in_flight              gauge      executor, pool
 *   executor    kube_worker_kubernetes_requests_total         counter    verb, code
 *   executor    kube_worker_log_lines_total                   counter    pool, stream
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { QUEUE_STATES, type PoolDepth } from './contract/queues.js';

export type { Registry };

export type Component = 'dispatcher' | 'executor';

/** What both sides of one process share: the registry, process defaults and Redis errors. */
export interface ProcessMetrics {
  registry: Registry;
  redisErrors: Counter<'component'>;
}

export interface ExecutorMetrics {
  redisErrors: Counter<'component'>;
  operations: Counter<'pool' | 'outcome' | 'reason'>;
  queuedSeconds: Histogram<'pool'>;
  pendingSeconds: Histogram<'pool'>;
  runSeconds: Histogram<'pool' | 'outcome'>;
  /** Kubernetes: from the Job created until its script started. */
  podStartSeconds: Histogram<'pool'>;
  /** Kubernetes: the kubelet's pull of the script's image, 0 when the node had it. */
  imagePullSeconds: Histogram<'pool'>;
  inFlight: Gauge<'executor' | 'pool'>;
  /** Incremented by the Kubernetes runtime for each API call it makes. */
  kubernetesRequests: Counter<'verb' | 'code'>;
  logLines: Counter<'pool' | 'stream'>;
  /** Incremented each time the watchdog replaces queue workers that stopped taking work. */
  workerRestarts: Counter;
  /** Warm script pods this executor keeps, by pool and state (starting, ready); set by the Kubernetes runtime. */
  warmPods: Gauge<'pool' | 'state'>;
}

/** From a tenth of a second (a warm executor) to three hours (a long deployment step). */
const DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 10_800];
/** A pod's start and an image pull: from an image on the node (0) to the longest pending timeout worth waiting. */
const POD_BUCKETS = [0.1, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300, 600, 1800];

export function createProcessMetrics(): ProcessMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const redisErrors = new Counter({
    name: 'kube_worker_redis_errors_total',
    help: 'Errors reported by the Redis clients (BullMQ queues, queue event listeners and workers), by component.',
    labelNames: ['component'] as const,
    registers: [registry],
  });
  return { registry, redisErrors };
}

export function createExecutorMetrics({ registry, redisErrors }: ProcessMetrics): ExecutorMetrics {
  const registers = [registry];
  return {
    redisErrors,
    operations: new Counter({
      name: 'kube_worker_operations_total',
      help: 'Operations that ended, by pool, outcome (succeeded, failed, cancelled) and failure reason (empty when succeeded).',
      labelNames: ['pool', 'outcome', 'reason'] as const,
      registers,
    }),
    queuedSeconds: new Histogram({
      name: 'kube_worker_operation_queued_seconds',
      help: 'Time from submission until an executor took the operation.',
      labelNames: ['pool'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    }),
    pendingSeconds: new Histogram({
      name: 'kube_worker_operation_pending_seconds',
      help: 'Time from an executor taking the operation until its script started (isolation lock, pod scheduling, image pull).',
      labelNames: ['pool'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    }),
    runSeconds: new Histogram({
      name: 'kube_worker_operation_run_seconds',
      help: 'Time from the script starting until the operation ended, by pool and outcome.',
      labelNames: ['pool', 'outcome'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    }),
    podStartSeconds: new Histogram({
      name: 'kube_worker_operation_pod_start_seconds',
      help: "Kubernetes: time from the script's Job being created until its script started (scheduling, image pull, packages).",
      labelNames: ['pool'] as const,
      buckets: POD_BUCKETS,
      registers,
    }),
    imagePullSeconds: new Histogram({
      name: 'kube_worker_operation_image_pull_seconds',
      help: "Kubernetes: how long the kubelet took to pull the script's image, as it reports; 0 when the image was on the node.",
      labelNames: ['pool'] as const,
      buckets: POD_BUCKETS,
      registers,
    }),
    inFlight: new Gauge({
      name: 'kube_worker_operations_in_flight',
      help: 'Operations an executor holds right now (pending or running), by executor id and pool.',
      labelNames: ['executor', 'pool'] as const,
      registers,
    }),
    kubernetesRequests: new Counter({
      name: 'kube_worker_kubernetes_requests_total',
      help: 'Kubernetes API requests made by the kubernetes runtime, by verb and HTTP status code.',
      labelNames: ['verb', 'code'] as const,
      registers,
    }),
    logLines: new Counter({
      name: 'kube_worker_log_lines_total',
      help: 'Log lines written to operation logs, by pool and stream (stdout, stderr, system).',
      labelNames: ['pool', 'stream'] as const,
      registers,
    }),
    warmPods: new Gauge({
      name: 'kube_worker_warm_pods',
      help: 'Warm script pods this executor keeps waiting for an operation, by pool and state (pending: on no node yet; starting: on a node, not yet running; ready: can be bound).',
      labelNames: ['pool', 'state'] as const,
      registers,
    }),
    workerRestarts: new Counter({
      name: 'kube_worker_queue_worker_restarts_total',
      help: 'Times the executor replaced its queue workers, on a new Redis connection, because they had stopped taking work (their connection ended, or operations waited while they had room).',
      registers,
    }),
  };
}

/**
 * Queue depth by pool and state, read from Redis when scraped. When `read` fails (it should give up
 * quickly while Redis is unreachable, and report why itself) the scrape shows no depth rather than
 * a stale one.
 */
export function registerQueueDepth({ registry }: ProcessMetrics, read: () => Promise<PoolDepth[]>): void {
  new Gauge({
    name: 'kube_worker_queue_depth',
    help: "Operations in each pool's queue by BullMQ state (waiting, active, completed, failed, delayed), read at scrape time.",
    labelNames: ['pool', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const depth of await read().catch(() => [])) {
        for (const state of QUEUE_STATES) this.set({ pool: depth.pool, state }, depth[state]);
      }
    },
  });
}
