/**
 * Removes what a crashed or interrupted executor left behind: kube-worker Jobs and Secrets whose
 * operation is gone (released or expired) or already finished. Runs now and then on every
 * executor; deleting what another already deleted is harmless.
 */
import { isTerminal } from '../../core/contract/status.js';
import type { Logger } from '../../core/logger.js';
import type { OperationStore } from '../../core/operation-store.js';
import type { KubeApi } from './kube-api.js';
import { ANNOTATION_TICKET, MANAGED_SELECTOR } from './names.js';

interface Leftover {
  kind: 'Job' | 'Secret';
  name: string;
  ticket: string | undefined;
}

export async function sweepOnce(api: KubeApi, store: OperationStore, logger: Logger): Promise<number> {
  const { namespace } = api;
  const [jobs, secrets] = await Promise.all([
    api.call('list', () => api.batch.listNamespacedJob({ namespace, labelSelector: MANAGED_SELECTOR })),
    api.call('list', () => api.core.listNamespacedSecret({ namespace, labelSelector: MANAGED_SELECTOR })),
  ]);
  const candidates: Leftover[] = [
    ...jobs.items.map((j) => ({ kind: 'Job' as const, name: j.metadata!.name!, ticket: j.metadata?.annotations?.[ANNOTATION_TICKET] })),
    ...secrets.items.map((s) => ({ kind: 'Secret' as const, name: s.metadata!.name!, ticket: s.metadata?.annotations?.[ANNOTATION_TICKET] })),
  ];
  let removed = 0;
  for (const leftover of candidates) {
    if (!leftover.ticket) continue;
    const state = await store.state(leftover.ticket);
    if (state !== undefined && !isTerminal(state)) continue;
    const remove = leftover.kind === 'Job'
      ? () => api.batch.deleteNamespacedJob({ name: leftover.name, namespace, propagationPolicy: 'Background' })
      : () => api.core.deleteNamespacedSecret({ name: leftover.name, namespace });
    await api.call('delete', remove).then(
      () => {
        removed += 1;
        logger.info({ kind: leftover.kind, name: leftover.name, ticket: leftover.ticket, state: state ?? 'gone' }, 'swept a leftover');
      },
      (error: unknown) => logger.warn({ err: error, name: leftover.name }, 'could not sweep a leftover'),
    );
  }
  return removed;
}

/** Sweeps every `intervalSeconds` until stopped. */
export function startSweeper(api: KubeApi, store: OperationStore, logger: Logger, intervalSeconds: number): () => void {
  const timer = setInterval(() => {
    sweepOnce(api, store, logger).catch((error: unknown) => logger.warn({ err: error }, 'sweep failed'));
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
