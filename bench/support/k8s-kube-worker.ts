/**
 * kube-worker with the kubernetes runtime, in this process: a dispatcher and one executor whose
 * Kubernetes API requests are counted by the same metric the executor exposes
 * (kube_worker_kubernetes_requests_total).
 */
import type { Config } from '../../core/config.js';
import { createExecutorMetrics, createProcessMetrics, type ExecutorMetrics } from '../../core/metrics.js';
import { buildDispatcher } from '../../dispatcher/server.js';
import { startExecutor } from '../../executor/executor.js';
import { startKubernetesRuntime } from '../../executor/kubernetes/index.js';
import { countCompletions, kubeWorkerQueuePrefix } from './completions.js';
import { TRIVIAL_OPERATION } from './kubernetes-operation.js';
import { fileLogger } from './log-file.js';
import { SUBMIT_PATH, TOKEN } from './operation.js';

export interface KubeWorkerRun {
  seconds: number;
  succeeded: number;
  /** Requests by "verb code" during the run, from the executor's metric. */
  requests: Map<string, number>;
}

async function requestCounts(metrics: ExecutorMetrics): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const value of (await metrics.kubernetesRequests.get()).values) counts.set(`${value.labels.verb} ${value.labels.code}`, value.value);
  return counts;
}

export interface KubeWorkerStarted {
  /** Where the dispatcher listens, e.g. http://127.0.0.1:40000. */
  baseUrl: string;
  metrics: ExecutorMetrics;
  /** Resolves once `count` warm pods are ready to be bound (kube_worker_warm_pods{state="ready"}). */
  warmReady(count: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

async function warmReady(metrics: ExecutorMetrics, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = (await metrics.warmPods.get()).values.filter((v) => v.labels.state === 'ready').reduce((sum, v) => sum + v.value, 0);
    if (ready >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${ready} of ${count} warm pods ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A dispatcher and one executor with the kubernetes runtime, in this process. */
export async function startKubeWorker(config: Config, redisUrl: string, logFile: string): Promise<KubeWorkerStarted> {
  const logger = fileLogger(logFile, 'kube-worker');
  const processMetrics = createProcessMetrics();
  const metrics = createExecutorMetrics(processMetrics);
  const countRequest = (verb: string, code: number): void => metrics.kubernetesRequests.inc({ verb, code: String(code) });
  const executor = await startExecutor(
    { ...config, redisUrl },
    (stores) => startKubernetesRuntime(config, stores, logger, countRequest, metrics.warmPods),
    logger,
    metrics,
  );
  const dispatcher = await buildDispatcher({ ...config, redisUrl }, logger, processMetrics);
  const baseUrl = await dispatcher.app.listen({ host: '127.0.0.1', port: 0 });
  return {
    baseUrl,
    metrics,
    warmReady: (count, timeoutMs) => warmReady(metrics, count, timeoutMs),
    async close() {
      await dispatcher.close();
      await executor.close();
    },
  };
}

/** Starts kube-worker, submits `count` operations through HTTP, and times them until all have ended (once `warmPods` are ready). */
export async function runKubeWorker(config: Config, redisUrl: string, count: number, logFile: string, warmPods = 0): Promise<KubeWorkerRun> {
  const started = await startKubeWorker(config, redisUrl, logFile);
  const { baseUrl, metrics, close } = started;
  if (warmPods > 0) await started.warmReady(warmPods, 120_000);
  const url = `${baseUrl}${SUBMIT_PATH}`;
  const completions = countCompletions(redisUrl, kubeWorkerQueuePrefix(config.prefix));
  try {
    // Start-up requests (permission checks, the first list of each watch) are not the operations'.
    const before = await requestCounts(metrics);
    const started = performance.now();
    await Promise.all(
      Array.from({ length: count }, async () => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify(TRIVIAL_OPERATION),
        });
        if (response.status !== 202) throw new Error(`submit answered ${response.status}: ${await response.text()}`);
      }),
    );
    await completions.until(count);
    const seconds = (performance.now() - started) / 1000;
    // Releasing Jobs and Secrets follows each result; let those deletes land before counting.
    await new Promise((r) => setTimeout(r, 2000));
    const after = await requestCounts(metrics);
    const requests = new Map([...after].map(([key, value]) => [key, value - (before.get(key) ?? 0)]));
    return { seconds, succeeded: completions.succeeded, requests };
  } finally {
    await completions.close();
    await close();
  }
}
