/**
 * Binding a warm pod to an operation (warm-pod-spec.ts says why it is safe): claim its Job, then
 * send the payload down the pod's stdin through one attach session.
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { KubeApiError, type KubeApi } from './kube-api.js';
import { SCRIPT_CONTAINER } from './names.js';
import { claimPatch } from './warm-pod-spec.js';

/**
 * Claims the idle warm Job for `ticket`, setting its deadline to `timeoutSeconds` from now. False
 * when it is no longer idle or no longer there (another claim, a replacement, a sweep won).
 */
export async function claimWarmJob(api: KubeApi, jobName: string, startedAt: number, ticket: string, timeoutSeconds: number): Promise<boolean> {
  const body = claimPatch(ticket, (Date.now() - startedAt) / 1000, timeoutSeconds);
  try {
    await api.call('patch', () => api.batch.patchNamespacedJob({ name: jobName, namespace: api.namespace, body }));
    return true;
  } catch (error) {
    if (error instanceof KubeApiError && (error.status === 422 || error.status === 404 || error.status === 409)) return false;
    throw error;
  }
}

const DRAIN_POLL_MS = 5;
const DRAIN_TIMEOUT_MS = 30_000;

/**
 * Sends the payload down the pod's stdin and closes it. Attaching again is harmless: the first
 * session to end closes the pod's stdin for good (stdinOnce), so a payload reaches it at most once.
 */
export async function deliverPayload(api: KubeApi, podName: string, payload: Buffer): Promise<void> {
  const attach = new k8s.Attach(api.kubeConfig);
  const stdin = new PassThrough();
  const ws = await api.call('create', () => attach.attach(api.namespace, podName, SCRIPT_CONTAINER, null, null, stdin, false));
  try {
    // The client sends what stdin gives on channel 0, then closes the pod's stdin (protocol v5) or the session (v4).
    // Our 'end' listener runs after the client's, which has sent everything by then.
    const sent = once(stdin, 'end');
    stdin.end(payload);
    await sent;
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (ws.bufferedAmount > 0 && ws.readyState === ws.OPEN) {
      if (Date.now() > deadline) throw new Error('the payload was not sent in time');
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    }
  } finally {
    ws.close();
  }
}
