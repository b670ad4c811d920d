/**
 * Settings of the Kubernetes runtime: where script pods run and how they look. Part of the one
 * configuration read at start-up (core/config.ts). The dispatcher reads the resource maximum and
 * the allowed service accounts too, to refuse at submit time what the executor would not run.
 */
import { createHash } from 'node:crypto';
import { boolean, ConfigError, integer, json, list, oneOf, stringMap, type SettingOf } from './config-parsers.js';
import { imageReferenceProblem } from './image-reference.js';
import { parseQuantity } from './quantity.js';

type Setting<K extends keyof KubernetesConfig> = SettingOf<KubernetesConfig, K>;

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface KubernetesConfig {
  /**
   * Which deployment (release) the Kubernetes objects belong to: their label, part of their names,
   * and the only objects this executor lists, watches, adopts and sweeps. Default: from the prefix.
   */
  instance: string;
  /** A kubeconfig file; in a pod the in-cluster service account is used instead. */
  kubeconfigPath: string | undefined;
  /** Namespace of the script pods; default: the executor pod's own. */
  namespace: string | undefined;
  scriptImage: string;
  scriptPullPolicy: PullPolicy;
  scriptRequestsCpu: string | undefined;
  scriptRequestsMemory: string | undefined;
  scriptLimitsCpu: string | undefined;
  scriptLimitsMemory: string | undefined;
  /** The most an operation may ask for; undefined allows any. */
  scriptMaxCpu: string | undefined;
  scriptMaxMemory: string | undefined;
  scriptNodeSelector: Record<string, string>;
  scriptTolerations: object[] | undefined;
  scriptAffinity: object | undefined;
  scriptImagePullSecrets: string[];
  scriptPodSecurityContext: object | undefined;
  scriptSecurityContext: object | undefined;
  /** User and group of the default pod securityContext; never root. */
  scriptRunAsUser: number;
  scriptRunAsGroup: number;
  scriptServiceAccount: string | undefined;
  /** Service accounts an operation may name for itself. */
  scriptAllowedServiceAccounts: string[];
  scriptAutomountToken: boolean;
  scriptLabels: Record<string, string>;
  scriptAnnotations: Record<string, string>;
  scriptHttpProxy: string | undefined;
  scriptHttpsProxy: string | undefined;
  scriptNoProxy: string | undefined;
  podPendingTimeoutSeconds: number;
  imagePullGraceSeconds: number;
  jobTtlSeconds: number;
  sweepIntervalSeconds: number;
  k8sQps: number;
  k8sBurst: number;
}

const optional = (raw: string | undefined): string | undefined => (raw === undefined || raw.trim() === '' ? undefined : raw.trim());

