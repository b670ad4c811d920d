/**
 * Helpers for e2e tests against the test cluster (test/cluster), through @kubernetes/client-node.
 *
 *   import { describeCluster, useNamespace } from './support/cluster.js';
 *   describeCluster('my feature', () => {
 *     const ns = useNamespace('my-feature');        // fresh namespace for this file, deleted after
 *     it('...', async () => { await ns.core.listNamespacedPod({ namespace: ns.name }); });
 *   });
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, inject } from 'vitest';
import { describeUnless } from '../../support/describe-unless.js';

/** Why the cluster is unavailable, or undefined when it is there. */
export function clusterUnavailable(): string | undefined {
  return inject('clusterUnavailable') || undefined;
}

/**
 * `describe` when the cluster is there; otherwise a skipped suite whose name carries the reason,
 * so the report says why (never a pass).
 */
export function describeCluster(name: string, fn: () => void): void {
  describeUnless(clusterUnavailable(), name, fn);
}

/** The script tools image (bash, sh, python3, coreutils, curl, jq) in the local registry: pods pull it. */
export function scriptImage(): string {
  const ref = inject('scriptImage');
  if (!ref) throw new Error(clusterUnavailable() ?? 'no script image');
  return ref;
}

/**
 * The machine's processes of a pod (its containers and its sandbox): those in the pod's cgroup,
 * which the kubelet names after the pod's uid.
 */
export function podProcesses(podUid: string): number[] {
  const mark = `/pod${podUid}/`;
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/cgroup`, 'utf8').includes(mark)) pids.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** The admin kubeconfig's path. */
export function kubeconfigPath(): string {
  const p = inject('kubeconfig');
  if (!p) throw new Error(clusterUnavailable() ?? 'no test cluster');
  return p;
}

/** A KubeConfig authenticated as the cluster admin. */
export function adminKubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath());
  return kc;
}

/** Polls fn until it returns a value other than undefined/false, or throws after timeoutMs. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** HTTP status of a client-node error (0 when it is not an API error). */
export function statusOf(err: unknown): number {
  if (err instanceof k8s.ApiException) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : 0;
}

function dnsName(prefix: string): string {
  const base =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'e2e';
  return `${base}-${randomBytes(3).toString('hex')}`;
}

/** Creates a namespace and waits for its default ServiceAccount (pods are refused before it). */
export async function createNamespace(kc: k8s.KubeConfig, prefix: string, timeoutMs = 30_000): Promise<string> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const name = dnsName(`e2e-${prefix}`);
  await core.createNamespace({ body: { metadata: { name, labels: { 'kube-worker.io/e2e': 'true' } } } });
  await eventually(
    `ServiceAccount ${name}/default`,
    async () => {
      try {
        await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
        return true;
      } catch (err) {
        if (statusOf(err) === 404) return false;
        throw err;
      }
    },
    timeoutMs,
    100,
  );
  return name;
}

export async function deleteNamespace(kc: k8s.KubeConfig, name: string): Promise<void> {
  try {
    await kc.makeApiClient(k8s.CoreV1Api).deleteNamespace({ name, propagationPolicy: 'Background' });
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
}

export interface TestNamespace {
  /** The namespace's name (set in beforeAll). */
  readonly name: string;
  readonly kc: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly batch: k8s.BatchV1Api;
  readonly rbac: k8s.RbacAuthorizationV1Api;
}

/**
 * A fresh namespace for the calling test file (or describe block): created in beforeAll with its
 * default ServiceAccount present, deleted in afterAll.
 */
export function useNamespace(prefix = 'test'): TestNamespace {
  let name = '';
  let kc: k8s.KubeConfig | undefined;
  const need = (): k8s.KubeConfig => {
    if (!kc) kc = adminKubeConfig();
    return kc;
  };
  beforeAll(async () => {
    name = await createNamespace(need(), prefix);
  });
  afterAll(async () => {
    if (name && process.env.KW_E2E_KEEP_NAMESPACES !== '1') await deleteNamespace(need(), name);
  });
  return {
    get name() {
      if (!name) throw new Error('the namespace exists from beforeAll on');
      return name;
    },
    get kc() {
      return need();
    },
    get core() {
      return need().makeApiClient(k8s.CoreV1Api);
    },
    get batch() {
      return need().makeApiClient(k8s.BatchV1Api);
    },
    get rbac() {
      return need().makeApiClient(k8s.RbacAuthorizationV1Api);
    },
  };
}

export interface ServiceAccountAccess {
  serviceAccount: string;
  namespace: string;
  token: string;
  /** A KubeConfig that authenticates as the ServiceAccount (context namespace: `namespace`). */
  kubeConfig: k8s.KubeConfig;
  /** The same, written to a file (mode 0600). */
  kubeconfigPath: string;
}

/**
 * Creates a ServiceAccount with a Role of `rules` bound to it in `namespace`, mints a token for it
 * (TokenRequest) and returns a kubeconfig that authenticates as it.
 */
export async function serviceAccountWithRules(
  namespace: string,
  rules: k8s.V1PolicyRule[],
  opts: { name?: string; expirationSeconds?: number; kc?: k8s.KubeConfig } = {},
): Promise<ServiceAccountAccess> {
  const admin = opts.kc ?? adminKubeConfig();
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
  const name = opts.name ?? dnsName('sa');
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  return serviceAccountAccess(namespace, name, { ...opts, kc: admin });
}

/**
 * Mints a token for an existing ServiceAccount (TokenRequest) and returns a kubeconfig that
 * authenticates as it.
 */
export async function serviceAccountAccess(
  namespace: string,
  name: string,
  opts: { expirationSeconds?: number; kc?: k8s.KubeConfig } = {},
): Promise<ServiceAccountAccess> {
  const admin = opts.kc ?? adminKubeConfig();
  const tr = await admin.makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: opts.expirationSeconds ?? 3600 } },
  });
  const token = tr.status?.token;
  if (!token) throw new Error('TokenRequest returned no token');
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('admin kubeconfig has no cluster');
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ ...cluster, name: 'kube-worker-test' }],
    users: [{ name, token }],
    contexts: [{ name, cluster: 'kube-worker-test', user: name, namespace }],
    currentContext: name,
  });
  const dir = join(tmpdir(), 'kube-worker-e2e');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const kubeconfigPath = join(dir, `${namespace}-${name}.kubeconfig`);
  writeFileSync(kubeconfigPath, kubeConfig.exportConfig(), { mode: 0o600 });
  return { serviceAccount: name, namespace, token, kubeConfig, kubeconfigPath };
}

/** Events about an object (by name) in a namespace. */
export async function eventsFor(kc: k8s.KubeConfig, namespace: string, name: string): Promise<k8s.CoreV1Event[]> {
  const list = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items;
}

/** The pods of a Job. */
export async function jobPods(kc: k8s.KubeConfig, namespace: string, job: string): Promise<k8s.V1Pod[]> {
  const list = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace, labelSelector: `job-name=${job}` });
  return list.items;
}

/** A Job condition of type `type` with status True, if any. */
export function jobCondition(job: k8s.V1Job, type: string): k8s.V1JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}
