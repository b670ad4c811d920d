/**
 * The Job and Secret that run one operation (pure). Everything an operation carries that may be
 * secret — script, files, arguments, variables — goes into the Secret; the Job only refers to it.
 * The Job is created suspended: its Secret is then created owned by it (so the garbage collector
 * removes it with the Job, whatever happens to the executor), and only then is the Job resumed.
 * Pods meet Pod Security "restricted" by default: a non-root user, no privilege escalation, every
 * capability dropped, RuntimeDefault seccomp, and no API token.
 *
 * An operation with packages gets an init container running kube-worker's own image
 * (`kube-worker fetch`): it reads the packages — headers and all — from its own item of the Secret,
 * which only it mounts, and downloads them into the workspace volume the script then sees.
 */
import type {
  V1Container,
  V1EnvVar,
  V1Job,
  V1KeyToPath,
  V1OwnerReference,
  V1PodSecurityContext,
  V1ResourceRequirements,
  V1Secret,
  V1SecurityContext,
} from '@kubernetes/client-node';
import type { KubernetesConfig } from '../../core/config-kubernetes.js';
import type { PackagesConfig } from '../../core/config-packages.js';
import { PACKAGES_DIR, packageSpecs, packageVariable, type PackageSpec } from '../../core/package-layout.js';
import { parseQuantity } from '../../core/quantity.js';
import type { FetchPlan } from '../packages/fetch-plan.js';
import type { OperationRequest } from '../../core/contract/operation.js';
import { LAUNCHER_KEY, launcherScript, OPERATION_DIR, SCRIPT_KEY, TMP_DIR, WORKSPACE_DIR } from './launcher.js';
import {
  ANNOTATION_TICKET,
  FETCH_CONTAINER,
  jobName,
  LABEL_INSTANCE,
  LABEL_JOB,
  LABEL_POOL,
  LABEL_TICKET,
  MANAGED_BY,
  SCRIPT_CONTAINER,
  ticketLabel,
} from './names.js';

export type ScriptPodSettings = Omit<
  KubernetesConfig,
  | 'kubeconfigPath'
  | 'namespace'
  | 'podPendingTimeoutSeconds'
  | 'imagePullGraceSeconds'
  | 'sweepIntervalSeconds'
  | 'k8sQps'
  | 'k8sBurst'
  | 'scriptMaxCpu'
  | 'scriptMaxMemory'
  | 'scriptAllowedServiceAccounts'
> &
  Partial<PackagesConfig>;

/** Where the packages' init container finds its plan (the Secret's item only it mounts). */
export const FETCH_DIR = '/kube-worker/fetch';
export const FETCH_PLAN_KEY = 'packages.json';

export interface ScriptJob {
  name: string;
  job: V1Job;
  secret: V1Secret;
}

const RESTRICTED_CONTAINER: V1SecurityContext = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

function podSecurityContext(settings: ScriptPodSettings): V1PodSecurityContext {
  if (settings.scriptPodSecurityContext) return settings.scriptPodSecurityContext as V1PodSecurityContext;
  return { runAsNonRoot: true, runAsUser: settings.scriptRunAsUser, runAsGroup: settings.scriptRunAsGroup, seccompProfile: { type: 'RuntimeDefault' } };
}

/**
 * The script container's requests and limits: the operation's own, else the deployment's defaults.
 * A request the operation leaves to the default never goes above the limit: as Kubernetes does for
 * a container with a limit and no request, it is the limit then (or the default, when that is
 * lower). So an operation may set a limit alone, below the default request.
 */
