/**
 * Warm pods no node has room for stay pending, kube_worker_warm_pods counts them so, and they hold
 * no operation up: operations with small requests of their own run in cold pods meanwhile, and one
 * a warm pod would take gets a cold Job of its own instead of waiting for a warm pod.
 */
import { beforeAll, expect, it } from 'vitest';
import { scrape } from '../integration/support/metrics.js';
import { bash } from '../integration/support/stack.js';
import { describeCluster, eventually } from './support/cluster.js';
import { useJobsMade } from './support/jobs-made.js';
import { useKubeWorker } from './support/kube-worker.js';
import { expectRanIn, WARM_POOL } from './support/pod-modes.js';

describeCluster('warm pods no node has room for', () => {
  const kw = useKubeWorker('warm-pending', {
    KUBE_WORKER_WARM_PODS: String(WARM_POOL),
    // What a warm pod holds is the default request: more CPU than the node has, so none is ever placed.
    KUBE_WORKER_SCRIPT_REQUESTS_CPU: '64',
  });
  const jobs = useJobsMade(kw.ns);

  const warmPods = async (): Promise<Record<string, number>> => {
    const metrics = await scrape(`${kw.stack.url}/metrics`);
    const count = (state: string): number => metrics.value('kube_worker_warm_pods', { pool: 'default', state });
    return { pending: count('pending'), starting: count('starting'), ready: count('ready') };
  };
  /** Idle warm pods the scheduler turned down for want of room (a warm pod is labelled with its Job, which says it is idle). */
  const unschedulableWarm = async (): Promise<number> => {
    const idle = (await kw.ns.batch.listNamespacedJob({ namespace: kw.ns.name, labelSelector: 'kube-worker/warm=idle' })).items.map((j) => j.metadata!.name!);
    const pods = (await kw.ns.core.listNamespacedPod({ namespace: kw.ns.name })).items.filter((p) =>
      idle.includes(p.metadata?.labels?.['kube-worker/job'] ?? ''),
    );
    return pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable')).length;
  };
  const out = (status: { logs: Array<{ stream: string; text: string }> }): string[] => status.logs.filter((l) => l.stream === 'stdout').map((l) => l.text);

  beforeAll(async () => {
    await kw.addExecutor();
    await eventually('every warm pod turned down by the scheduler', async () => (await unschedulableWarm()) === WARM_POOL, 90_000);
  });

  it('counts them as pending in kube_worker_warm_pods', async () => {
    expect(await warmPods()).toEqual({ pending: WARM_POOL, starting: 0, ready: 0 });
  });

  it('runs operations with small requests of their own in cold pods meanwhile, more at once than the pool holds', async () => {
    const tickets = await Promise.all(
      Array.from({ length: WARM_POOL + 1 }, (_, i) => kw.stack.submit(bash(`echo "cold ${i}"`, { resources: { requests: { cpu: '50m' } } }))),
    );
    const statuses = await Promise.all(tickets.map((ticket) => kw.stack.waitUntilDone(ticket, 90_000)));
    statuses.forEach((status, i) => {
      expect([status.state, status.failure]).toEqual(['succeeded', undefined]);
      expect(out(status)).toEqual([`cold ${i}`]);
    });
    for (const ticket of tickets) await expectRanIn('cold', jobs, ticket);
    expect(await unschedulableWarm()).toBe(WARM_POOL);
    expect(await warmPods()).toEqual({ pending: WARM_POOL, starting: 0, ready: 0 });
  });

  it('gives an operation a warm pod would take a cold Job of its own at once, instead of waiting for a warm pod', async () => {
    const ticket = await kw.stack.submit(bash('echo never'));
    // Its pod asks the room the warm pods ask, which no node has: it waits as any cold pod would, in a Job of its own.
    await expectRanIn('cold', jobs, ticket);
    expect((await kw.stack.api('POST', `/api/v1/operations/${ticket}/cancel`)).status).toBe(202);
    const status = await kw.stack.waitUntilDone(ticket, 60_000);
    expect([status.state, status.exitCode]).toEqual(['cancelled', -43]);
    expect(out(status)).toEqual([]);
    expect(await warmPods()).toEqual({ pending: WARM_POOL, starting: 0, ready: 0 });
  });
});
