/**
 * What `helm install` gives the executor is enough: the chart's own ServiceAccounts, Role and
 * RoleBinding are applied to a fresh namespace, the executor runs with a token of its
 * ServiceAccount and the settings the chart gives it, and operations run end to end. The same
 * token gets nowhere outside the namespace.
 */
import * as k8s from '@kubernetes/client-node';
import { beforeAll, expect, it } from 'vitest';
import { bash, setVariable } from '../integration/support/stack.js';
import { containerOf, find, render, type KubeObject } from '../chart/support/helm.js';
import { containerEnv } from '../chart/support/pod-env.js';
import { adminKubeConfig, describeCluster, eventually, scriptImage, serviceAccountAccess, statusOf } from './support/cluster.js';
import { useKubeWorker } from './support/kube-worker.js';

const NAME = 'kw-kube-worker';
/** Settings the test stack keeps its own: its Redis and key prefix, and quiet logs. */
const STACK_OWN = new Set(['REDIS_URL', 'REDIS_PASSWORD', 'KUBE_WORKER_PREFIX', 'KUBE_WORKER_LOG_LEVEL']);

describeCluster('installed by the Helm chart', () => {
  // Filled from the chart's rendering before the stack starts (the access hook runs first).
  const chartEnv: Record<string, string> = {};

  const kw = useKubeWorker('install', chartEnv, {
    async access(namespace) {
      // Scripts run in the local registry's script tools image, set as users set theirs.
      const [, repository, tag] = /^(.+):([\w.-]+)$/.exec(scriptImage())!;
      const objects = await render({ scriptPods: { worker: { image: { repository, tag } } } }, namespace);
      const admin = k8s.KubernetesObjectApi.makeApiClient(adminKubeConfig());
      const applied: KubeObject[] = [
        find(objects, 'ServiceAccount', `${NAME}-executor`),
        find(objects, 'Role', `${NAME}-executor`),
        find(objects, 'RoleBinding', `${NAME}-executor`),
        find(objects, 'ServiceAccount', `${NAME}-script`),
      ];
      for (const object of applied) await admin.create(object);
      const executor = containerOf(find(objects, 'Deployment', `${NAME}-executor`));
      for (const [name, value] of Object.entries(containerEnv(objects, executor))) if (!STACK_OWN.has(name)) chartEnv[name] = value;
      return serviceAccountAccess(namespace, `${NAME}-executor`);
    },
  });

  beforeAll(() => kw.addExecutor());

  it('runs the executor with the chart’s settings, and its permission check finds nothing missing', async () => {
    expect(chartEnv).toMatchObject({
      KUBE_WORKER_RUNTIME: 'kubernetes',
      KUBE_WORKER_NAMESPACE: kw.ns.name,
      KUBE_WORKER_SCRIPT_SERVICE_ACCOUNT: `${NAME}-script`,
    });
    const { body } = await kw.stack.api('GET', '/api/v1/worker');
    expect(body.executors).toEqual([expect.objectContaining({ runtime: 'kubernetes' })]);
    expect(body.problems).toEqual([]);
  });

  it('runs operations end to end: output, output variables, exit codes, and nothing left behind', async () => {
    const [good, bad] = await Promise.all([
      kw.stack.submit(bash(`echo "hello from a Job"; ${setVariable('Answer', '42')}`, { ticket: 'install-good' })),
      kw.stack.submit(bash('echo "about to fail" >&2; exit 3', { ticket: 'install-bad' })),
    ]);
    const pod = await eventually(
      'the pod of the first operation',
      async () => (await kw.ns.core.listNamespacedPod({ namespace: kw.ns.name, labelSelector: `kube-worker/ticket=${good}` })).items[0],
    );
    expect(pod.spec).toMatchObject({ serviceAccountName: `${NAME}-script`, automountServiceAccountToken: false });

    const succeeded = await kw.stack.waitUntilDone(good, 120_000);
    expect(succeeded).toMatchObject({ state: 'succeeded', exitCode: 0, outputVariables: { Answer: { value: '42', sensitive: false } } });
    expect(succeeded.logs.map((l) => `${l.stream}:${l.text}`)).toContain('stdout:hello from a Job');
    const failed = await kw.stack.waitUntilDone(bad, 120_000);
    expect(failed).toMatchObject({ state: 'failed', exitCode: 3, failure: { reason: 'ScriptFailed' } });
    expect(failed.logs.map((l) => `${l.stream}:${l.text}`)).toContain('stderr:about to fail');

    await eventually('the Jobs and Secrets removed', async () => {
      const selector = 'app.kubernetes.io/managed-by=kube-worker';
      const [jobs, secrets] = await Promise.all([
        kw.ns.batch.listNamespacedJob({ namespace: kw.ns.name, labelSelector: selector }),
        kw.ns.core.listNamespacedSecret({ namespace: kw.ns.name, labelSelector: selector }),
      ]);
      return jobs.items.length === 0 && secrets.items.length === 0;
    });
  });

  it('cancels a running operation by deleting its pod', async () => {
    const ticket = await kw.stack.submit(bash('echo started; sleep 600', { ticket: 'install-cancel' }));
    await kw.stack.waitForState(ticket, ['running'], 120_000);
    expect((await kw.stack.api('POST', `/api/v1/operations/${ticket}/cancel`)).status).toBeLessThan(300);
    expect(await kw.stack.waitUntilDone(ticket, 120_000)).toMatchObject({ state: 'cancelled', exitCode: -43 });
  });

  it('refuses the same token anywhere outside its namespace', async () => {
    const core = kw.access.kubeConfig.makeApiClient(k8s.CoreV1Api);
    const batch = kw.access.kubeConfig.makeApiClient(k8s.BatchV1Api);
    const rbac = kw.access.kubeConfig.makeApiClient(k8s.RbacAuthorizationV1Api);
    const refusal = (call: Promise<unknown>) =>
      call.then(
        () => 'allowed',
        (error: unknown) => statusOf(error),
      );

    // The token itself works: in its namespace it may list pods.
    await core.listNamespacedPod({ namespace: kw.ns.name });
    expect(await refusal(core.listNamespacedPod({ namespace: 'default' }))).toBe(403);
    expect(await refusal(core.listNamespacedSecret({ namespace: 'kube-system' }))).toBe(403);
    expect(
      await refusal(
        batch.createNamespacedJob({
          namespace: 'default',
          body: {
            metadata: { name: 'escape' },
            spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['true'] }] } } },
          },
        }),
      ),
    ).toBe(403);
    expect(await refusal(core.listNamespace())).toBe(403);
    expect(await refusal(rbac.createClusterRole({ body: { metadata: { name: 'escape' }, rules: [] } }))).toBe(403);
    // Nor can it widen its own Role.
    expect(
      await refusal(
        rbac.patchNamespacedRole({
          name: `${NAME}-executor`,
          namespace: kw.ns.name,
          body: [{ op: 'add', path: '/rules/-', value: { apiGroups: ['*'], resources: ['*'], verbs: ['*'] } }],
        }),
      ),
    ).toBe(403);
  });
});