function resources(request: OperationRequest, settings: ScriptPodSettings): V1ResourceRequirements {
  const defaults = {
    cpu: { request: settings.scriptRequestsCpu, limit: settings.scriptLimitsCpu },
    memory: { request: settings.scriptRequestsMemory, limit: settings.scriptLimitsMemory },
  };
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  for (const resource of ['cpu', 'memory'] as const) {
    const limit = request.resources?.limits?.[resource] ?? defaults[resource].limit;
    const fallback = defaults[resource].request;
    const fitted = fallback !== undefined && limit !== undefined && parseQuantity(fallback)! > parseQuantity(limit)! ? limit : fallback;
    const asked = request.resources?.requests?.[resource] ?? fitted;
    if (asked !== undefined) requests[resource] = asked;
    if (limit !== undefined) limits[resource] = limit;
  }
  const some = (list: Record<string, string>): boolean => Object.keys(list).length > 0;
  return { ...(some(requests) ? { requests } : {}), ...(some(limits) ? { limits } : {}) };
}

function environment(request: OperationRequest, secretName: string, settings: ScriptPodSettings, ticket: string, packages: readonly PackageSpec[]): V1EnvVar[] {
  const env: V1EnvVar[] = [
    { name: 'KUBE_WORKER_TICKET', value: ticket },
    { name: 'KUBE_WORKER_WORKSPACE', value: WORKSPACE_DIR },
    { name: 'HOME', value: WORKSPACE_DIR },
    { name: 'TMPDIR', value: TMP_DIR },
    ...packages.map((pkg) => ({ name: packageVariable(pkg.name), value: `${WORKSPACE_DIR}/${PACKAGES_DIR}/${pkg.name}` })),
  ];
  const proxies: Array<[string, string | undefined]> = [
    ['HTTP_PROXY', settings.scriptHttpProxy],
    ['HTTPS_PROXY', settings.scriptHttpsProxy],
    ['NO_PROXY', settings.scriptNoProxy],
  ];
  for (const [name, value] of proxies) {
    if (value !== undefined) env.push({ name, value }, { name: name.toLowerCase(), value });
  }
  Object.keys(request.variables ?? {}).forEach((name, i) => env.push({ name, valueFrom: { secretKeyRef: { name: secretName, key: `var-${i}` } } }));
  return env;
}

/** `data`: every key of the Secret; `items`: those the script's volume shows (never the fetch plan). */
function secretData(request: OperationRequest, plan: FetchPlan | undefined): { data: Record<string, string>; items: V1KeyToPath[] } {
  const data: Record<string, string> = {
    [LAUNCHER_KEY]: Buffer.from(launcherScript(request)).toString('base64'),
    [SCRIPT_KEY]: Buffer.from(request.script.body).toString('base64'),
  };
  const items: V1KeyToPath[] = [
    { key: LAUNCHER_KEY, path: LAUNCHER_KEY },
    { key: SCRIPT_KEY, path: SCRIPT_KEY },
  ];
  (request.files ?? []).forEach((file, i) => {
    data[`file-${i}`] = file.content;
    items.push({ key: `file-${i}`, path: `files/${file.name}` });
  });
  Object.values(request.variables ?? {}).forEach((variable, i) => {
    data[`var-${i}`] = Buffer.from(variable.value).toString('base64');
  });
  if (plan) data[FETCH_PLAN_KEY] = Buffer.from(JSON.stringify(plan)).toString('base64');
  return { data, items };
}

