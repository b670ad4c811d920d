/**
 * One size of `npm run bench:scale`, on the test cluster's simulated nodes (test/cluster, kwok):
 * kube-worker (a dispatcher and N executor processes, kubernetes runtime) takes a burst of HTTP
 * submissions, and a bare client creates the very same Secrets and Jobs with
 * @kubernetes/client-node, both watched by one Job watch of the bench. Every pod asks the simulated
 * node to run for `durationSeconds` (pod annotation, see test/cluster/kwok/stages.yaml).
 * Used by bench/scale.ts and, reduced and without the bare client, by test/e2e/scale.test.ts.
 */
import * as k8s from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { readConfig } from '../../core/config.js';
import { loadKubeConfig } from '../../executor/kubernetes/connect.js';
import { buildScriptJob } from '../../executor/kubernetes/job-spec.js';
import { simulated, simulatedPlacement } from '../../test/cluster/simulated-config.js';
import { countCompletions, kubeWorkerQueuePrefix } from './completions.js';
import { JobWatch } from './job-watch.js';
import { PodWatch } from './pod-watch.js';
import { POOL, SUBMIT_PATH, TOKEN } from './operation.js';
import { cpuMsBetween, processUsage } from './process-usage.js';
import { uniquePrefix } from './redis-prefix.js';
import { startKubeWorkerProcesses } from './scale-kube-worker.js';
import { latencies, type Latencies } from './stats.js';

export interface ScaleOptions {
  operations: number;
  /** Executor processes. */
  executors: number;
  /** Operations each executor runs at once (KUBE_WORKER_CONCURRENCY). */
  concurrency: number;
  /** How long each simulated pod runs. */
  durationSeconds: number;
  /** Submissions (kube-worker) or creates (bare) in flight at once. */
  inFlight: number;
  kubeconfig: string;
  /** A namespace of the run's own, made by the caller. */
  namespace: string;
  /** A Redis of the run's own: its memory is measured. */
  redisUrl: string;
  /** Each executor's Kubernetes API rate limit (KUBE_WORKER_K8S_QPS, _BURST = 2 × QPS); the product's default when not given. */
  qps?: number;
  /** Where each executor writes its CPU profile (`--cpu-profile`). */
  cpuProfileDir?: string;
}

/** Any image: a simulated node never pulls it. */
const IMAGE = '127.0.0.1:16500/simulated:never-pulled';
const OPERATION = { pool: POOL, script: { syntax: 'sh', body: 'echo hi' } } as const;
const WRITES = new Set(['create', 'patch', 'delete', 'update']);
/** How long the results' releases (Job and Secret deletes) may take to land after the last result. */
const RELEASE_WAIT_MS = 60_000;

/** The deployment's settings, the same for kube-worker's processes and for the bare client's specs. */
export function scaleSettings(o: ScaleOptions, prefix: string): Record<string, string> {
  return {
    REDIS_URL: o.redisUrl,
    KUBECONFIG: o.kubeconfig,
    KUBE_WORKER_PREFIX: prefix,
    KUBE_WORKER_INSTANCE: prefix,
    KUBE_WORKER_NAMESPACE: o.namespace,
    KUBE_WORKER_RUNTIME: 'kubernetes',
    KUBE_WORKER_SCRIPT_IMAGE: IMAGE,
    KUBE_WORKER_CONCURRENCY: String(o.concurrency),
    KUBE_WORKER_SCRIPT_REQUESTS_CPU: '10m',
    KUBE_WORKER_SCRIPT_REQUESTS_MEMORY: '16Mi',
    KUBE_WORKER_SCRIPT_NODE_SELECTOR: JSON.stringify(simulatedPlacement.nodeSelector),
    KUBE_WORKER_SCRIPT_TOLERATIONS: JSON.stringify(simulatedPlacement.tolerations),
    KUBE_WORKER_SCRIPT_ANNOTATIONS: JSON.stringify({ [simulated.durationAnnotation]: `${o.durationSeconds}s` }),
    KUBE_WORKER_LOG_LEVEL: 'info', // the processes' start is told at info
    KUBE_WORKER_API_TOKEN: TOKEN,
    ...(o.qps ? { KUBE_WORKER_K8S_QPS: String(o.qps), KUBE_WORKER_K8S_BURST: String(2 * o.qps) } : {}),
  };
}

/** Runs `count` tasks, `inFlight` at a time. */
export async function pool(count: number, inFlight: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(inFlight, count) }, async () => {
      for (let i = next++; i < count; i = next++) await task(i);
    }),
  );
}

async function redisUsedMemory(url: string): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 3 });
  try {
    return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1] ?? Number.NaN);
  } finally {
    redis.disconnect();
  }
}

