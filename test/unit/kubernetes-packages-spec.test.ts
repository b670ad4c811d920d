/**
 * The script pod of an operation with packages: an init container running kube-worker's own image
 * fetches them into the workspace volume, its plan (headers and all) in an item of the Secret that
 * only it mounts, and the pod still admitted under Pod Security restricted.
 */
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../core/config.js';
import type { OperationRequest } from '../../core/contract/operation.js';
import { buildScriptJob, FETCH_PLAN_KEY } from '../../executor/kubernetes/job-spec.js';
import { FETCH_CONTAINER, SCRIPT_CONTAINER } from '../../executor/kubernetes/names.js';
import type { FetchPlan } from '../../executor/packages/fetch-plan.js';

const SECRET_HEADER = 'feed-key-do-not-show';
const settings = readConfig({
  KUBE_WORKER_PACKAGE_SOURCES: 'https://feed.example.com/packages/',
  KUBE_WORKER_FETCH_IMAGE: 'registry.example.com/kube-worker:0.1.0',
  KUBE_WORKER_PACKAGE_MAX_BYTES: '1000000',
});
const request: OperationRequest = {
  pool: 'default',
  script: { syntax: 'bash', body: 'ls "$KUBE_WORKER_PACKAGE_APP"' },
  packages: [
    {
      name: 'app',
      url: 'https://feed.example.com/packages/app.tar.gz?sig=query-token',
      sha256: 'AB'.repeat(32),
      headers: { 'X-Api-Key': { value: SECRET_HEADER, sensitive: true } },
    },
    { type: 'docker', image: 'ignored-by-this-check' },
  ],
};

describe('the script pod of an operation with packages', () => {
  const { name, job, secret } = buildScriptJob('deploy-7', request, 600, settings);
  const pod = job.spec!.template.spec!;
  const fetch = pod.initContainers?.[0];
  const script = pod.containers[0]!;

  it('fetches them first in an init container running kube-worker fetch from the fetch image', () => {
    expect(pod.initContainers).toHaveLength(1);
    expect(fetch).toMatchObject({
      name: FETCH_CONTAINER,
      image: 'registry.example.com/kube-worker:0.1.0',
      command: ['kube-worker', 'fetch', `/kube-worker/fetch/${FETCH_PLAN_KEY}`, '/kube-worker/workspace/packages'],
      terminationMessagePolicy: 'File',
    });
    expect(fetch!.volumeMounts).toEqual([
      { name: 'fetch', mountPath: '/kube-worker/fetch', readOnly: true },
      { name: 'workspace', mountPath: '/kube-worker/workspace' },
      { name: 'tmp', mountPath: '/kube-worker/tmp' },
    ]);
  });

  it('gives the headers to the init container only, through the Secret, never the Job spec', () => {
    expect(JSON.stringify(job)).not.toContain(SECRET_HEADER);
    expect(JSON.stringify(job)).not.toContain('query-token');
    const plan = JSON.parse(Buffer.from(secret.data![FETCH_PLAN_KEY]!, 'base64').toString()) as FetchPlan;
    expect(plan).toEqual({
      sources: ['https://feed.example.com/packages/'],
      maxBytes: 1_000_000,
      packages: [
        {
          name: 'app',
          url: 'https://feed.example.com/packages/app.tar.gz?sig=query-token',
          sha256: 'ab'.repeat(32),
          format: 'tar.gz',
          headers: { 'X-Api-Key': SECRET_HEADER },
        },
      ],
    });
    const fetchVolume = pod.volumes!.find((v) => v.name === 'fetch')!;
    expect(fetchVolume.secret).toEqual({ secretName: name, items: [{ key: FETCH_PLAN_KEY, path: FETCH_PLAN_KEY }], defaultMode: 0o444 });
    // The script's own view of the Secret leaves the plan out, and it does not mount the plan's.
    const operationVolume = pod.volumes!.find((v) => v.name === 'operation')!;
    expect(operationVolume.secret!.items!.map((i) => i.key)).not.toContain(FETCH_PLAN_KEY);
    expect(script.volumeMounts!.map((m) => m.name)).not.toContain('fetch');
  });

  it("names each package's folder in a variable of the script", () => {
    expect(script.name).toBe(SCRIPT_CONTAINER);
    expect(script.env).toContainEqual({ name: 'KUBE_WORKER_PACKAGE_APP', value: '/kube-worker/workspace/packages/app' });
  });

  // What Pod Security "restricted" asks of every container, init containers included.
  it.each<[string, (c: NonNullable<typeof fetch>) => unknown, unknown]>([
    ['runAsNonRoot', (c) => c.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot, true],
    ['a non-root runAsUser', (c) => (c.securityContext?.runAsUser ?? pod.securityContext?.runAsUser ?? 0) > 0, true],
    ['allowPrivilegeEscalation false', (c) => c.securityContext?.allowPrivilegeEscalation, false],
    ['every capability dropped', (c) => c.securityContext?.capabilities?.drop, ['ALL']],
    ['seccompProfile RuntimeDefault', (c) => (c.securityContext?.seccompProfile ?? pod.securityContext?.seccompProfile)?.type, 'RuntimeDefault'],
    ['no privileged container', (c) => c.securityContext?.privileged ?? false, false],
    ['no host ports', (c) => (c.ports ?? []).some((p) => p.hostPort), false],
  ])('the init container is admissible under Pod Security restricted: %s', (_rule, read, expected) => {
    expect(read(fetch!)).toEqual(expected);
  });

  it('keeps only secret and emptyDir volumes', () => {
    expect(pod.volumes!.every((v) => Object.keys(v).every((k) => ['name', 'secret', 'emptyDir'].includes(k)))).toBe(true);
  });

  it('has no init container, fetch volume or plan without packages', () => {
    const plain = buildScriptJob('deploy-8', { pool: 'default', script: { syntax: 'bash', body: 'true' } }, 60, settings);
    expect(plain.job.spec!.template.spec!.initContainers).toBeUndefined();
    expect(plain.job.spec!.template.spec!.volumes!.map((v) => v.name)).toEqual(['operation', 'workspace', 'tmp']);
    expect(plain.secret.data![FETCH_PLAN_KEY]).toBeUndefined();
  });
});