export function buildScriptJob(ticket: string, request: OperationRequest, timeoutSeconds: number, settings: ScriptPodSettings): ScriptJob {
  const name = jobName(settings.instance, ticket);
  const labels = {
    ...settings.scriptLabels,
    ...MANAGED_BY,
    [LABEL_INSTANCE]: settings.instance,
    [LABEL_TICKET]: ticketLabel(ticket),
    [LABEL_POOL]: request.pool,
    [LABEL_JOB]: name,
  };
  const annotations = { ...settings.scriptAnnotations, [ANNOTATION_TICKET]: ticket };
  const packages = packageSpecs(request.packages);
  const plan =
    packages.length > 0 ? { sources: (settings.packageSources ?? []).map((s) => s.text), maxBytes: settings.packageMaxBytes ?? 0, packages } : undefined;
  const { data, items } = secretData(request, plan);
  const securityContext = (settings.scriptSecurityContext as V1SecurityContext | undefined) ?? RESTRICTED_CONTAINER;
  const fetch: V1Container | undefined = plan && {
    name: FETCH_CONTAINER,
    image: settings.fetchImage,
    imagePullPolicy: 'IfNotPresent',
    command: ['kube-worker', 'fetch', `${FETCH_DIR}/${FETCH_PLAN_KEY}`, `${WORKSPACE_DIR}/${PACKAGES_DIR}`],
    env: [{ name: 'TMPDIR', value: TMP_DIR }],
    resources: resources(request, settings),
    securityContext,
    // Why it failed, for the operation's failure message (`kube-worker fetch` writes it there).
    terminationMessagePolicy: 'File',
    volumeMounts: [
      { name: 'fetch', mountPath: FETCH_DIR, readOnly: true },
      { name: 'workspace', mountPath: WORKSPACE_DIR },
      { name: 'tmp', mountPath: TMP_DIR },
    ],
  };
  const container: V1Container = {
    name: SCRIPT_CONTAINER,
    image: request.container?.image ?? settings.scriptImage,
    imagePullPolicy: request.container?.image ? (request.container.pullPolicy ?? 'IfNotPresent') : settings.scriptPullPolicy,
    command: ['/bin/sh', `${OPERATION_DIR}/${LAUNCHER_KEY}`],
    workingDir: WORKSPACE_DIR,
    env: environment(request, name, settings, ticket, packages),
    resources: resources(request, settings),
    securityContext,
    volumeMounts: [
      { name: 'operation', mountPath: OPERATION_DIR, readOnly: true },
      { name: 'workspace', mountPath: WORKSPACE_DIR },
      { name: 'tmp', mountPath: TMP_DIR },
    ],
  };
  const job: V1Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels, annotations },
    spec: {
      suspend: true,
      backoffLimit: 0,
      activeDeadlineSeconds: timeoutSeconds,
      ttlSecondsAfterFinished: settings.jobTtlSeconds,
      template: {
        metadata: { labels, annotations },
        spec: {
          restartPolicy: 'Never',
          ...(fetch ? { initContainers: [fetch] } : {}),
          containers: [container],
          volumes: [
            { name: 'operation', secret: { secretName: name, items, defaultMode: 0o444 } },
            ...(fetch ? [{ name: 'fetch', secret: { secretName: name, items: [{ key: FETCH_PLAN_KEY, path: FETCH_PLAN_KEY }], defaultMode: 0o444 } }] : []),
            { name: 'workspace', emptyDir: {} },
            { name: 'tmp', emptyDir: {} },
          ],
          automountServiceAccountToken: settings.scriptAutomountToken,
          securityContext: podSecurityContext(settings),
          enableServiceLinks: false,
          ...((request.serviceAccountName ?? settings.scriptServiceAccount)
            ? { serviceAccountName: request.serviceAccountName ?? settings.scriptServiceAccount }
            : {}),
          ...(Object.keys(settings.scriptNodeSelector).length > 0 ? { nodeSelector: settings.scriptNodeSelector } : {}),
          ...(settings.scriptTolerations ? { tolerations: settings.scriptTolerations } : {}),
          ...(settings.scriptAffinity ? { affinity: settings.scriptAffinity } : {}),
          ...(settings.scriptImagePullSecrets.length > 0 ? { imagePullSecrets: settings.scriptImagePullSecrets.map((n) => ({ name: n })) } : {}),
        },
      },
    },
  };
  const secret: V1Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name, labels, annotations }, type: 'Opaque', data };
  return { name, job, secret };
}

/** The Secret as the created Job's dependent, removed by the garbage collector with it. */
export function secretOwnedBy(secret: V1Secret, job: V1Job): V1Secret {
  const owner: V1OwnerReference = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    name: job.metadata!.name!,
    uid: job.metadata!.uid!,
    controller: false,
    blockOwnerDeletion: false,
  };
  return { ...secret, metadata: { ...secret.metadata, ownerReferences: [owner] } };
}