/**
 * An operation's life as the bench's watches see it, from its Job on: the Job controller making
 * the pod (for kube-worker, once the executor has made the Secret and resumed the Job), the
 * scheduler and the simulated node starting it, the pod running, and — kube-worker only — the
 * executor seeing it end, reading its log, recording the result and deleting the Job, which
 * frees its slot (BullMQ's completion).
 */
export type LifecyclePhase = 'Job → pod made' | 'pod made → running' | 'pod running → ended' | 'pod ended → slot free';

interface Moments {
  job: ReadonlyMap<string, number>;
  pods: PodWatch;
  completed?: ReadonlyMap<string, number>;
}

/** p50 and p99 in whole milliseconds. */
function wholeMs(samples: readonly number[]): Latencies {
  const { p50, p99 } = latencies(samples);
  return { p50: Math.round(p50), p99: Math.round(p99) };
}

function lifecyclePhases(m: Moments): Partial<Record<LifecyclePhase, Latencies>> {
  const between = (from: ReadonlyMap<string, number>, to: ReadonlyMap<string, number>): Latencies =>
    wholeMs([...from].filter(([ticket]) => to.has(ticket)).map(([ticket, at]) => to.get(ticket)! - at));
  return {
    'Job → pod made': between(m.job, m.pods.madeAt),
    'pod made → running': between(m.pods.madeAt, m.pods.runningAt),
    'pod running → ended': between(m.pods.runningAt, m.pods.endedAt),
    ...(m.completed ? { 'pod ended → slot free': between(m.pods.endedAt, m.completed) } : {}),
  };
}

export interface KubeWorkerScale {
  operations: number;
  succeeded: number;
  seconds: number;
  /** Kubernetes API requests of the executors during the run, by "verb code". */
  requests: Record<string, number>;
  writesPerOperation: number;
  watchesPerOperation: number;
  /**
   * Script Jobs whose pod had not ended, at once, at most (from one pod watch, so exact): the
   * executors' concurrency bounds it.
   */
  maxPendingJobs: number;
  /** Of those, pods not yet running (Pending), at most. */
  maxPendingPods: number;
  /** Jobs that existed at once without an end the Job itself shows (Complete/Failed) or deleted, at most: released Jobs the executor has not yet deleted count here. */
  maxUnendedJobs: number;
  /** Tickets whose Job was made more than once, and tickets that never had one. */
  jobsMadeAgain: number;
  withoutJob: number;
  /** Submit (request sent) → Job seen by the bench's watch, ms. */
  queueWaitMs: Latencies;
  /** Where an operation's time goes once its Job exists, ms (see lifecyclePhases). */
  phasesMs: Partial<Record<LifecyclePhase, Latencies>>;
  executorCpuMsPerOperation: number;
  /** The largest peak resident memory of one executor, MB. */
  executorPeakRssMb: number;
  dispatcherCpuMsPerSubmission: number;
  redisBytesPerOperation: number;
}

