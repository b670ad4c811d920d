/**
 * The kubernetes runtime on a real cluster: each operation a Job, run with the executor's own Role,
 * its pod pulled from the local registry and run by containerd with real limits (see test/cluster).
 * What an operation a warm pod can take does is checked in a cold pod and in a warm one; what only a
 * cold pod has (the operation's own image, resources, Job name) in a cold one.
 */
import * as k8s from '@kubernetes/client-node';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { jobName, LABEL_JOB } from '../../executor/kubernetes/names.js';
import { b64, bash, setVariable } from '../integration/support/stack.js';
import { eventually, scriptImage, statusOf } from './support/cluster.js';
import { useJobsMade } from './support/jobs-made.js';
import { useKubeWorker } from './support/kube-worker.js';
import { describeInPodModes, expectRanIn, podModeEnv, warmPoolReady } from './support/pod-modes.js';

describeInPodModes('operations as Kubernetes Jobs', (mode) => {
  // The pending timeout at its default: on a busy node 50 pods at once can take many seconds to start.
  const kw = useKubeWorker('runtime', { ...podModeEnv(mode), KUBE_WORKER_IMAGE_PULL_GRACE_SECONDS: '3' });
  const jobs = useJobsMade(kw.ns);

  const objectsOf = async (ticket: string): Promise<{ jobs: number; pods: number; secrets: number }> => {
    const selector = `kube-worker/ticket=${ticket}`;
    // A warm pod is labelled with its Job, not the ticket: its pod was made before any operation.
    const podSelectors = jobs.of(ticket).map((job) => `${LABEL_JOB}=${job.metadata!.name!}`);
    const [left, pods, secrets] = await Promise.all([
      kw.ns.batch.listNamespacedJob({ namespace: kw.ns.name, labelSelector: selector }),
      Promise.all(podSelectors.map((labelSelector) => kw.ns.core.listNamespacedPod({ namespace: kw.ns.name, labelSelector }))),
      kw.ns.core.listNamespacedSecret({ namespace: kw.ns.name, labelSelector: selector }),
    ]);
    return { jobs: left.items.length, pods: pods.reduce((sum, list) => sum + list.items.length, 0), secrets: secrets.items.length };
  };

  beforeAll(() => kw.addExecutor());
  beforeEach(() => warmPoolReady(mode, `${kw.stack.url}/metrics`));

  it('starts with the Role the chart ships', async () => {
    const { body } = await kw.stack.api('GET', '/api/v1/worker');
    expect(body.executors[0]).toMatchObject({ runtime: 'kubernetes' });
    expect(body.problems).toEqual([]);
  });

  it('runs a script: stdout and stderr apart, files, arguments, variables masked, output variables, its exit code', async () => {
    const ticket = await kw.stack.submit(
      bash(
        [
          'echo "hello from $(pwd)"',
          'echo "to stderr" >&2',
          'cat config/app.json',
          'echo "secret=$DB_PASSWORD args=$*"',
          setVariable('Version', '1.2.3'),
          'exit 3',
        ].join('\n'),
        {
          ticket: 'k8s-output',
          arguments: ['one', 'two words'],
          files: [{ name: 'config/app.json', content: b64('{"ok":true}\n') }],
          variables: { DB_PASSWORD: { value: 'pa55-w0rd', sensitive: true } },
        },
      ),
    );
    const status = await kw.stack.waitUntilDone(ticket, 60_000);
    expect(status.state).toBe('failed');
    expect(status.exitCode).toBe(3);
    expect(status.failure?.reason).toBe('ScriptFailed');
    expect(status.outputVariables).toEqual({ Version: { value: '1.2.3', sensitive: false } });
    const lines = status.logs.map((l) => `${l.stream}:${l.text}`);
    expect(lines).toContain('stdout:hello from /kube-worker/workspace');
    expect(lines).toContain('stderr:to stderr');
    expect(lines).toContain('stdout:{"ok":true}');
    expect(lines).toContain('stdout:secret=******** args=one two words');
    expect(lines.join('\n')).not.toContain('pa55-w0rd');
    expect(status.logs.map((l) => l.seq)).toEqual(status.logs.map((_, i) => i + 1));
    await expectRanIn(mode, jobs, ticket);
  });

  it('leaves nothing behind once an operation is complete', async () => {
    const ticket = await kw.stack.submit(bash('echo done', { ticket: 'k8s-cleanup' }));
    expect((await kw.stack.waitUntilDone(ticket, 60_000)).state).toBe('succeeded');
    await expectRanIn(mode, jobs, ticket);
    await eventually(
      'Job, pods and Secret gone',
      async () => {
        const left = await objectsOf(ticket);
        return left.jobs + left.pods + left.secrets === 0 ? left : undefined;
      },
      30_000,
    );
    expect((await kw.stack.api('DELETE', `/api/v1/operations/${ticket}`)).status).toBe(204);
  });

  it('cancels a running operation: the pod is gone within seconds and the state is cancelled', async () => {
    const ticket = await kw.stack.submit(bash('echo started; sleep 120', { ticket: 'k8s-cancel' }));
    await kw.stack.waitForState(ticket, ['running'], 60_000);
    expect((await kw.stack.api('POST', `/api/v1/operations/${ticket}/cancel`)).status).toBe(202);
    const status = await kw.stack.waitUntilDone(ticket, 30_000);
    expect({ state: status.state, exitCode: status.exitCode, failure: status.failure }).toMatchObject({ state: 'cancelled', exitCode: -43 });
    await expectRanIn(mode, jobs, ticket);
    await eventually('pods gone', async () => ((await objectsOf(ticket)).pods === 0 ? true : undefined), 30_000);
  });

  it('stops an operation past its timeout with DeadlineExceeded and -44', async () => {
    const ticket = await kw.stack.submit(bash('echo started; sleep 120', { timeoutSeconds: 5 }));
    const status = await kw.stack.waitUntilDone(ticket, 60_000);
    expect(status.state).toBe('failed');
    expect(status.exitCode).toBe(-44);
    expect(status.failure?.reason).toBe('DeadlineExceeded');
    await expectRanIn(mode, jobs, ticket);
  });

  it('cannot touch another namespace with its token', async () => {
    const other = kw.access.kubeConfig.makeApiClient(k8s.BatchV1Api);
    const error = await other.listNamespacedJob({ namespace: 'default' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(statusOf(error)).toBe(403);
  });

  it('cannot read a Secret, not even in its own namespace, nor read a pod on its own', async () => {
    const namespace = kw.ns.name;
    await kw.ns.core.createNamespacedSecret({ namespace, body: { metadata: { name: 'not-the-executors' }, stringData: { password: 'elsewhere' } } });
    const core = kw.access.kubeConfig.makeApiClient(k8s.CoreV1Api);
    const refusal = (call: Promise<unknown>) =>
      call.then(
        () => 'allowed',
        (error: unknown) => statusOf(error),
      );
    expect(await refusal(core.listNamespacedSecret({ namespace }))).toBe(403);
    expect(await refusal(core.readNamespacedSecret({ name: 'not-the-executors', namespace }))).toBe(403);
    expect(await refusal(core.readNamespacedPod({ name: 'any', namespace }))).toBe(403);
  });

  // Operations no warm pod takes (an image or resources of their own), and the name only a cold Job has.
  if (mode === 'cold') {
    describe('what only a cold pod has', () => {
      it('runs its pod with the operation image and requests, and no variable in the pod spec', async () => {
        const ticket = await kw.stack.submit(
          bash('echo "in its own image"', {
            ticket: 'k8s-image-requests',
            variables: { DB_PASSWORD: { value: 'pa55-w0rd', sensitive: true } },
            container: { image: scriptImage() },
            resources: { requests: { cpu: '250m', memory: '128Mi' }, limits: { memory: '256Mi' } },
          }),
        );
        const pod = await eventually(
          'the pod',
          async () => (await kw.ns.core.listNamespacedPod({ namespace: kw.ns.name, labelSelector: `kube-worker/ticket=${ticket}` })).items[0],
        );
        const container = pod.spec!.containers[0]!;
        expect(container.image).toBe(scriptImage());
        expect(container.resources).toEqual({ requests: { cpu: '250m', memory: '128Mi' }, limits: { memory: '256Mi' } });
        expect(JSON.stringify(pod.spec)).not.toContain('pa55-w0rd');
        const status = await kw.stack.waitUntilDone(ticket, 60_000);
        expect([status.state, status.failure]).toEqual(['succeeded', undefined]);
        expect(status.logs.map((l) => l.text)).toContain('in its own image');
      });

      it('fails an image on a .invalid host with ImagePullFailed after a short grace', async () => {
        const ticket = await kw.stack.submit(bash('echo never', { container: { image: 'registry.invalid/acme/tools:1' } }));
        const status = await kw.stack.waitUntilDone(ticket, 60_000);
        expect(status.state).toBe('failed');
        expect(status.failure?.reason).toBe('ImagePullFailed');
        expect(status.failure?.message).toMatch(/registry\.invalid/);
      });

      it("fails a tag missing from the registry with ImagePullFailed and the registry's own answer", async () => {
        const missing = `${scriptImage().replace(/(@sha256:[0-9a-f]+|:[\w.-]+)$/, '')}:no-such-tag`;
        const ticket = await kw.stack.submit(bash('echo never', { container: { image: missing } }));
        const status = await kw.stack.waitUntilDone(ticket, 60_000);
        expect(status.state).toBe('failed');
        expect(status.failure?.reason).toBe('ImagePullFailed');
        expect(status.failure?.message).toContain(`${missing}: not found`);
        const system = status.logs
          .filter((l) => l.stream === 'system')
          .map((l) => l.text)
          .join('\n');
        expect(system).toContain('not found');
      });

      it('ends a script that allocates past its memory limit OOMKilled (-81): the kernel killed it', async () => {
        const ticket = await kw.stack.submit(
          bash('echo allocating; python3 -c "b = bytearray(512 * 1024 * 1024); print(len(b))"; echo "python exited $?"', {
            resources: { requests: { memory: '64Mi' }, limits: { memory: '64Mi' } },
          }),
        );
        const status = await kw.stack.waitUntilDone(ticket, 90_000);
        expect({ state: status.state, exitCode: status.exitCode, reason: status.failure?.reason }).toEqual({
          state: 'failed',
          exitCode: -81,
          reason: 'OOMKilled',
        });
        const out = status.logs.filter((l) => l.stream === 'stdout').map((l) => l.text);
        expect(out).toContain('allocating');
        // SIGKILL from the kernel: 128 + 9.
        expect(out).toContain('python exited 137');
      });

      it('runs an operation that sets a memory limit alone, below the default request, as Kubernetes users write it', async () => {
        const ticket = await kw.stack.submit(bash('echo within its limit', { resources: { limits: { memory: '64Mi' } } }));
        const status = await kw.stack.waitUntilDone(ticket, 90_000);
        expect({ state: status.state, exitCode: status.exitCode }).toEqual({ state: 'succeeded', exitCode: 0 });
        expect(status.logs.map((l) => l.text)).toContain('within its limit');
      });

      it("limits the script's CPU: the quota is visible in its cgroup", async () => {
        const ticket = await kw.stack.submit(
          bash('cat /sys/fs/cgroup/cpu.max 2>/dev/null || echo "$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"', {
            resources: { requests: { cpu: '100m' }, limits: { cpu: '500m' } },
          }),
        );
        const status = await kw.stack.waitUntilDone(ticket, 60_000);
        expect(status.state).toBe('succeeded');
        expect(status.logs.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['50000 100000']);
      });

      it('runs 50 operations at once over one watch per kind', async () => {
        const watchesBefore = kw.requests.get('watch 200') ?? 0;
        // 50 pods at once fit the node's CPUs (2 here), beside the other test files' pods, only with
        // small requests: 50 × 10m = half a CPU.
        const tickets = await Promise.all(
          Array.from({ length: 50 }, (_, i) => kw.stack.submit(bash(`echo "op ${i}"`, { ticket: `k8s-many-${i}`, resources: { requests: { cpu: '10m' } } }))),
        );
        const results = await Promise.all(tickets.map((t) => kw.stack.waitUntilDone(t, 170_000)));
        expect(results.filter((r) => r.state !== 'succeeded').map((r) => [r.ticket, r.state, r.failure])).toEqual([]);
        results.forEach((r, i) => expect(r.logs.map((l) => l.text)).toContain(`op ${i}`));
        expect((kw.requests.get('watch 200') ?? 0) - watchesBefore).toBeLessThanOrEqual(3);
      }, 180_000);

      it('names its Jobs from the instance and the ticket', async () => {
        const ticket = await kw.stack.submit(bash('sleep 2', { ticket: 'k8s-named' }));
        await eventually(
          'the Job',
          async () => await kw.ns.batch.readNamespacedJob({ name: jobName(kw.instance(), ticket), namespace: kw.ns.name }).catch(() => undefined),
        );
        await kw.stack.waitUntilDone(ticket, 60_000);
      });

      describe('with a short pending timeout', () => {
        const pending = useKubeWorker('pending', { KUBE_WORKER_POD_PENDING_TIMEOUT_SECONDS: '8' });
        beforeAll(() => pending.addExecutor());

        it('fails a pod that cannot be scheduled with Unschedulable, -44 and the scheduler reason in the log', async () => {
          const ticket = await pending.stack.submit(bash('echo never', { resources: { requests: { cpu: '64' } } }));
          const status = await pending.stack.waitUntilDone(ticket, 60_000);
          expect(status.state).toBe('failed');
          expect(status.exitCode).toBe(-44);
          expect(status.failure?.reason).toBe('Unschedulable');
          const system = status.logs
            .filter((l) => l.stream === 'system')
            .map((l) => l.text)
            .join('\n');
          expect(system).toMatch(/FailedScheduling: .*Insufficient cpu/);
          expect(status.logs.map((l) => l.text)).not.toContain('never');
        });
      });
    });
  }
});
