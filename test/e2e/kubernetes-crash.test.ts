/**
 * An executor killed mid-run: the operation is delivered again, the new executor adopts the Job
 * that exists, and the script runs once, with its whole log and one result.
 */
import { expect, it, onTestFinished } from 'vitest';
import { spawnExecutor } from '../integration/support/child-executor.js';
import { bash } from '../integration/support/stack.js';
import { describeCluster } from './support/cluster.js';
import { watchJobsMade } from './support/jobs-made.js';
import { useKubeWorker } from './support/kube-worker.js';

describeCluster('an executor killed while its operation runs', () => {
  const kw = useKubeWorker('crash', { KUBE_WORKER_LOCK_DURATION_MS: '3000' });

  it('is adopted after a restart: one Job, one run, the full log, one result', async () => {
    const doomed = await spawnExecutor(kw.stack, kw.env());
    const jobs = await watchJobsMade(kw.ns.kc, kw.ns.name, 'crash-adopt');
    onTestFinished(() => jobs.stop());
    const ticket = await kw.stack.submit(bash('for i in $(seq 1 12); do echo "line $i"; sleep 0.5; done; exit 4', { ticket: 'crash-adopt' }));
    // Killed mid-run: some lines stored, the rest still to come from the pod.
    await kw.stack.waitFor(ticket, 'at line 3', (s) => s.logs.some((l) => l.text === 'line 3'), 60_000);
    doomed.process.kill('SIGKILL');
    await doomed.exited;
    await kw.addExecutor();
    const status = await kw.stack.waitUntilDone(ticket, 90_000);
    expect(status.state).toBe('failed');
    expect(status.exitCode).toBe(4);
    const out = status.logs.filter((l) => l.stream === 'stdout').map((l) => l.text);
    expect(out).toEqual(Array.from({ length: 12 }, (_, i) => `line ${i + 1}`));
    // Its one Job was released with the result, and it was the only one made.
    await expect
      .poll(async () => (await kw.ns.batch.listNamespacedJob({ namespace: kw.ns.name, labelSelector: `kube-worker/ticket=${ticket}` })).items, {
        timeout: 30_000,
      })
      .toEqual([]);
    expect(jobs.uids.size).toBe(1);
  });
});

describeCluster('an executor asked to stop while its operation runs', () => {
  const kw = useKubeWorker('handback');

  it('hands the operation back at once; the next executor adopts the Job and the script is not run again', async () => {
    const stopping = await spawnExecutor(kw.stack, kw.env());
    const jobs = await watchJobsMade(kw.ns.kc, kw.ns.name, 'handback');
    onTestFinished(() => jobs.stop());
    const ticket = await kw.stack.submit(bash('for i in $(seq 1 8); do echo "step $i"; sleep 0.5; done', { ticket: 'handback' }));
    await kw.stack.waitForState(ticket, ['running'], 60_000);
    stopping.process.kill('SIGTERM');
    expect(await stopping.exited).toBe(0);
    expect((await kw.stack.api('GET', `/api/v1/operations/${ticket}`)).body.state).toBe('running');
    await kw.addExecutor();
    const status = await kw.stack.waitUntilDone(ticket, 90_000);
    expect(status.state).toBe('succeeded');
    expect(status.logs.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(Array.from({ length: 8 }, (_, i) => `step ${i + 1}`));
    expect(jobs.uids.size).toBe(1);
  });
});

describeCluster('an executor without enough permissions', () => {
  const kw = useKubeWorker('preflight');

  it('refuses to start, naming what is missing, and the worker health says so', async () => {
    const { serviceAccountWithRules } = await import('./support/cluster.js');
    const weak = await serviceAccountWithRules(
      kw.ns.name,
      [
        { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get'] },
        { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'], verbs: ['create'] },
      ],
      { name: 'weak-executor' },
    );
    const error = await kw.addExecutor({ KUBECONFIG: weak.kubeconfigPath }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toContain('missing');
    expect(error?.message).toContain(`watch batch/jobs in namespace ${kw.ns.name}`);
    expect(error?.message).toContain(`create secrets in namespace ${kw.ns.name}`);
    const { body } = await kw.stack.api('GET', '/api/v1/worker');
    expect(body.problems.join('\n')).toContain('refused to start');
  });
});
