/**
 * An executor killed mid-run, or asked to stop: the operation is delivered again, the new executor
 * adopts the Job that exists — a cold one, or a warm one it sends the operation to again, which the
 * pod that has it already ignores — and the script runs once, with its whole log and one result.
 */
import * as k8s from '@kubernetes/client-node';
import { expect, it, onTestFinished } from 'vitest';
import { LABEL_TICKET } from '../../executor/kubernetes/names.js';
import { LABEL_WARM } from '../../executor/kubernetes/warm-pod-spec.js';
import { freePort } from '../support/free-port.js';
import { waitUntil } from '../support/wait-until.js';
import { spawnExecutor, type ChildExecutor } from '../integration/support/child-executor.js';
import { bash } from '../integration/support/stack.js';
import { describeCluster } from './support/cluster.js';
import { useJobsMade } from './support/jobs-made.js';
import { useKubeWorker, type KubeWorker } from './support/kube-worker.js';
import { describeInPodModes, expectRanIn, podModeEnv, warmPoolReady, type PodMode } from './support/pod-modes.js';

/** An executor in a process of its own, its warm pool (in warm mode) ready: the operation submitted next is bound to one of its warm pods. */
async function spawnReadyExecutor(kw: KubeWorker, mode: PodMode): Promise<ChildExecutor> {
  const port = await freePort();
  const child = await spawnExecutor(kw.stack, { ...kw.env(), KUBE_WORKER_METRICS_PORT: String(port), HOST: '127.0.0.1' });
  await warmPoolReady(mode, `http://127.0.0.1:${port}/metrics`);
  return child;
}

describeInPodModes('an executor killed while its operation runs', (mode) => {
  const kw = useKubeWorker('crash', { ...podModeEnv(mode), KUBE_WORKER_LOCK_DURATION_MS: '3000' });
  const jobs = useJobsMade(kw.ns);

  it('is adopted after a restart: one Job, one run, the full log, one result', async () => {
    const doomed = await spawnReadyExecutor(kw, mode);
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
    await expectRanIn(mode, jobs, ticket);
  });
});

describeInPodModes('an executor asked to stop while its operation runs', (mode) => {
  const kw = useKubeWorker('handback', podModeEnv(mode));
  const jobs = useJobsMade(kw.ns);

  it('hands the operation back at once; the next executor adopts the Job and the script is not run again', async () => {
    const stopping = await spawnReadyExecutor(kw, mode);
    const ticket = await kw.stack.submit(bash('for i in $(seq 1 8); do echo "step $i"; sleep 0.5; done', { ticket: 'handback' }));
    await kw.stack.waitForState(ticket, ['running'], 60_000);
    stopping.process.kill('SIGTERM');
    expect(await stopping.exited).toBe(0);
    expect((await kw.stack.api('GET', `/api/v1/operations/${ticket}`)).body.state).toBe('running');
    await kw.addExecutor();
    const status = await kw.stack.waitUntilDone(ticket, 90_000);
    expect(status.state).toBe('succeeded');
    expect(status.logs.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(Array.from({ length: 8 }, (_, i) => `step ${i + 1}`));
    await expectRanIn(mode, jobs, ticket);
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

/**
 * Stopped dead while it binds a warm pod: the moment the API server has the warm Job claimed for
 * the operation (labelled bound), the executor is frozen (SIGSTOP: nothing of it runs after that)
 * and then SIGKILLed — before or while the payload goes down the pod's stdin. Whatever the pod got,
 * the script runs at most once and the operation ends: with its own result when the payload
 * arrived whole (or the adopter sent it), RuntimeError -42 when it arrived cut short.
 */
describeCluster('an executor killed while it binds a warm pod', () => {
  const kw = useKubeWorker('bindkill', { ...podModeEnv('warm'), KUBE_WORKER_LOCK_DURATION_MS: '3000' });
  const jobs = useJobsMade(kw.ns);

  it.each([1, 2])('never runs the script twice, and the operation ends (run %i)', async (run) => {
    const doomed = await spawnReadyExecutor(kw, 'warm');
    const ticket = `bind-kill-${run}`;
    let frozen = false;
    const claimed = await new k8s.Watch(kw.ns.kc).watch(
      `/apis/batch/v1/namespaces/${kw.ns.name}/jobs`,
      { labelSelector: `${LABEL_WARM}=bound,${LABEL_TICKET}=${ticket}` },
      () => {
        if (frozen) return;
        frozen = true;
        doomed.process.kill('SIGSTOP');
      },
      () => undefined,
    );
    onTestFinished(() => claimed.abort());
    await kw.stack.submit(bash('echo ran-once; sleep 2; exit 5', { ticket }));
    await waitUntil('the warm Job claimed and its executor frozen', async () => frozen, 60_000);
    doomed.process.kill('SIGKILL');
    await doomed.exited;

    // Closed after the run, so that the next run's operation can only be the doomed executor's.
    const adopter = await kw.addExecutor();
    onTestFinished(() => adopter.close());
    const status = await kw.stack.waitUntilDone(ticket, 120_000);
    const out = status.logs.filter((l) => l.stream === 'stdout').map((l) => l.text);
    const ended = { state: status.state, exitCode: status.exitCode, reason: status.failure?.reason, out };
    console.info(`[bind-kill] run ${run}: ${JSON.stringify(ended)}`);
    expect([
      { state: 'failed', exitCode: 5, reason: 'ScriptFailed', out: ['ran-once'] },
      { state: 'failed', exitCode: -42, reason: 'RuntimeError', out: [] },
    ]).toContainEqual(ended);
    await expectRanIn('warm', jobs, ticket);
  });
});
