/**
 * Warm script pods on the real node, under Pod Security "restricted" and the executor's Role with
 * only pods/attach added: nothing of an operation is in the pod before the bind; a used warm pod is
 * replaced; an operation with resources of its own runs cold; two executors never bind one pod; a
 * closing executor takes its warm pods with it. That a bound operation behaves as in a cold pod
 * (output, exit code, OOM kill, cancel, timeout, adoption) the Kubernetes cases say, run in both
 * kinds of pod (support/pod-modes.ts).
 */
import type * as k8s from '@kubernetes/client-node';
import { beforeAll, expect, it } from 'vitest';
import { bash } from '../integration/support/stack.js';
import { describeCluster, eventually, type TestNamespace } from './support/cluster.js';
import { useJobsMade } from './support/jobs-made.js';
import { useKubeWorker } from './support/kube-worker.js';
import { expectRanIn } from './support/pod-modes.js';

const WARM = 2;

const enforceRestricted = (ns: TestNamespace) =>
  ns.core.patchNamespace({ name: ns.name, body: [{ op: 'add', path: '/metadata/labels/pod-security.kubernetes.io~1enforce', value: 'restricted' }] });

describeCluster('warm script pods', () => {
  const kw = useKubeWorker('warm', { KUBE_WORKER_WARM_PODS: String(WARM) });
  const jobs = useJobsMade(kw.ns);

  const idleWarmJobs = async (): Promise<k8s.V1Job[]> =>
    (await kw.ns.batch.listNamespacedJob({ namespace: kw.ns.name, labelSelector: 'kube-worker/warm=idle' })).items;
  /** Idle warm Jobs whose pod's container runs: what an operation can be bound to. */
  const readyWarm = async (): Promise<string[]> => {
    const names = new Set((await idleWarmJobs()).map((j) => j.metadata!.name!));
    const pods = await kw.ns.core.listNamespacedPod({ namespace: kw.ns.name });
    return pods.items
      .filter((p) => names.has(p.metadata!.labels!['kube-worker/job']!) && p.status?.containerStatuses?.[0]?.state?.running)
      .map((p) => p.metadata!.labels!['kube-worker/job']!);
  };
  const poolFull = (count = WARM): Promise<string[]> =>
    eventually(`${count} warm pods ready`, async () => ((await readyWarm()).length >= count ? readyWarm() : undefined), 90_000);
  const out = (status: { logs: Array<{ stream: string; text: string }> }, stream = 'stdout'): string[] =>
    status.logs.filter((l) => l.stream === stream).map((l) => l.text);

  beforeAll(async () => {
    await enforceRestricted(kw.ns);
    await kw.addExecutor();
    await poolFull();
  });

  it('puts nothing of the operation in the pod before the bind, and none of it in its spec after: no Secret, no value in the spec', async () => {
    await poolFull();
    const before = JSON.stringify((await kw.ns.core.listNamespacedPod({ namespace: kw.ns.name })).items);
    const ticket = await kw.stack.submit(bash('echo SCRIPT-MARK; sleep 3', { variables: { Token: { value: 'another-secret-456', sensitive: true } } }));
    await kw.stack.waitForState(ticket, ['running'], 60_000);
    const job = await eventually(
      'its warm Job bound',
      async () => (await kw.ns.batch.listNamespacedJob({ namespace: kw.ns.name, labelSelector: `kube-worker/ticket=${ticket}` })).items[0],
    );
    expect(job.metadata!.labels!['kube-worker/warm']).toBe('bound');
    const pods = JSON.stringify((await kw.ns.core.listNamespacedPod({ namespace: kw.ns.name, labelSelector: `kube-worker/job=${job.metadata!.name}` })).items);
    for (const text of [before, pods, JSON.stringify(job)]) {
      expect(text).not.toContain('another-secret-456');
      expect(text).not.toContain('SCRIPT-MARK');
    }
    expect((await kw.ns.core.listNamespacedSecret({ namespace: kw.ns.name })).items.filter((s) => s.metadata?.labels?.['kube-worker/ticket'])).toEqual([]);
    expect((await kw.stack.waitUntilDone(ticket, 60_000)).state).toBe('succeeded');
  });

  it('replaces a used warm pod at once', async () => {
    const before = await poolFull();
    const ticket = await kw.stack.submit(bash('echo hi'));
    expect((await kw.stack.waitUntilDone(ticket, 60_000)).state).toBe('succeeded');
    const after = await eventually('a fresh warm pod in place of the used one', async () => {
      const ready = await readyWarm();
      return ready.length >= WARM && ready.some((name) => !before.includes(name)) ? ready : undefined;
    });
    expect(after.length).toBe(WARM);
  });

  it('runs an operation with resources of its own cold', async () => {
    const ticket = await kw.stack.submit(bash('echo cold', { resources: { requests: { cpu: '50m' } } }));
    const status = await kw.stack.waitUntilDone(ticket, 60_000);
    expect(status.state).toBe('succeeded');
    await expectRanIn('cold', jobs, ticket);
  });

  it('with two executors, binds each warm pod once: every operation runs once; a closing executor takes its warm pods with it', async () => {
    const second = await kw.addExecutor();
    await poolFull(2 * WARM);
    const tickets = await Promise.all(Array.from({ length: 8 }, (_, i) => kw.stack.submit(bash(`echo "run ${i}"`))));
    const statuses = await Promise.all(tickets.map((t) => kw.stack.waitUntilDone(t, 90_000)));
    statuses.forEach((s, i) => {
      expect(s.state).toBe('succeeded');
      expect(out(s)).toEqual([`run ${i}`]);
    });
    await poolFull(2 * WARM);
    await second.close();
    await eventually('only the first executor’s warm pods left', async () => ((await idleWarmJobs()).length === WARM ? true : undefined), 60_000);
  });
});
