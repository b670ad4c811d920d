/**
 * Removes what a crashed or interrupted executor left behind: this instance's Jobs whose operation
 * is gone (released or expired) or already finished. Their pods and Secret go with them (the
 * garbage collector follows their owner references), so Secrets are never listed: the executor
 * cannot read them. Runs now and then on every executor of the instance; deleting what another
 * already deleted is harmless. Another instance's Jobs are never looked at, even in one namespace.
 */
import { isTerminal } from '../../core/contract/status.js';
import type { Logger } from '../../core/logger.js';
import type { OperationStore } from '../../core/operation-store.js';
import { deleteJob } from './job-deletion.js';
import type { KubeApi } from './kube-api.js';
import { ANNOTATION_TICKET, instanceSelector, LABEL_INSTANCE, LABEL_POOL } from './names.js';

export async function sweepOnce(api: KubeApi, instance: string, store: OperationStore, logger: Logger): Promise<number> {
  const { namespace } = api;
  const jobs = await api.call('list', () => api.batch.listNamespacedJob({ namespace, labelSelector: instanceSelector(instance) }));
  let removed = 0;
  for (const job of jobs.items) {
    const name = job.metadata!.name!;
    const ticket = job.metadata?.annotations?.[ANNOTATION_TICKET];
    const pool = job.metadata?.labels?.[LABEL_POOL];
    if (!ticket || !pool || job.metadata?.labels?.[LABEL_INSTANCE] !== instance) continue;
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

/** Sweeps every `intervalSeconds` until stopped. */
export function startSweeper(api: KubeApi, instance: string, store: OperationStore, logger: Logger, intervalSeconds: number): () => void {
  const timer = setInterval(() => {
    sweepOnce(api, instance, store, logger).catch((error: unknown) => logger.warn({ err: error }, 'sweep failed'));
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
