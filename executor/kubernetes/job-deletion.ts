/**
 * Deleting a script Job, the one place it is done. `now` is a cancel: the Job and its pod go with
 * no grace, and the Job stays until its pod is gone (foreground). `released` is the end of a run
 * whose result is recorded, or a sweep: the Job goes at once and its pods after it (background).
 * A Job that is already gone is fine either way.
 */
import { KubeApiError, type KubeApi } from './kube-api.js';

export async function deleteJob(api: KubeApi, name: string, when: 'now' | 'released'): Promise<void> {
  const how = when === 'now' ? { propagationPolicy: 'Foreground', gracePeriodSeconds: 0 } : { propagationPolicy: 'Background' };
  await api.call('delete', () => api.batch.deleteNamespacedJob({ name, namespace: api.namespace, ...how })).catch(ignoreNotFound);
}

/** A 404 is nothing (undefined, for a read); any other error is thrown on. */
export const ignoreNotFound = (error: unknown): undefined => {
  if (!(error instanceof KubeApiError) || error.status !== 404) throw error;
  return undefined;
};
