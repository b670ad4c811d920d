/**
 * Removes what a crashed or interrupted executor left behind: this instance's Jobs whose operation
 * is gone (released or expired) or already finished. Their pods and Secret go with them (the
 * garbage collector follows their owner references), so Secrets are never listed: the executor
 * cannot read them. Runs now and then on every executor of the instance; deleting what another
 * already deleted is harmless. Another instance's Jobs are never looked at, even in one namespace.
 *
 * Idle warm Jobs (no operation yet) are swept once past their age by a margin — their executor
 * would have replaced them by then, so it is gone — unless they changed since they were listed:
 * the delete requires the version that was seen idle, so a warm Job claimed meanwhile is kept.
 */
import type * as k8s from '@kubernetes/client-node';
import { isTerminal } from '../../core/contract/status.js';
import type { Logger } from '../../core/logger.js';
import type { OperationStore } from '../../core/operation-store.js';
import { deleteJob } from './job-deletion.js';
import type { KubeApi } from './kube-api.js';
import { ANNOTATION_TICKET, instanceSelector, LABEL_INSTANCE, LABEL_POOL } from './names.js';
import { LABEL_WARM } from './warm-pod-spec.js';

/** How far past its age an idle warm Job counts as left behind. */
const WARM_MARGIN_SECONDS = 60;

export async function sweepOnce(api: KubeApi, instance: string, store: OperationStore, logger: Logger, warmMaxAgeSeconds?: number): Promise<number> {
  const { namespace } = api;
  const jobs = await api.call('list', () => api.batch.listNamespacedJob({ namespace, labelSelector: instanceSelector(instance) }));
  let removed = 0;
  for (const job of jobs.items) {
    const name = job.metadata!.name!;
    const ticket = job.metadata?.annotations?.[ANNOTATION_TICKET];
    if (job.metadata?.labels?.[LABEL_INSTANCE] !== instance) continue;
    if (!ticket) {
      if (warmMaxAgeSeconds !== undefined && isLeftBehindWarm(job, warmMaxAgeSeconds)) removed += await sweepWarm(api, job, logger);
      continue;
    }
    const pool = job.metadata?.labels?.[LABEL_POOL];
    if (!pool) continue;
    const state = await store.state({ ticket, pool });
    if (state !== undefined && !isTerminal(state)) continue;
    await deleteJob(api, name, 'released').then(
      () => {
        removed += 1;
        logger.info({ name, ticket, state: state ?? 'gone' }, 'swept a leftover Job');
      },
      (error: unknown) => logger.warn({ err: error, name }, 'could not sweep a leftover Job'),
    );
  }
  return removed;
}

function isLeftBehindWarm(job: k8s.V1Job, maxAgeSeconds: number): boolean {
  const created = job.metadata?.creationTimestamp ? new Date(job.metadata.creationTimestamp).getTime() : Date.now();
  return job.metadata?.labels?.[LABEL_WARM] === 'idle' && Date.now() - created > (maxAgeSeconds + WARM_MARGIN_SECONDS) * 1000;
}

async function sweepWarm(api: KubeApi, job: k8s.V1Job, logger: Logger): Promise<number> {
  const name = job.metadata!.name!;
  const preconditions = { resourceVersion: job.metadata!.resourceVersion! };
  return api
    .call('delete', () => api.batch.deleteNamespacedJob({ name, namespace: api.namespace, propagationPolicy: 'Background', body: { preconditions } }))
    .then(
      () => {
        logger.info({ name }, 'swept a warm Job left behind');
        return 1;
      },
      () => 0, // gone, or claimed since it was listed
    );
}

/** Sweeps every `intervalSeconds` until stopped. */
export function startSweeper(
  api: KubeApi,
  instance: string,
  store: OperationStore,
  logger: Logger,
  intervalSeconds: number,
  warmMaxAgeSeconds?: number,
): () => void {
  const timer = setInterval(() => {
    sweepOnce(api, instance, store, logger, warmMaxAgeSeconds).catch((error: unknown) => logger.warn({ err: error }, 'sweep failed'));
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
