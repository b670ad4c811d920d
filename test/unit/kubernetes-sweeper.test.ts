import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { OperationState } from '../../core/contract/status.js';
import { createLogger } from '../../core/logger.js';
import type { OperationStore } from '../../core/operation-store.js';
import { buildScriptJob } from '../../executor/kubernetes/job-spec.js';
import type { KubeApi } from '../../executor/kubernetes/kube-api.js';
import { sweepOnce } from '../../executor/kubernetes/sweeper.js';
import { buildWarmJob } from '../../executor/kubernetes/warm-pod-spec.js';
import { readConfig } from '../../core/config.js';

/** A namespace's Jobs that answers label selectors of equality terms, as the API server does. */
function fakeNamespace(jobs: V1Job[]) {
  const deleted: string[] = [];
  const matches = (labels: Record<string, string> | undefined, selector: string | undefined): boolean =>
    (selector ?? '')
      .split(',')
      .filter(Boolean)
      .every((term) => {
        const [key, value] = term.split('=');
        return labels?.[key!] === value;
      });
  const api = {
    namespace: 'shared',
    call: <T>(_verb: string, request: () => Promise<T>) => request(),
    batch: {
      listNamespacedJob: async ({ labelSelector }: { labelSelector?: string }) => ({ items: jobs.filter((j) => matches(j.metadata?.labels, labelSelector)) }),
      deleteNamespacedJob: async ({ name, body }: { name: string; body?: { preconditions?: { resourceVersion?: string } } }) => {
        // A delete that requires a version the Job no longer has is refused, as the API server does (409).
        const job = jobs.find((j) => j.metadata?.name === name);
        if (body?.preconditions?.resourceVersion && body.preconditions.resourceVersion !== job?.metadata?.resourceVersion) throw new Error('409 Conflict');
        deleted.push(`Job ${name}`);
      },
    },
  };
  return { api: api as unknown as KubeApi, deleted };
}

const request = { pool: 'default', script: { syntax: 'bash' as const, body: 'true' } };
const jobOf = (instance: string, ticket: string): V1Job => buildScriptJob(ticket, request, 60, readConfig({ KUBE_WORKER_INSTANCE: instance })).job;
/** Both releases know no operation "deploy-1": to each, the Job looks left behind. */
const store = (states: Record<string, OperationState> = {}) =>
  ({ state: async ({ ticket }: { ticket: string }) => states[ticket] }) as unknown as OperationStore;

describe('the sweeper', () => {
  it("removes its own instance's leftover Jobs and never another instance's, even for the same ticket", async () => {
    const mine = jobOf('release-a', 'deploy-1');
    const theirs = jobOf('release-b', 'deploy-1');
    const { api, deleted } = fakeNamespace([mine, theirs]);
    await sweepOnce(api, 'release-a', store(), createLogger('silent', 'test'));
    expect(deleted).toEqual([`Job ${mine.metadata!.name}`]);
  });

  it('leaves a Job whose operation is still unfinished', async () => {
    const { api, deleted } = fakeNamespace([jobOf('kw', 'deploy-2')]);
    await sweepOnce(api, 'kw', store({ 'deploy-2': 'running' }), createLogger('silent', 'test'));
    expect(deleted).toEqual([]);
  });

  describe('idle warm Jobs', () => {
    const warm = (id: string, ageSeconds: number, resourceVersion = '1'): V1Job => {
      const job = buildWarmJob(id, 'default', 'owner', 600, readConfig({ KUBE_WORKER_INSTANCE: 'kw' }));
      return { ...job, metadata: { ...job.metadata, resourceVersion, creationTimestamp: new Date(Date.now() - ageSeconds * 1000) } };
    };

    it('removes one left behind (past its age by a minute), and keeps a young one', async () => {
      const old = warm('old', 700);
      const young = warm('young', 30);
      const { api, deleted } = fakeNamespace([old, young]);
      await sweepOnce(api, 'kw', store(), createLogger('silent', 'test'), 600);
      expect(deleted).toEqual([`Job ${old.metadata!.name}`]);
    });

    it('keeps one claimed since it was listed: the delete requires the version seen idle', async () => {
      const listed = warm('claimed', 700, '1');
      const claimed = { ...listed, metadata: { ...listed.metadata, resourceVersion: '2' } };
      const namespace = fakeNamespace([claimed]);
      // The sweeper lists the idle version; by its delete, the namespace holds the claimed one.
      const api = { ...namespace.api, batch: { ...namespace.api.batch, listNamespacedJob: async () => ({ items: [listed] }) } } as unknown as KubeApi;
      await sweepOnce(api, 'kw', store(), createLogger('silent', 'test'), 600);
      expect(namespace.deleted).toEqual([]);
    });
  });
});
