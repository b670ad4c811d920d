/**
 * The kube-apiserver restarted while Jobs run (etcd keeps every object): the executors' watches
 * and requests fail for a while, then every operation still ends with its script's own result, and
 * each operation's Job was created once.
 */
import * as k8s from '@kubernetes/client-node';
import { expect, it } from 'vitest';
import { jobName } from '../../executor/kubernetes/names.js';
import { bash } from '../integration/support/stack.js';
import { clusterUnavailable, describeCluster, type TestNamespace } from '../e2e/support/cluster.js';
import { useKubeWorker } from '../e2e/support/kube-worker.js';
import { restartApiserver } from './support/apiserver.js';

const OPERATIONS = 12;

/**
 * The uids of every Job and pod the namespace ever had, by Job name: informers that resume across
 * the restart (events alone would not do: the controllers drop events while the apiserver is away).
 */
async function recordObjects(ns: TestNamespace): Promise<{ uidsOf(jobName: string): { jobs: number; pods: number }; stop(): Promise<void> }> {
  const jobs = new Map<string, Set<string>>();
  const pods = new Map<string, Set<string>>();
  const note = (into: Map<string, Set<string>>, name: string | undefined, uid: string | undefined): void => {
    if (!name || !uid) return;
    into.set(name, (into.get(name) ?? new Set()).add(uid));
  };
  const informers = [
    k8s.makeInformer<k8s.V1Job>(ns.kc, `/apis/batch/v1/namespaces/${ns.name}/jobs`, () => ns.batch.listNamespacedJob({ namespace: ns.name })),
    k8s.makeInformer<k8s.V1Pod>(ns.kc, `/api/v1/namespaces/${ns.name}/pods`, () => ns.core.listNamespacedPod({ namespace: ns.name })),
  ] as const;
  const [jobInformer, podInformer] = informers;
  jobInformer.on('add', (job) => note(jobs, job.metadata?.name, job.metadata?.uid));
  podInformer.on('add', (pod) => note(pods, pod.metadata?.labels?.['batch.kubernetes.io/job-name'], pod.metadata?.uid));
  let stopped = false;
  for (const informer of informers) {
    informer.on('error', () => setTimeout(() => void (stopped || informer.start().catch(() => undefined)), 500));
    await informer.start();
  }
  return {
    uidsOf: (jobName) => ({ jobs: jobs.get(jobName)?.size ?? 0, pods: pods.get(jobName)?.size ?? 0 }),
    async stop() {
      stopped = true;
      for (const informer of informers) await informer.stop();
    },
  };
}

if (process.env.CI === 'true' && clusterUnavailable()) {
  it('the kube-apiserver restart needs the test cluster', () => {
    throw new Error(`${clusterUnavailable()}; .ci/run brings it up before the tests`);
  });
}

describeCluster('the kube-apiserver restarted while Jobs run', () => {
  const kw = useKubeWorker('apiserver-restart', { KUBE_WORKER_CONCURRENCY: '8' });

  it('misses no completion and creates no Job twice', async () => {
    await kw.addExecutor();
    await kw.addExecutor();
    const objects = await recordObjects(kw.ns);
    const tickets = await Promise.all(
      Array.from({ length: OPERATIONS }, (_, i) =>
        kw.stack.submit(bash(`echo "begin ${i}"; sleep 6; echo "end ${i}"; exit ${i % 3}`, { ticket: `apiserver-restart-${i}` })),
      ),
    );
    await kw.stack.waitForState(tickets[0]!, ['running'], 120_000);
    await restartApiserver();

    const results = await Promise.all(tickets.map((ticket) => kw.stack.waitUntilDone(ticket, 180_000)));
    expect(
      results.map((r, i) => ({
        ticket: r.ticket,
        exitCode: r.exitCode,
        begins: r.logs.filter((l) => l.text === `begin ${i}`).length,
        last: r.logs.filter((l) => l.stream === 'stdout').at(-1)?.text,
      })),
    ).toEqual(tickets.map((ticket, i) => ({ ticket, exitCode: i % 3, begins: 1, last: `end ${i}` })));
    // Each Job once: one object (uid) per operation, and one pod created for it.
    await objects.stop();
    expect(tickets.map((ticket) => ({ ticket, ...objects.uidsOf(jobName(kw.instance(), ticket)) }))).toEqual(
      tickets.map((ticket) => ({ ticket, jobs: 1, pods: 1 })),
    );
  });
});
