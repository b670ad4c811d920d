import { describe, expect, it } from 'vitest';
import { readConfig } from '../../core/config.js';
import type { OperationRequest } from '../../core/contract/operation.js';
import { buildScriptJob } from '../../executor/kubernetes/job-spec.js';
import { jobName, ticketLabel } from '../../executor/kubernetes/names.js';

const settings = readConfig({});
const request: OperationRequest = {
  pool: 'default',
  script: { syntax: 'bash', body: 'echo "$DB_PASSWORD"' },
  arguments: ["it's", '--flag'],
  files: [{ name: 'config/app.json', content: Buffer.from('{}').toString('base64') }],
  variables: { DB_PASSWORD: { value: 'hunter2', sensitive: true }, PLAIN: { value: 'visible' } },
};

describe('job names', () => {
  it.each([
    ['deploy-42-step-3'],
    ['UPPER_case_Ticket'],
    ['a'.repeat(63)],
    ['x'],
    ['__--'.replace(/^_/, 'a')],
  ])('derives a DNS label of at most 63 characters from %s, the same every time', (ticket) => {
    const name = jobName(ticket);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(jobName(ticket)).toBe(name);
  });

  it('never gives two tickets that differ only in case or punctuation the same name', () => {
    expect(jobName('Deploy-1')).not.toBe(jobName('deploy-1'));
    expect(jobName('a_b')).not.toBe(jobName('a-b'));
  });

  it('makes a valid label value from any ticket', () => {
    for (const ticket of ['abc', 'a_', 'A-b_c', 'z-'.repeat(31) + 'z']) {
      expect(ticketLabel(ticket)).toMatch(/^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/);
    }
  });
});

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

  it('labels the Job and its pods so they can be found and swept', () => {
    for (const labels of [job.metadata!.labels!, job.spec!.template.metadata!.labels!]) {
      expect(labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'kube-worker', 'kube-worker/ticket': 'deploy-42', 'kube-worker/pool': 'default', 'kube-worker/job': name });
    }
    expect(job.metadata!.annotations!['kube-worker/ticket']).toBe('deploy-42');
  });

  it('uses the worker-tools image and default requests unless the operation names its own', () => {
    expect(container.image).toBe(settings.scriptImage);
    expect(container.resources).toEqual({ requests: { cpu: '250m', memory: '256Mi' } });
    const own = buildScriptJob('t', { ...request, container: { image: 'ghcr.io/acme/tools:1.2', pullPolicy: 'Always' }, resources: { requests: { cpu: '2' }, limits: { memory: '1Gi' } } }, 60, settings);
    const ownContainer = own.job.spec!.template.spec!.containers[0]!;
    expect(ownContainer.image).toBe('ghcr.io/acme/tools:1.2');
    expect(ownContainer.imagePullPolicy).toBe('Always');
    expect(ownContainer.resources).toEqual({ requests: { cpu: '2', memory: '256Mi' }, limits: { memory: '1Gi' } });
  });

  it('is hardened by default: no API token, no privilege escalation, RuntimeDefault seccomp', () => {
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext).toMatchObject({ seccompProfile: { type: 'RuntimeDefault' } });
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
