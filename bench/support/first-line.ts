/**
 * Time to first line on Kubernetes, one operation at a time on an idle cluster: from the submission
 * to the script's first output line reaching the client, and to the final state. Measured for
 * kube-worker (submit over HTTP, follow the operation's log over SSE) and for a bare client that
 * creates the same Secret and Job, watches for its pod, follows the pod's log and watches the Job
 * until it ends.
 */
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import type { Config } from '../../core/config.js';
import { buildScriptJob } from '../../executor/kubernetes/job-spec.js';
import { POOL, SUBMIT_PATH, TOKEN } from './operation.js';

export interface FirstLineSample {
  /** Submission → first script line at the client, ms. */
  firstLine: number;
  /** Submission → final state known to the client, ms. */
  final: number;
}

const headers = { authorization: `Bearer ${TOKEN}` };

/** The script every side runs: one line, then the end (the end from the script's own log shows as final ≈ first line). */
export const FIRST_LINE_SCRIPT = 'echo first-line; exit 0';

/** One operation through kube-worker at baseUrl (dispatcher and executor running). */
export async function kubeWorkerSample(baseUrl: string, ticket: string): Promise<FirstLineSample> {
  const sent = performance.now();
  const submitted = await fetch(`${baseUrl}${SUBMIT_PATH}`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ ticket, pool: POOL, script: { syntax: 'sh', body: FIRST_LINE_SCRIPT } }),
  });
  if (submitted.status !== 202) throw new Error(`submit answered ${submitted.status}: ${await submitted.text()}`);
  const response = await fetch(`${baseUrl}${SUBMIT_PATH}/${ticket}/logs?follow=true`, { headers });
  if (!response.ok || !response.body) throw new Error(`follow answered ${response.status}`);
  const decoder = new TextDecoder();
  let text = '';
  let firstLine: number | undefined;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    if (firstLine === undefined && /event: log\ndata: [^\n]*"stream":"stdout"/.test(text)) firstLine = performance.now() - sent;
    if (text.includes('event: end\n')) {
      const final = performance.now() - sent;
      if (firstLine === undefined) throw new Error(`operation ${ticket} ended without a script line`);
      return { firstLine, final };
    }
  }
  throw new Error(`the log of ${ticket} closed without an end event`);
}

const jobEnded = (job: k8s.V1Job): boolean =>
  Boolean(job.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True'));

/** The same Secret and Job created directly; the client watches its pod and follows its log. */
export async function bareSample(kubeConfig: k8s.KubeConfig, namespace: string, config: Config, name: string): Promise<FirstLineSample> {
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const batch = kubeConfig.makeApiClient(k8s.BatchV1Api);
  const { job, secret } = buildScriptJob(name, { pool: POOL, script: { syntax: 'sh', body: FIRST_LINE_SCRIPT } }, 600, config);
  const jobName = job.metadata!.name!;
  const container = job.spec!.template.spec!.containers[0]!.name;
  const watch = new k8s.Watch(kubeConfig);
  const requests: AbortController[] = [];
  let sent = 0;
  let firstLine: number | undefined;
  let final: number | undefined;
  let following = false;
  let settle!: () => void;
  let fail!: (err: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => {
    settle = () => firstLine !== undefined && final !== undefined && resolve();
    fail = reject;
  });
  const follow = (pod: string): void => {
    const out = new PassThrough();
    out.on('data', () => {
      firstLine ??= performance.now() - sent;
      settle();
    });
    new k8s.Log(kubeConfig).log(namespace, pod, container, out, { follow: true }).catch(fail);
  };
  try {
    // Both watches open before the clock starts, as kube-worker's executor has its own open.
    requests.push(
      await watch.watch(
        `/api/v1/namespaces/${namespace}/pods`,
        { labelSelector: `job-name=${jobName}` },
        (_type, pod: k8s.V1Pod) => {
          const state = pod.status?.containerStatuses?.[0]?.state;
          if (!following && (state?.running || state?.terminated)) {
            following = true;
            follow(pod.metadata!.name!);
          }
        },
        (err) => err && fail(err),
      ),
      await watch.watch(
        `/apis/batch/v1/namespaces/${namespace}/jobs`,
        { fieldSelector: `metadata.name=${jobName}` },
        (_type, j: k8s.V1Job) => {
          if (final === undefined && jobEnded(j)) {
            final = performance.now() - sent;
            settle();
          }
        },
        (err) => err && fail(err),
      ),
    );
    sent = performance.now();
    await core.createNamespacedSecret({ namespace, body: secret });
    await batch.createNamespacedJob({ namespace, body: { ...job, spec: { ...job.spec!, suspend: false } } });
    await finished;
  } finally {
    for (const r of requests) r.abort();
    await batch.deleteNamespacedJob({ name: jobName, namespace, propagationPolicy: 'Background' }).catch(() => undefined);
    await core.deleteNamespacedSecret({ name: secret.metadata!.name!, namespace }).catch(() => undefined);
  }
  return { firstLine: firstLine!, final: final! };
}
