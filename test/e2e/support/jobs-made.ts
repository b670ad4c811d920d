/**
 * Every Job the API server saw made for a ticket, by uid, from a watch: "one Job" asserted from the
 * Jobs themselves. The Job controller's events would say it too, but it records them on its own
 * time and drops them when a busy cluster fills its queue.
 */
import * as k8s from '@kubernetes/client-node';

export interface JobsMade {
  /** The uids of the Jobs made for the ticket since the watch began. */
  readonly uids: ReadonlySet<string>;
  stop(): void;
}

export async function watchJobsMade(kc: k8s.KubeConfig, namespace: string, ticket: string): Promise<JobsMade> {
  const uids = new Set<string>();
  const request = await new k8s.Watch(kc).watch(
    `/apis/batch/v1/namespaces/${namespace}/jobs`,
    { labelSelector: `kube-worker/ticket=${ticket}` },
    (type: string, job: k8s.V1Job) => {
      if (job.metadata?.uid && type !== 'DELETED') uids.add(job.metadata.uid);
    },
    () => undefined,
  );
  return { uids, stop: () => request.abort() };
}
