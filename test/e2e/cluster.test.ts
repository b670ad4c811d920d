/**
 * Self-tests of the test cluster (test/cluster): the control plane and the node (kubelet,
 * containerd, kube-proxy, CoreDNS) behave as Kubernetes does for what kube-worker relies on.
 */
import { cpus } from 'node:os';
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { expect, it } from 'vitest';
import {
  adminKubeConfig,
  describeCluster,
  eventsFor,
  eventually,
  jobCondition,
  jobPods,
  podProcesses,
  scriptImage,
  serviceAccountWithRules,
  statusOf,
  useNamespace,
} from './support/cluster.js';

function job(name: string, script: string, extra: { spec?: Partial<k8s.V1JobSpec>; container?: Partial<k8s.V1Container> } = {}): k8s.V1Job {
  return {
    metadata: { name },
    spec: {
      backoffLimit: 0,
      ...extra.spec,
      template: {
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 5,
          containers: [{ name: 'main', image: scriptImage(), command: ['sh', '-c', script], ...extra.container }],
        },
      },
    },
  };
}

/** Kubernetes memory quantities as the kubelet reports them (Ki, Mi, Gi or bytes). */
function bytes(quantity: string | undefined): number {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity ?? '');
  if (!m) throw new Error(`not a memory quantity: ${quantity}`);
  return Number(m[1]) * { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, '': 1 }[m[2] ?? '']!;
}