function quantity(name: string, raw: string | undefined): string | undefined {
  const value = optional(raw);
  if (value === undefined) return undefined;
  const parsed = parseQuantity(value);
  if (parsed === undefined || parsed <= 0) throw new ConfigError(`${name} must be a positive Kubernetes quantity such as 250m, 1, 256Mi or 1Gi, not "${value}"`);
  return value;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;

/**
 * The instance of a deployment that sets none: its Redis prefix (the one thing two deployments
 * that share a Redis must already differ in), made a label value.
 */
export function instanceFromPrefix(prefix: string): string {
  const trimmed = prefix.replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return trimmed || `kw-${createHash('sha256').update(prefix).digest('hex').slice(0, 12)}`;
}
function dnsName(name: string, raw: string | undefined): string | undefined {
  const value = optional(raw);
  if (value !== undefined && (value.length > 253 || !value.split('.').every((part) => DNS_LABEL.test(part)))) {
    throw new ConfigError(`${name} must be a Kubernetes name (lowercase letters, digits, - and .), not "${value}"`);
  }
  return value;
}

export const KUBERNETES_SETTINGS = [
  {
    env: 'KUBE_WORKER_INSTANCE', key: 'instance', defaultText: 'KUBE_WORKER_PREFIX; the chart sets the release name',
    description: 'Which deployment the script Jobs belong to: their kube-worker/instance label and part of their names. Executors list, watch, adopt and sweep only Jobs of their own instance, so several deployments can share a namespace.',
    // '' until readConfig fills in the prefix's.
    parse: (raw) => {
      const value = optional(raw) ?? '';
      if (value !== '' && !LABEL_VALUE.test(value)) throw new ConfigError(`KUBE_WORKER_INSTANCE must be a label value (at most 63 letters, digits, -, _ and ., alphanumeric at both ends), not "${value}"`);
      return value;
    },
  } satisfies Setting<'instance'>,
  { env: 'KUBECONFIG', key: 'kubeconfigPath', defaultText: 'in-cluster service account', description: 'Kubeconfig file the kubernetes runtime uses when not running in a pod.', parse: optional } satisfies Setting<'kubeconfigPath'>,
  {
    env: 'KUBE_WORKER_NAMESPACE', key: 'namespace', defaultText: "the executor pod's own namespace",
    description: 'Namespace the script Jobs run in.',
    parse: (raw) => {
      const value = optional(raw);
      if (value !== undefined && (value.length > 63 || !DNS_LABEL.test(value))) throw new ConfigError(`KUBE_WORKER_NAMESPACE must be a namespace name, not "${value}"`);
      return value;
    },
  } satisfies Setting<'namespace'>,
  {
    env: 'KUBE_WORKER_SCRIPT_IMAGE', key: 'scriptImage', defaultText: 'docker.io/octopusdeploy/worker-tools:6.5.0-ubuntu.22.04',
    description: 'The worker-tools image scripts run in unless an operation names its own container image.',
    parse: (raw) => {
      const value = optional(raw) ?? 'docker.io/octopusdeploy/worker-tools:6.5.0-ubuntu.22.04';
      const problem = imageReferenceProblem(value);
      if (problem) throw new ConfigError(`KUBE_WORKER_SCRIPT_IMAGE "${value}" cannot be an image reference: ${problem}`);
      return value;
    },
  } satisfies Setting<'scriptImage'>,
  {
    env: 'KUBE_WORKER_SCRIPT_PULL_POLICY', key: 'scriptPullPolicy', defaultText: 'IfNotPresent',
    description: 'Pull policy of the worker-tools image: Always, IfNotPresent or Never.',
    parse: (raw) => oneOf<PullPolicy>('KUBE_WORKER_SCRIPT_PULL_POLICY', raw, ['Always', 'IfNotPresent', 'Never'], 'IfNotPresent'),
  } satisfies Setting<'scriptPullPolicy'>,
  { env: 'KUBE_WORKER_SCRIPT_REQUESTS_CPU', key: 'scriptRequestsCpu', defaultText: '250m', description: 'CPU request of a script pod whose operation asks for none.', parse: (raw) => quantity('KUBE_WORKER_SCRIPT_REQUESTS_CPU', raw ?? '250m') } satisfies Setting<'scriptRequestsCpu'>,
  { env: 'KUBE_WORKER_SCRIPT_REQUESTS_MEMORY', key: 'scriptRequestsMemory', defaultText: '256Mi', description: 'Memory request of a script pod whose operation asks for none.', parse: (raw) => quantity('KUBE_WORKER_SCRIPT_REQUESTS_MEMORY', raw ?? '256Mi') } satisfies Setting<'scriptRequestsMemory'>,
  { env: 'KUBE_WORKER_SCRIPT_LIMITS_CPU', key: 'scriptLimitsCpu', defaultText: 'none', description: 'CPU limit of a script pod whose operation sets none.', parse: (raw) => quantity('KUBE_WORKER_SCRIPT_LIMITS_CPU', raw) } satisfies Setting<'scriptLimitsCpu'>,
  { env: 'KUBE_WORKER_SCRIPT_LIMITS_MEMORY', key: 'scriptLimitsMemory', defaultText: 'none', description: 'Memory limit of a script pod whose operation sets none.', parse: (raw) => quantity('KUBE_WORKER_SCRIPT_LIMITS_MEMORY', raw) } satisfies Setting<'scriptLimitsMemory'>,
  { env: 'KUBE_WORKER_SCRIPT_MAX_CPU', key: 'scriptMaxCpu', defaultText: 'none', description: 'The most CPU an operation may request or limit; more is refused at submit time (422).', parse: (raw) => quantity('KUBE_WORKER_SCRIPT_MAX_CPU', raw) } satisfies Setting<'scriptMaxCpu'>,
  { env: 'KUBE_WORKER_SCRIPT_MAX_MEMORY', key: 'scriptMaxMemory', defaultText: 'none', description: 'The most memory an operation may request or limit; more is refused at submit time (422).', parse: (raw) => quantity('KUBE_WORKER_SCRIPT_MAX_MEMORY', raw) } satisfies Setting<'scriptMaxMemory'>,
  { env: 'KUBE_WORKER_SCRIPT_NODE_SELECTOR', key: 'scriptNodeSelector', defaultText: '{}', description: 'nodeSelector of script pods, as a JSON object.', parse: (raw) => stringMap('KUBE_WORKER_SCRIPT_NODE_SELECTOR', raw) } satisfies Setting<'scriptNodeSelector'>,
  { env: 'KUBE_WORKER_SCRIPT_TOLERATIONS', key: 'scriptTolerations', defaultText: 'none', description: 'tolerations of script pods, as a JSON array.', parse: (raw) => json<object[]>('KUBE_WORKER_SCRIPT_TOLERATIONS', raw, 'array') } satisfies Setting<'scriptTolerations'>,
  { env: 'KUBE_WORKER_SCRIPT_AFFINITY', key: 'scriptAffinity', defaultText: 'none', description: 'affinity of script pods, as a JSON object.', parse: (raw) => json<object>('KUBE_WORKER_SCRIPT_AFFINITY', raw, 'object') } satisfies Setting<'scriptAffinity'>,
  { env: 'KUBE_WORKER_SCRIPT_IMAGE_PULL_SECRETS', key: 'scriptImagePullSecrets', defaultText: 'none', description: 'Secrets for pulling script images, comma-separated names.', parse: list } satisfies Setting<'scriptImagePullSecrets'>,
  { env: 'KUBE_WORKER_SCRIPT_RUN_AS_USER', key: 'scriptRunAsUser', defaultText: '1000', description: 'User id script containers run as (runAsUser of the default pod securityContext); never 0.', parse: (raw) => integer('KUBE_WORKER_SCRIPT_RUN_AS_USER', raw, 1000, 1, 2_147_483_647) } satisfies Setting<'scriptRunAsUser'>,
  { env: 'KUBE_WORKER_SCRIPT_RUN_AS_GROUP', key: 'scriptRunAsGroup', defaultText: '1000', description: 'Group id script containers run as (runAsGroup of the default pod securityContext); never 0.', parse: (raw) => integer('KUBE_WORKER_SCRIPT_RUN_AS_GROUP', raw, 1000, 1, 2_147_483_647) } satisfies Setting<'scriptRunAsGroup'>,
  { env: 'KUBE_WORKER_SCRIPT_POD_SECURITY_CONTEXT', key: 'scriptPodSecurityContext', defaultText: 'runAsNonRoot, the user and group above, seccompProfile RuntimeDefault', description: 'Pod securityContext of script pods, as a JSON object (replaces the default, which Pod Security "restricted" admits).', parse: (raw) => json<object>('KUBE_WORKER_SCRIPT_POD_SECURITY_CONTEXT', raw, 'object') } satisfies Setting<'scriptPodSecurityContext'>,
  { env: 'KUBE_WORKER_SCRIPT_SECURITY_CONTEXT', key: 'scriptSecurityContext', defaultText: 'runAsNonRoot, no privilege escalation, every capability dropped, seccompProfile RuntimeDefault', description: 'Container securityContext of scripts, as a JSON object (replaces the default, which Pod Security "restricted" admits).', parse: (raw) => json<object>('KUBE_WORKER_SCRIPT_SECURITY_CONTEXT', raw, 'object') } satisfies Setting<'scriptSecurityContext'>,
  { env: 'KUBE_WORKER_SCRIPT_SERVICE_ACCOUNT', key: 'scriptServiceAccount', defaultText: "the namespace's default", description: 'Service account script pods run as.', parse: (raw) => dnsName('KUBE_WORKER_SCRIPT_SERVICE_ACCOUNT', raw) } satisfies Setting<'scriptServiceAccount'>,
  { env: 'KUBE_WORKER_SCRIPT_ALLOWED_SERVICE_ACCOUNTS', key: 'scriptAllowedServiceAccounts', defaultText: 'none', description: 'Service accounts an operation may choose with serviceAccountName, comma-separated.', parse: list } satisfies Setting<'scriptAllowedServiceAccounts'>,
  { env: 'KUBE_WORKER_SCRIPT_AUTOMOUNT_TOKEN', key: 'scriptAutomountToken', defaultText: 'false', description: 'Mount a Kubernetes API token into script pods.', parse: (raw) => boolean('KUBE_WORKER_SCRIPT_AUTOMOUNT_TOKEN', raw, false) } satisfies Setting<'scriptAutomountToken'>,
  { env: 'KUBE_WORKER_SCRIPT_LABELS', key: 'scriptLabels', defaultText: '{}', description: 'Extra labels of script Jobs and pods, as a JSON object.', parse: (raw) => stringMap('KUBE_WORKER_SCRIPT_LABELS', raw) } satisfies Setting<'scriptLabels'>,
  { env: 'KUBE_WORKER_SCRIPT_ANNOTATIONS', key: 'scriptAnnotations', defaultText: '{}', description: 'Extra annotations of script Jobs and pods, as a JSON object.', parse: (raw) => stringMap('KUBE_WORKER_SCRIPT_ANNOTATIONS', raw) } satisfies Setting<'scriptAnnotations'>,
  { env: 'KUBE_WORKER_SCRIPT_HTTP_PROXY', key: 'scriptHttpProxy', defaultText: 'none', description: 'HTTP_PROXY given to scripts.', parse: optional } satisfies Setting<'scriptHttpProxy'>,
  { env: 'KUBE_WORKER_SCRIPT_HTTPS_PROXY', key: 'scriptHttpsProxy', defaultText: 'none', description: 'HTTPS_PROXY given to scripts.', parse: optional } satisfies Setting<'scriptHttpsProxy'>,
  { env: 'KUBE_WORKER_SCRIPT_NO_PROXY', key: 'scriptNoProxy', defaultText: 'none', description: 'NO_PROXY given to scripts.', parse: optional } satisfies Setting<'scriptNoProxy'>,
  { env: 'KUBE_WORKER_POD_PENDING_TIMEOUT_SECONDS', key: 'podPendingTimeoutSeconds', defaultText: '900', description: 'A script pod still pending after this long fails (Unschedulable or the real cause, exit code -44).', parse: (raw) => integer('KUBE_WORKER_POD_PENDING_TIMEOUT_SECONDS', raw, 900, 1, 86_400) } satisfies Setting<'podPendingTimeoutSeconds'>,
  { env: 'KUBE_WORKER_IMAGE_PULL_GRACE_SECONDS', key: 'imagePullGraceSeconds', defaultText: '60', description: 'How long image pull errors may last (a registry blip) before the operation fails with ImagePullFailed.', parse: (raw) => integer('KUBE_WORKER_IMAGE_PULL_GRACE_SECONDS', raw, 60, 0, 3600) } satisfies Setting<'imagePullGraceSeconds'>,
  { env: 'KUBE_WORKER_JOB_TTL_SECONDS', key: 'jobTtlSeconds', defaultText: '3600', description: 'ttlSecondsAfterFinished of script Jobs: a safety net, since the executor deletes them when done.', parse: (raw) => integer('KUBE_WORKER_JOB_TTL_SECONDS', raw, 3600, 60, 7 * 86_400) } satisfies Setting<'jobTtlSeconds'>,
  { env: 'KUBE_WORKER_SWEEP_INTERVAL_SECONDS', key: 'sweepIntervalSeconds', defaultText: '300', description: 'How often an executor removes Jobs and Secrets whose operation is gone or finished.', parse: (raw) => integer('KUBE_WORKER_SWEEP_INTERVAL_SECONDS', raw, 300, 5, 86_400) } satisfies Setting<'sweepIntervalSeconds'>,
  { env: 'KUBE_WORKER_K8S_QPS', key: 'k8sQps', defaultText: '20', description: 'Kubernetes API requests per second an executor makes at most (sustained).', parse: (raw) => integer('KUBE_WORKER_K8S_QPS', raw, 20, 1, 10_000) } satisfies Setting<'k8sQps'>,
  { env: 'KUBE_WORKER_K8S_BURST', key: 'k8sBurst', defaultText: '40', description: 'Kubernetes API requests an executor may make in a burst above the QPS.', parse: (raw) => integer('KUBE_WORKER_K8S_BURST', raw, 40, 1, 10_000) } satisfies Setting<'k8sBurst'>,
] as const;
