/**
 * What the executor may do, in its own namespace only. This list is the executor's Role: the chart
 * ships exactly these rules, the e2e tests run with them, and at start-up each verb is checked with
 * a SelfSubjectAccessReview so that a missing one is named before any operation fails on it.
 */
import type { V1PolicyRule } from '@kubernetes/client-node';
import type { KubeApi } from './kube-api.js';

export const EXECUTOR_RULES: V1PolicyRule[] = [
  // create, read back to adopt, informer, resume once its Secret exists, release and sweep.
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch', 'patch', 'delete'] },
  // The informer, and cancel; a pod is never read on its own.
  { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch', 'delete'] },
  { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
  // Create only: the executor never reads a Secret, its own or anyone's, and never deletes one —
  // an operation's Secret is owned by its Job and goes with it.
  { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
  { apiGroups: [''], resources: ['events'], verbs: ['list', 'watch'] },
  { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'], verbs: ['create'] },
];

/**
 * What warm script pods add, and only when they are on (KUBE_WORKER_WARM_PODS > 0): attaching to a
 * warm pod's stdin, once, to send it its operation. The attach is a WebSocket upgrade, a GET that
 * the API server authorizes as `get` and (since Kubernetes 1.35) as `create` too. Claiming a warm
 * Job is a patch of a Job, which EXECUTOR_RULES already grants; nothing else is read or written.
 */
export const WARM_POD_RULES: V1PolicyRule[] = [{ apiGroups: [''], resources: ['pods/attach'], verbs: ['get', 'create'] }];

/** The executor's Role for its settings. */
export const executorRules = (warmPods: number): V1PolicyRule[] => (warmPods > 0 ? [...EXECUTOR_RULES, ...WARM_POD_RULES] : EXECUTOR_RULES);

/** Every verb of `rules` the executor lacks in its namespace, as "verb resource" lines. */
export async function missingPermissions(api: KubeApi, rules: V1PolicyRule[] = EXECUTOR_RULES): Promise<string[]> {
  const checks = rules
    .filter((rule) => rule.resources?.[0] !== 'selfsubjectaccessreviews')
    .flatMap((rule) => rule.resources!.flatMap((resource) => rule.verbs.map((verb) => ({ group: rule.apiGroups?.[0] ?? '', resource, verb }))));
  const results = await Promise.all(
    checks.map(async ({ group, resource, verb }) => {
      const [name, subresource] = resource.split('/');
      const review = await api.call('create', () =>
        api.authorization.createSelfSubjectAccessReview({
          body: { spec: { resourceAttributes: { namespace: api.namespace, group, resource: name, subresource, verb } } },
        }),
      );
      return review.status?.allowed ? undefined : `${verb} ${group ? `${group}/` : ''}${resource} in namespace ${api.namespace}`;
    }),
  );
  return results.filter((r): r is string => r !== undefined);
}