describeCluster('test cluster', () => {
  const ns = useNamespace('cluster');

  it('has a Ready node with a finite capacity', async () => {
    const core = adminKubeConfig().makeApiClient(k8s.CoreV1Api);
    // The real one: simulated nodes (kwok, see test/cluster/README.md) may be there beside it.
    const nodes = { items: (await core.listNode()).items.filter((n) => !n.metadata?.annotations?.['kwok.x-k8s.io/node']) };
    expect(nodes.items).toHaveLength(1);
    const node = nodes.items[0]!;
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    // The machine's CPUs; 8Gi of memory for pods, whatever the machine has.
    expect(node.status?.capacity).toMatchObject({ cpu: String(cpus().length), pods: '110' });
    expect(Math.abs(bytes(node.status?.allocatable?.memory) - 8 * 1024 ** 3)).toBeLessThan(1024 ** 2);
    expect(node.status?.addresses).toContainEqual({ type: 'InternalIP', address: '10.250.0.1' });
    const version = await adminKubeConfig().makeApiClient(k8s.VersionApi).getCode();
    expect(version.gitVersion).toMatch(/^v1\.3\d+\.\d+$/);
    expect(node.status?.nodeInfo).toMatchObject({ kubeletVersion: version.gitVersion, kubeProxyVersion: expect.any(String) });
    expect(node.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^containerd:\/\//);
  });

  it('runs a Job that fails: exit code 7, its log says hi', async () => {
    await ns.batch.createNamespacedJob({ namespace: ns.name, body: job('exit7', 'echo hi; exit 7') });
    const done = await eventually('Job exit7 Failed', async () => {
      const j = await ns.batch.readNamespacedJob({ name: 'exit7', namespace: ns.name });
      return jobCondition(j, 'Failed') ? j : undefined;
    });
    expect(jobCondition(done, 'Failed')?.reason).toBe('BackoffLimitExceeded');
    const pods = await jobPods(ns.kc, ns.name, 'exit7');
    expect(pods).toHaveLength(1);
    const pod = pods[0]!;
    expect(pod.status?.phase).toBe('Failed');
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(7);
    const log = await ns.core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: ns.name, container: 'main' });
    expect(log).toBe('hi\n');
    const reasons = (await eventsFor(ns.kc, ns.name, pod.metadata!.name!)).map((e) => e.reason);
    // The image is pulled once per node ("Pulling"), then found there ("Pulled": already present).
    expect(reasons).toEqual(expect.arrayContaining(['Scheduled', 'Pulled', 'Created', 'Started']));
  });

  it('runs a Job that succeeds, with a Secret volume, env from a Secret and a ConfigMap, and a working dir', async () => {
    await ns.core.createNamespacedSecret({
      namespace: ns.name,
      body: {
        metadata: { name: 'op' },
        stringData: {
          'script.sh': 'echo "script ran in $(pwd) with $GREETING and $TOKEN"; cat /kube-worker/operation/files/data.txt',
          'data.txt': 'file content',
          token: 's3cret',
        },
      },
    });
    await ns.core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'cfg' }, data: { greeting: 'hello' } } });
    const body = job('secret-script', 'sh /kube-worker/operation/script.sh', {
      container: {
        workingDir: '/kube-worker/work',
        env: [
          { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'greeting' } } },
          { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'op', key: 'token' } } },
        ],
        volumeMounts: [
          { name: 'op', mountPath: '/kube-worker/operation', readOnly: true },
          { name: 'work', mountPath: '/kube-worker/work' },
        ],
      },
    });
    body.spec!.template.spec!.volumes = [
      {
        name: 'op',
        secret: {
          secretName: 'op',
          items: [
            { key: 'script.sh', path: 'script.sh' },
            { key: 'data.txt', path: 'files/data.txt' },
          ],
        },
      },
      { name: 'work', emptyDir: {} },
    ];
    await ns.batch.createNamespacedJob({ namespace: ns.name, body });
    await eventually('Job secret-script Complete', async () =>
      jobCondition(await ns.batch.readNamespacedJob({ name: 'secret-script', namespace: ns.name }), 'Complete'),
    );
    const [pod] = await jobPods(ns.kc, ns.name, 'secret-script');
    const log = await ns.core.readNamespacedPodLog({ name: pod!.metadata!.name!, namespace: ns.name });
    expect(log).toBe('script ran in /kube-worker/work with hello and s3cret\nfile content');
  });

  it('gives pods the API server as kubernetes.default, through the cluster DNS and a Service', async () => {
    const script = [
      'getent hosts kubernetes.default.svc.cluster.local',
      // The Service's port 443 leads to the API server; its /livez answers anyone.
      'curl -sS --max-time 10 --cacert /var/run/secrets/kubernetes.io/serviceaccount/ca.crt https://kubernetes.default/livez',
    ].join('; ');
    await ns.batch.createNamespacedJob({ namespace: ns.name, body: job('dns', script) });
    const done = await eventually('Job dns finished', async () => {
      const j = await ns.batch.readNamespacedJob({ name: 'dns', namespace: ns.name });
      return jobCondition(j, 'Complete') ?? jobCondition(j, 'Failed');
    });
    const [pod] = await jobPods(ns.kc, ns.name, 'dns');
    const log = await ns.core.readNamespacedPodLog({ name: pod!.metadata!.name!, namespace: ns.name });
    expect({ type: done.type, log }).toEqual({ type: 'Complete', log: expect.stringMatching(/^10\.0\.0\.1\s+kubernetes\.default\.svc\.cluster\.local\nok$/) });
  });

  it('follows a running pod log with timestamps and sinceTime', async () => {
    await ns.core.createNamespacedPod({
      namespace: ns.name,
      body: {
        metadata: { name: 'ticker' },
        spec: {
          restartPolicy: 'Never',
          containers: [
            { name: 'main', image: scriptImage(), command: ['sh', '-c', 'echo line 1; echo line 2; sleep 2.2; echo line 3; sleep 0.3; echo line 4'] },
          ],
        },
      },
    });
    await eventually('pod ticker Running', async () => (await ns.core.readNamespacedPod({ name: 'ticker', namespace: ns.name })).status?.phase !== 'Pending');
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const ended = new Promise<void>((resolve) => out.on('end', () => resolve()));
    await new k8s.Log(ns.kc).log(ns.name, 'ticker', 'main', out, { follow: true, timestamps: true });
    await ended;
    const lines = text.trimEnd().split('\n');
    expect(lines.map((l) => l.replace(/^\S+ /, ''))).toEqual(['line 1', 'line 2', 'line 3', 'line 4']);
    const stamps = lines.map((l) => new Date(l.split(' ')[0]!));
    expect(stamps.every((d) => !Number.isNaN(d.getTime()))).toBe(true);
    // sinceTime has a precision of one second: the third line's second starts after the second line.
    const since = stamps[2]!.toISOString().replace(/\.\d+Z$/, 'Z');
    const out2 = new PassThrough();
    let later = '';
    out2.on('data', (d: Buffer) => (later += d.toString()));
    const ended2 = new Promise<void>((resolve) => out2.on('end', () => resolve()));
    await new k8s.Log(ns.kc).log(ns.name, 'ticker', 'main', out2, { sinceTime: since });
    await ended2;
    expect(later).toBe('line 3\nline 4\n');
  });

  it('keeps an over-sized Job Pending with a FailedScheduling event (Insufficient cpu)', async () => {
    await ns.batch.createNamespacedJob({
      namespace: ns.name,
      body: job('too-big', 'echo never', { container: { resources: { requests: { cpu: '64' } } } }),
    });
    const ev = await eventually('FailedScheduling', async () => {
      const [pod] = await jobPods(ns.kc, ns.name, 'too-big');
      if (!pod) return undefined;
      return (await eventsFor(ns.kc, ns.name, pod.metadata!.name!)).find((e) => e.reason === 'FailedScheduling');
    });
    expect(ev.message).toContain('Insufficient cpu');
    const [pod] = await jobPods(ns.kc, ns.name, 'too-big');
    expect(pod!.status?.phase).toBe('Pending');
    expect(pod!.status?.conditions?.find((c) => c.type === 'PodScheduled')?.reason).toBe('Unschedulable');
  });

  it('fails to pull an image from a registry that does not answer: ErrImagePull, then ImagePullBackOff', async () => {
    await ns.core.createNamespacedPod({
      namespace: ns.name,
      // Nothing listens on port 1 of this machine.
      body: {
        metadata: { name: 'no-image' },
        spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: '127.0.0.1:1/acme/tools:1', command: ['true'] }] },
      },
    });
    const seen = new Set<string>();
    await eventually(
      'ImagePullBackOff',
      async () => {
        const p = await ns.core.readNamespacedPod({ name: 'no-image', namespace: ns.name });
        const reason = p.status?.containerStatuses?.[0]?.state?.waiting?.reason;
        if (reason) seen.add(reason);
        return reason === 'ImagePullBackOff';
      },
      30_000,
      100,
    );
    // Events are recorded asynchronously: wait for both.
    const messages = await eventually(
      'ErrImagePull and ImagePullBackOff events',
      async () => {
        const m = (await eventsFor(ns.kc, ns.name, 'no-image')).map((e) => e.message ?? '');
        return m.includes('Error: ErrImagePull') && m.includes('Error: ImagePullBackOff') ? m : undefined;
      },
      15_000,
    );
    expect(seen.has('ErrImagePull') || messages.includes('Error: ErrImagePull')).toBe(true);
    const p = await ns.core.readNamespacedPod({ name: 'no-image', namespace: ns.name });
    expect(p.status?.phase).toBe('Pending');
  });

  it('deletes a finished Job after ttlSecondsAfterFinished', async () => {
    await ns.batch.createNamespacedJob({ namespace: ns.name, body: job('ttl', 'echo done', { spec: { ttlSecondsAfterFinished: 1 } }) });
    await eventually('Job ttl deleted', async () => {
      try {
        await ns.batch.readNamespacedJob({ name: 'ttl', namespace: ns.name });
        return false;
      } catch (err) {
        if (statusOf(err) === 404) return true;
        throw err;
      }
    });
  });

  it('ends a long Job at activeDeadlineSeconds with DeadlineExceeded and stops its processes', async () => {
    await ns.batch.createNamespacedJob({
      namespace: ns.name,
      body: job('deadline', 'echo started; exec sleep 600', { spec: { activeDeadlineSeconds: 3 } }),
    });
    const [first] = await eventually('a pod of Job deadline', async () => {
      const pods = await jobPods(ns.kc, ns.name, 'deadline');
      return pods.length > 0 && pods[0]!.status?.phase === 'Running' ? pods : undefined;
    });
    const uid = first!.metadata!.uid!;
    expect(podProcesses(uid).length).toBeGreaterThan(0);
    const j = await eventually('Job deadline Failed', async () =>
      jobCondition(await ns.batch.readNamespacedJob({ name: 'deadline', namespace: ns.name }), 'Failed'),
    );
    expect(j.reason).toBe('DeadlineExceeded');
    await eventually('the processes to stop', async () => podProcesses(uid).length === 0, 30_000);
  });

  it('refuses (403) a ServiceAccount in a namespace where it has no Role', async () => {
    const access = await serviceAccountWithRules(ns.name, [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]);
    const core = access.kubeConfig.makeApiClient(k8s.CoreV1Api);
    await expect(core.listNamespacedPod({ namespace: ns.name })).resolves.toBeDefined();
    const err = await core.listNamespacedPod({ namespace: 'default' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(statusOf(err)).toBe(403);
    const err2 = await core.listNamespacedSecret({ namespace: ns.name }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(statusOf(err2)).toBe(403);
  });

  it('stops the processes of a running pod when the pod is deleted', async () => {
    await ns.core.createNamespacedPod({
      namespace: ns.name,
      body: {
        metadata: { name: 'victim' },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 10,
          containers: [
            { name: 'main', image: scriptImage(), command: ['sh', '-c', 'trap "echo got TERM; exit 0" TERM; echo started; while true; do sleep 0.2; done'] },
          ],
        },
      },
    });
    await eventually('the script to start', async () => {
      try {
        return (await ns.core.readNamespacedPodLog({ name: 'victim', namespace: ns.name })).includes('started');
      } catch {
        return undefined;
      }
    });
    const uid = (await ns.core.readNamespacedPod({ name: 'victim', namespace: ns.name })).metadata!.uid!;
    expect(podProcesses(uid).length).toBeGreaterThan(0);
    await ns.core.deleteNamespacedPod({ name: 'victim', namespace: ns.name });
    await eventually('the processes to stop', async () => podProcesses(uid).length === 0, 15_000);
    await eventually(
      'pod victim gone',
      async () => {
        try {
          await ns.core.readNamespacedPod({ name: 'victim', namespace: ns.name });
          return false;
        } catch (err) {
          return statusOf(err) === 404;
        }
      },
      30_000,
    );
  });
});
