import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import type { ClusterWatch } from '../../executor/kubernetes/cluster-watch.js';
import { buildScriptJob } from '../../executor/kubernetes/job-spec.js';
import type { KubeApi } from '../../executor/kubernetes/kube-api.js';
import { KubernetesRuntime } from '../../executor/kubernetes/kubernetes-runtime.js';
import type { RunContext } from '../../executor/runtime.js';

const request = { pool: 'default', script: { syntax: 'bash' as const, body: 'true' } };

/** An API whose one Job, under the name the runtime asks for, is `job`; it records every write. */
function apiWith(job: V1Job) {
  const writes: string[] = [];
  const api = {
    namespace: 'shared',
    call: <T>(_verb: string, request: () => Promise<T>) => request(),
    batch: {
      readNamespacedJob: async () => job,
      deleteNamespacedJob: async ({ name }: { name: string }) => void writes.push(`delete Job ${name}`),
      patchNamespacedJob: async ({ name }: { name: string }) => void writes.push(`patch Job ${name}`),
    },
    core: {
      createNamespacedSecret: async () => void writes.push('create Secret'),
    },
  };
  return { api: api as unknown as KubeApi, writes };
}

describe('adopting the Job of a redelivered operation', () => {
  it.each([
    ['another instance', 'release-b', 'deploy-1'],
    ['another ticket of this instance', 'release-a', 'deploy-2'],
  ])('refuses a Job of %s under its name, and neither resumes nor deletes it', async (_case, instance, ticket) => {
    const settings = { ...readConfig({ KUBE_WORKER_INSTANCE: 'release-a' }), podPendingTimeoutSeconds: 900, imagePullGraceSeconds: 60 };
    const { api, writes } = apiWith(buildScriptJob(ticket, request, 60, readConfig({ KUBE_WORKER_INSTANCE: instance })).job);
    const runtime = new KubernetesRuntime(api, {} as ClusterWatch, settings, createLogger('silent', 'test'), () => undefined);
    const context = { ticket: 'deploy-1', request, timeoutSeconds: 60, previousState: 'running' } as unknown as RunContext;
    const outcome = await runtime.adopt(context);
    expect(outcome).toMatchObject({ failure: { reason: 'RuntimeError', message: expect.stringMatching(/belongs to another deployment or operation/) } });
    await runtime.release('deploy-1');
    expect(writes).toEqual([]);
  });
});