export async function runKubeWorkerScale(o: ScaleOptions): Promise<KubeWorkerScale> {
  const prefix = uniquePrefix('scale');
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(o.kubeconfig);
  const processes = await startKubeWorkerProcesses(scaleSettings(o, prefix), o.executors, o.cpuProfileDir);
  const watch = new JobWatch(kubeConfig, o.namespace, prefix);
  const pods = new PodWatch(kubeConfig, o.namespace, prefix);
  const completions = countCompletions(o.redisUrl, kubeWorkerQueuePrefix(prefix));
  try {
    await Promise.all([watch.start(), pods.start()]);
    // Start-up (permission checks, each watch's first list) is not the operations'.
    const requestsBefore = await processes.requests();
    const executorsBefore = processes.executorPids.map(processUsage);
    const dispatcherBefore = processUsage(processes.dispatcherPid);
    const redisBefore = await redisUsedMemory(o.redisUrl);
    const submitted = new Map<string, number>();
    const started = performance.now();
    await pool(o.operations, o.inFlight, async (i) => {
      const ticket = `${prefix}-${i}`;
      submitted.set(ticket, performance.now());
      const response = await fetch(`${processes.dispatcherUrl}${SUBMIT_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ ...OPERATION, ticket }),
      });
      if (response.status !== 202) throw new Error(`submit answered ${response.status}: ${await response.text()}`);
    });
    const dispatcherCpuMs = processUsage(processes.dispatcherPid).cpuMs - dispatcherBefore.cpuMs;
    await completions.until(o.operations);
    const seconds = (performance.now() - started) / 1000;
    for (const deadline = Date.now() + RELEASE_WAIT_MS; watch.deleted < watch.created.size && Date.now() < deadline;)
      await new Promise((r) => setTimeout(r, 250));
    const requestsAfter = await processes.requests();
    const executorsAfter = processes.executorPids.map(processUsage);
    const redisAfter = await redisUsedMemory(o.redisUrl);

    const requests: Record<string, number> = Object.fromEntries(
      [...requestsAfter].map(([key, n]): [string, number] => [key, n - (requestsBefore.get(key) ?? 0)]).filter(([, n]) => n > 0),
    );
    const count = (verbs: (verb: string) => boolean): number =>
      Object.entries(requests)
        .filter(([key]) => verbs(key.split(' ')[0]!))
        .reduce((sum, [, n]) => sum + n, 0);
    const waits = [...submitted].filter(([ticket]) => watch.created.has(ticket)).map(([ticket, at]) => watch.created.get(ticket)! - at);
    const round = (n: number, digits = 2): number => Number(n.toFixed(digits));
    return {
      operations: o.operations,
      succeeded: completions.succeeded,
      seconds: round(seconds),
      requests,
      writesPerOperation: round(count((v) => WRITES.has(v)) / o.operations),
      watchesPerOperation: round(count((v) => v === 'watch') / o.operations),
      maxPendingJobs: pods.maxUnended,
      maxPendingPods: pods.maxPending,
      maxUnendedJobs: watch.maxUnended,
      jobsMadeAgain: [...watch.jobsPerTicket.values()].filter((n) => n > 1).length,
      withoutJob: [...submitted.keys()].filter((t) => !watch.jobsPerTicket.has(t)).length,
      queueWaitMs: wholeMs(waits),
      phasesMs: lifecyclePhases({ job: watch.created, pods, completed: completions.endedAt }),
      executorCpuMsPerOperation: round(cpuMsBetween(executorsBefore, executorsAfter) / o.operations),
      executorPeakRssMb: round(Math.max(...executorsAfter.map((u) => u.peakRssMb)), 1),
      dispatcherCpuMsPerSubmission: round(dispatcherCpuMs / o.operations, 3),
      redisBytesPerOperation: Math.round((redisAfter - redisBefore) / o.operations),
    };
  } finally {
    await watch.stop().catch(() => undefined);
    await pods.stop().catch(() => undefined);
    await completions.close();
    await processes.close();
  }
}

export interface BareScale {
  seconds: number;
  /** As kube-worker's: Jobs whose pod had not ended, at once, at most. */
  maxPendingJobs: number;
  maxPendingPods: number;
  /** The same steps as kube-worker's, but for the executor's. */
  phasesMs: Partial<Record<LifecyclePhase, Latencies>>;
}

/** The floor: the same Secrets and Jobs (unsuspended), `inFlight` creates at a time, one watch until each ended. */
export async function runBareScale(o: ScaleOptions): Promise<BareScale> {
  const prefix = uniquePrefix('bare');
  const config = readConfig(scaleSettings(o, prefix));
  // Its requests share connections as the executor's do (pooled-agents.ts).
  const kubeConfig = loadKubeConfig(o.kubeconfig);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const batch = kubeConfig.makeApiClient(k8s.BatchV1Api);
  const specs = Array.from({ length: o.operations }, (_, i) => buildScriptJob(`${prefix}-${i}`, OPERATION, 600, config));
  const watch = new JobWatch(kubeConfig, o.namespace, prefix);
  const pods = new PodWatch(kubeConfig, o.namespace, prefix);
  await Promise.all([watch.start(), pods.start()]);
  try {
    const started = performance.now();
    await pool(specs.length, o.inFlight, async (i) => {
      const { job, secret } = specs[i]!;
      await core.createNamespacedSecret({ namespace: o.namespace, body: secret });
      await batch.createNamespacedJob({ namespace: o.namespace, body: { ...job, spec: { ...job.spec!, suspend: false } } });
    });
    await watch.untilEnded(specs.length);
    const seconds = (performance.now() - started) / 1000;
    return {
      seconds: Number(seconds.toFixed(2)),
      maxPendingJobs: pods.maxUnended,
      maxPendingPods: pods.maxPending,
      phasesMs: lifecyclePhases({ job: watch.created, pods }),
    };
  } finally {
    await watch.stop().catch(() => undefined);
    await pods.stop().catch(() => undefined);
    await pool(specs.length, o.inFlight, async (i) => {
      const { name } = specs[i]!;
      await batch.deleteNamespacedJob({ name, namespace: o.namespace, propagationPolicy: 'Background' }).catch(() => undefined);
      await core.deleteNamespacedSecret({ name, namespace: o.namespace }).catch(() => undefined);
    });
  }
}
