/**
 * Every Job the API server saw made for each ticket of a namespace, by uid, from a watch: "one Job"
 * and "a warm Job" asserted from the Jobs themselves, though the executor deletes them with the
 * result. The Job controller's events would say it too, but it records them on its own time and
 * drops them when a busy cluster fills its queue.
 *
 * A warm Job carries no ticket until it is bound: it is seen from its bind on, with its labels then.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll } from 'vitest';
import { ANNOTATION_TICKET, LABEL_TICKET } from '../../../executor/kubernetes/names.js';
import type { TestNamespace } from './cluster.js';

export interface JobsMade {
  /** The Jobs made for `ticket` since the watch began, each as last seen. */
  of(ticket: string): k8s.V1Job[];
  stop(): void;
}

export async function watchJobsMade(kc: k8s.KubeConfig, namespace: string): Promise<JobsMade> {
  const jobs = new Map<string, k8s.V1Job>();
  let resourceVersion: string | undefined;
  let request: AbortController | undefined;
  let stopped = false;
  let lost: string | undefined;
  const follow = async (): Promise<void> => {
    request = await new k8s.Watch(kc).watch(
      `/apis/batch/v1/namespaces/${namespace}/jobs`,
      // Bookmarks keep the version to go on from recent, however quiet the namespace.
      { labelSelector: LABEL_TICKET, allowWatchBookmarks: true, ...(resourceVersion ? { resourceVersion } : {}) },
      (type: string, job: k8s.V1Job) => {
        if (type === 'ERROR') {
          lost = JSON.stringify(job);
          return;
        }
        resourceVersion = job.metadata?.resourceVersion ?? resourceVersion;
        if (type !== 'BOOKMARK' && job.metadata?.uid) jobs.set(job.metadata.uid, job);
      },
      // A watch the server or the connection ended goes on from the last version seen: no Job is missed.
      () => {
        if (!stopped && !lost) follow().catch((error: unknown) => (lost = String(error)));
      },
    );
  };
  await follow();
  return {
    of(ticket) {
      if (lost) throw new Error(`the watch of the Jobs of namespace ${namespace} lost track of them: ${lost}`);
      return [...jobs.values()].filter((job) => job.metadata?.annotations?.[ANNOTATION_TICKET] === ticket);
    },
    stop() {
      stopped = true;
      request?.abort();
    },
  };
}

/** The Jobs made in `ns` while the calling describe block runs (from its beforeAll to its afterAll). */
export function useJobsMade(ns: TestNamespace): JobsMade {
  let made: JobsMade | undefined;
  beforeAll(async () => {
    made = await watchJobsMade(ns.kc, ns.name);
  });
  afterAll(() => made?.stop());
  return {
    of: (ticket) => made!.of(ticket),
    stop: () => made?.stop(),
  };
}
