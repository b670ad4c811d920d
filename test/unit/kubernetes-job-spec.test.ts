import { describe, expect, it } from 'vitest';
import { readConfig } from '../../core/config.js';
import type { OperationRequest } from '../../core/contract/operation.js';
import { buildScriptJob, secretOwnedBy } from '../../executor/kubernetes/job-spec.js';
import { jobName } from '../../executor/kubernetes/names.js';

const settings = readConfig({});
const request: OperationRequest = {
  pool: 'default',
  script: { syntax: 'bash', body: 'echo "$DB_PASSWORD"' },
  arguments: ["it's", '--flag'],
  files: [{ name: 'config/app.json', content: Buffer.from('{}').toString('base64') }],
  variables: { DB_PASSWORD: { value: 'hunter2', sensitive: true }, PLAIN: { value: 'visible' } },
};

describe('the Job and Secret of an operation', () => {
  const { name, job, secret } = buildScriptJob('deploy-42', request, 600, settings);
  const pod = job.spec!.template.spec!;
  const container = pod.containers[0]!;

  it('keeps every secret thing in the Secret and none in the Job', () => {
    const jobText = JSON.stringify(job);
    expect(jobText).not.toContain('hunter2');
    expect(jobText).not.toContain('visible');
    expect(jobText).not.toContain('echo');
    expect(jobText).not.toContain("it's");
    const decoded = Object.values(secret.data!).map((v) => Buffer.from(v, 'base64').toString());
    expect(decoded).toContain('hunter2');
    expect(decoded).toContain('echo "$DB_PASSWORD"');
    expect(container.env).toContainEqual({ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name, key: 'var-0' } } });
  });

  it('runs once, with the timeout as deadline and a TTL as a safety net', () => {
    expect(job.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 600, ttlSecondsAfterFinished: 3600 });
    expect(pod.restartPolicy).toBe('Never');
  });

  it('labels the Job, its pods and its Secret with their instance so they can be found and swept', () => {
    for (const labels of [job.metadata!.labels!, job.spec!.template.metadata!.labels!, secret.metadata!.labels!]) {
      expect(labels).toMatchObject({
        'app.kubernetes.io/managed-by': 'kube-worker',
        'kube-worker/instance': 'kw',
        'kube-worker/ticket': 'deploy-42',
        'kube-worker/pool': 'default',
        'kube-worker/job': name,
      });
    }
    expect(job.metadata!.annotations!['kube-worker/ticket']).toBe('deploy-42');
  });

  it("names the Job and Secret from the instance and the ticket, so two instances' Jobs never share a name", () => {
    expect(name).toBe(jobName('kw', 'deploy-42'));
    const other = buildScriptJob('deploy-42', request, 600, readConfig({ KUBE_WORKER_INSTANCE: 'release-b' }));
    expect(other.name).toBe(jobName('release-b', 'deploy-42'));
    expect(other.name).not.toBe(name);
    expect(other.job.metadata!.labels!['kube-worker/instance']).toBe('release-b');
    expect(other.job.spec!.template.spec!.volumes!.find((v) => v.name === 'operation')!.secret!.secretName).toBe(other.name);
  });

  it('creates the Job suspended, so that its Secret can be owned by it before a pod needs it', () => {
    expect(job.spec!.suspend).toBe(true);
    const created = { ...job, metadata: { ...job.metadata!, uid: 'b3c1e0f2' } };
    expect(secretOwnedBy(secret, created).metadata!.ownerReferences).toEqual([
      { apiVersion: 'batch/v1', kind: 'Job', name, uid: 'b3c1e0f2', controller: false, blockOwnerDeletion: false },
    ]);
  });

  it('uses the worker-tools image and default requests unless the operation names its own', () => {
    expect(container.image).toBe(settings.scriptImage);
    expect(container.resources).toEqual({ requests: { cpu: '250m', memory: '256Mi' } });
    const own = buildScriptJob(
      't',
      { ...request, container: { image: 'ghcr.io/acme/tools:1.2', pullPolicy: 'Always' }, resources: { requests: { cpu: '2' }, limits: { memory: '1Gi' } } },
      60,
      settings,
    );
    const ownContainer = own.job.spec!.template.spec!.containers[0]!;
    expect(ownContainer.image).toBe('ghcr.io/acme/tools:1.2');
    expect(ownContainer.imagePullPolicy).toBe('Always');
    expect(ownContainer.resources).toEqual({ requests: { cpu: '2', memory: '256Mi' }, limits: { memory: '1Gi' } });
  });

  // Defaults: requests 250m / 256Mi, limits as each row's deployment sets them.
  it.each<[string, Record<string, unknown>, Record<string, string>, unknown]>([
    [
      'a memory limit alone, below the default request: the request is the limit',
      { limits: { memory: '64Mi' } },
      {},
      { requests: { cpu: '250m', memory: '64Mi' }, limits: { memory: '64Mi' } },
    ],
    [
      'a memory limit alone, above the default request: the default request',
      { limits: { memory: '1Gi' } },
      {},
      { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } },
    ],
    ['a CPU limit alone, below the default request', { limits: { cpu: '100m' } }, {}, { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '100m' } }],
    [
      'a request and a limit of its own: both as asked',
      { requests: { memory: '32Mi' }, limits: { memory: '64Mi' } },
      {},
      { requests: { cpu: '250m', memory: '32Mi' }, limits: { memory: '64Mi' } },
    ],
    [
      'a default limit below the default request: the request fits it',
      {},
      { scriptLimitsMemory: '128Mi' },
      { requests: { cpu: '250m', memory: '128Mi' }, limits: { memory: '128Mi' } },
    ],
    [
      'its own request under a default limit: as asked',
      { requests: { memory: '100Mi' } },
      { scriptLimitsMemory: '128Mi' },
      { requests: { cpu: '250m', memory: '100Mi' }, limits: { memory: '128Mi' } },
    ],
    [
      'its own limit over a default limit: its own',
      { limits: { memory: '2Gi' } },
      { scriptLimitsMemory: '128Mi' },
      { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '2Gi' } },
    ],
    [
      'no default request, a limit alone: no request',
      { limits: { cpu: '1' } },
      { scriptRequestsCpu: undefined as unknown as string },
      { requests: { memory: '256Mi' }, limits: { cpu: '1' } },
    ],
  ])('resources: %s', (_case, resources, deployment, expected) => {
    const built = buildScriptJob('t', { ...request, resources } as OperationRequest, 60, { ...settings, ...deployment });
    expect(built.job.spec!.template.spec!.containers[0]!.resources).toEqual(expected);
  });

  it('mounts no API token by default', () => {
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  // What Pod Security "restricted" asks of a pod and its containers, as pod or container fields.
  it.each<[string, (p: typeof pod, c: typeof container) => unknown, unknown]>([
    ['runAsNonRoot', (p, c) => c.securityContext?.runAsNonRoot ?? p.securityContext?.runAsNonRoot, true],
    ['a non-root runAsUser', (p, c) => (c.securityContext?.runAsUser ?? p.securityContext?.runAsUser ?? 0) > 0, true],
    ['allowPrivilegeEscalation false', (_p, c) => c.securityContext?.allowPrivilegeEscalation, false],
    ['every capability dropped', (_p, c) => c.securityContext?.capabilities?.drop, ['ALL']],
    ['no capability added', (_p, c) => c.securityContext?.capabilities?.add ?? [], []],
    ['seccompProfile RuntimeDefault', (p, c) => (c.securityContext?.seccompProfile ?? p.securityContext?.seccompProfile)?.type, 'RuntimeDefault'],
    ['no privileged container', (_p, c) => c.securityContext?.privileged ?? false, false],
    ['only secret and emptyDir volumes', (p) => p.volumes!.every((v) => Object.keys(v).every((k) => ['name', 'secret', 'emptyDir'].includes(k))), true],
  ])('is admissible under Pod Security restricted by default: %s', (_rule, read, expected) => {
    expect(read(pod, container)).toEqual(expected);
  });

  it('runs scripts as the user and group the deployment chooses', () => {
    const chosen = buildScriptJob('t', request, 60, readConfig({ KUBE_WORKER_SCRIPT_RUN_AS_USER: '65532', KUBE_WORKER_SCRIPT_RUN_AS_GROUP: '65533' })).job.spec!
      .template.spec!;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 });
    expect(chosen.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65533 });
  });

  it('takes the security contexts the deployment sets instead of its own', () => {
    const own = readConfig({ KUBE_WORKER_SCRIPT_POD_SECURITY_CONTEXT: '{"runAsUser":0}', KUBE_WORKER_SCRIPT_SECURITY_CONTEXT: '{"privileged":true}' });
    const spec = buildScriptJob('t', request, 60, own).job.spec!.template.spec!;
    expect(spec.securityContext).toEqual({ runAsUser: 0 });
    expect(spec.containers[0]!.securityContext).toEqual({ privileged: true });
  });

  it('applies the scheduling settings of the deployment', () => {
    const custom = readConfig({
      KUBE_WORKER_SCRIPT_NODE_SELECTOR: '{"pool":"scripts"}',
      KUBE_WORKER_SCRIPT_TOLERATIONS: '[{"key":"dedicated","operator":"Exists"}]',
      KUBE_WORKER_SCRIPT_IMAGE_PULL_SECRETS: 'regcred',
      KUBE_WORKER_SCRIPT_SERVICE_ACCOUNT: 'scripts',
      KUBE_WORKER_SCRIPT_HTTPS_PROXY: 'http://proxy:3128',
      KUBE_WORKER_SCRIPT_LABELS: '{"team":"ops"}',
    });
    const spec = buildScriptJob('t', request, 60, custom).job.spec!.template.spec!;
    expect(spec.nodeSelector).toEqual({ pool: 'scripts' });
    expect(spec.tolerations).toEqual([{ key: 'dedicated', operator: 'Exists' }]);
    expect(spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(spec.serviceAccountName).toBe('scripts');
    expect(spec.containers[0]!.env).toContainEqual({ name: 'HTTPS_PROXY', value: 'http://proxy:3128' });
    expect(buildScriptJob('t', request, 60, custom).job.metadata!.labels!.team).toBe('ops');
  });

  it('places files under their relative path and quotes arguments for the launcher', () => {
    const volume = pod.volumes!.find((v) => v.name === 'operation')!;
    expect(volume.secret!.items).toContainEqual({ key: 'file-0', path: 'files/config/app.json' });
    const launcher = Buffer.from(secret.data!['launcher.sh']!, 'base64').toString();
    expect(launcher).toContain(`'bash' '/kube-worker/operation/script' 'it'\\''s' '--flag'`);
  });
});
