/**
 * Cancel at scale, on simulated nodes: kube-worker (a dispatcher and N executor processes) takes
 * `operations` long operations (each pod asks to run `durationSeconds`), and once every executor
 * slot runs one, all are cancelled at once over HTTP. Then: how each ended, whether any Job was
 * created after the cancels had all been accepted (a ConfigMap written then marks the moment in the
 * API server's own order: a Job whose resourceVersion at creation is later came after), and what
 * the instance left in the namespace.
 */
import * as k8s from '@kubernetes/client-node';
import { instanceSelector } from '../../executor/kubernetes/names.js';
import { JobWatch } from './job-watch.js';
import { SUBMIT_PATH, TOKEN } from './operation.js';
import { uniquePrefix } from './redis-prefix.js';
import { startKubeWorkerProcesses } from './scale-kube-worker.js';
import { pool, scaleSettings, type ScaleOptions } from './scale-run.js';

export interface CancelScale {
  operations: number;
  /** Operations running (their Job created) when the cancels went out. */
  runningAtCancel: number;
  /** Cancels answered 202 (took effect) and 200 (had already ended). */
  cancelAnswers: Record<string, number>;
  /** Final states: "cancelled", "succeeded", … → count. */
  outcomes: Record<string, number>;
  /** Jobs whose creation the API server stored after every cancel had been accepted. */
  jobsCreatedAfterCancel: number;
  /** Jobs, pods and Secrets of the instance still in the namespace once all had ended and been released. */
  left: { jobs: number; pods: number; secrets: number };
  /** Seconds from the first cancel until every operation had ended. */
  secondsToEnd: number;
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

async function call(url: string, method: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export async function runCancelScale(o: ScaleOptions, settleMs = 180_000): Promise<CancelScale> {
  const prefix = uniquePrefix('cancel');
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(o.kubeconfig);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const batch = kubeConfig.makeApiClient(k8s.BatchV1Api);
  const processes = await startKubeWorkerProcesses(scaleSettings(o, prefix), o.executors);
  const watch = new JobWatch(kubeConfig, o.namespace, prefix);
  const jobVersions = new Map<string, number>();
  watch.onAdded = (job) => jobVersions.set(job.metadata?.name ?? '', Number(job.metadata?.resourceVersion));
  try {
    await watch.start();
    const tickets = Array.from({ length: o.operations }, (_, i) => `${prefix}-${i}`);
    await pool(tickets.length, o.inFlight, async (i) => {
      const answer = await call(`${processes.dispatcherUrl}${SUBMIT_PATH}`, 'POST', {
        pool: 'default',
        script: { syntax: 'sh', body: 'echo hi' },
        ticket: tickets[i],
      });
      if (answer.status !== 202) throw new Error(`submit answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    });
    const slots = Math.min(o.operations, o.executors * o.concurrency);
    for (const deadline = Date.now() + settleMs; watch.created.size < slots && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 250));
    const runningAtCancel = watch.created.size;

    const cancelAnswers: Record<string, number> = {};
    const started = performance.now();
    await pool(tickets.length, o.inFlight, async (i) => {
      const answer = await call(`${processes.dispatcherUrl}${SUBMIT_PATH}/${tickets[i]}/cancel`, 'POST');
      cancelAnswers[answer.status] = (cancelAnswers[answer.status] ?? 0) + 1;
    });
    const marker = await core.createNamespacedConfigMap({ namespace: o.namespace, body: { metadata: { generateName: `${prefix}-cancelled-` } } });
    const cancelledAt = Number(marker.metadata?.resourceVersion);

    const states = new Map<string, string>();
    for (let deadline = Date.now() + settleMs; states.size < tickets.length && Date.now() < deadline;) {
      await pool(tickets.length, o.inFlight, async (i) => {
        const ticket = tickets[i]!;
        if (states.has(ticket)) return;
        const answer = await call(`${processes.dispatcherUrl}${SUBMIT_PATH}/${ticket}?limit=1`, 'GET');
        const state = String(answer.body.state ?? '');
        if (FINAL.has(state)) states.set(ticket, state);
      });
      if (states.size < tickets.length) await new Promise((r) => setTimeout(r, 1000));
    }
    const secondsToEnd = (performance.now() - started) / 1000;
    const outcomes: Record<string, number> = {};
    for (const ticket of tickets) {
      const state = states.get(ticket) ?? 'not ended';
      outcomes[state] = (outcomes[state] ?? 0) + 1;
    }

    // Released operations' Jobs and Secrets are deleted by the executors; pods go with their Jobs.
    const labelSelector = instanceSelector(prefix);
    const count = async (): Promise<CancelScale['left']> => ({
      jobs: (await batch.listNamespacedJob({ namespace: o.namespace, labelSelector })).items.length,
      pods: (await core.listNamespacedPod({ namespace: o.namespace, labelSelector })).items.length,
      secrets: (await core.listNamespacedSecret({ namespace: o.namespace, labelSelector })).items.length,
    });
    let left = await count();
    for (const deadline = Date.now() + 60_000; left.jobs + left.pods + left.secrets > 0 && Date.now() < deadline; left = await count())
      await new Promise((r) => setTimeout(r, 1000));

    return {
      operations: o.operations,
      runningAtCancel,
      cancelAnswers,
      outcomes,
      jobsCreatedAfterCancel: [...jobVersions.values()].filter((rv) => rv > cancelledAt).length,
      left,
      secondsToEnd: Number(secondsToEnd.toFixed(2)),
    };
  } finally {
    await watch.stop().catch(() => undefined);
    await processes.close();
  }
}
