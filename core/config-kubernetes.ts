/**
 * Settings of the Kubernetes runtime: where script pods run and how they look. Part of the one
 * configuration read at start-up (core/config.ts). The dispatcher reads the resource maximum and
 * the allowed service accounts too, to refuse at submit time what the executor would not run.
 */
import { createHash } from 'node:crypto';
import { boolean, ConfigError, integer, json, list, oneOf, stringMap, setting, type ConfigOf } from './config-parsers.js';
import { imageReferenceProblem } from './image-reference.js';
import { parseQuantity } from './quantity.js';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

const optional = (raw: string | undefined): string | undefined => (raw === undefined || raw.trim() === '' ? undefined : raw.trim());

function quantity(name: string, raw: string | undefined): string | undefined {
  const value = optional(raw);
  if (value === undefined) return undefined;
  const parsed = parseQuantity(value);
  if (parsed === undefined || parsed <= 0)
    throw new ConfigError(`${name} must be a positive Kubernetes quantity such as 250m, 1, 256Mi or 1Gi, not "${value}"`);
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
  setting({
    env: 'KUBE_WORKER_INSTANCE',
    key: 'instance',
    defaultNote: 'KUBE_WORKER_PREFIX; the chart sets the release name',
    description:
      'Which deployment the script Jobs belong to: their kube-worker/instance label and part of their names. Executors list, watch, adopt and sweep only Jobs of their own instance, so several deployments can share a namespace.',
    // '' until readConfig fills in the prefix's.
    parse: (raw) => {
      const value = optional(raw) ?? '';
      if (value !== '' && !LABEL_VALUE.test(value))
        throw new ConfigError(`KUBE_WORKER_INSTANCE must be a label value (at most 63 letters, digits, -, _ and ., alphanumeric at both ends), not "${value}"`);
      return value;
    },
  }),
  setting({
    env: 'KUBECONFIG',
    key: 'kubeconfigPath',
    defaultNote: 'in-cluster service account',
    description: 'Kubeconfig file the kubernetes runtime uses when not running in a pod.',
    parse: optional,
  }),
  setting({
    env: 'KUBE_WORKER_NAMESPACE',
    key: 'namespace',
    defaultNote: "the executor pod's own namespace",
    description: 'Namespace the script Jobs run in.',
    parse: (raw) => {
      const value = optional(raw);
      if (value !== undefined && (value.length > 63 || !DNS_LABEL.test(value)))
        throw new ConfigError(`KUBE_WORKER_NAMESPACE must be a namespace name, not "${value}"`);
      return value;
    },
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_IMAGE',
    key: 'scriptImage',
    default: 'docker.io/octopusdeploy/worker-tools:6.5.0-ubuntu.22.04',
    description: 'The worker-tools image scripts run in unless an operation names its own container image.',
    parse: (raw = '', env) => {
      const value = raw.trim();
      const problem = imageReferenceProblem(value);
      if (problem) throw new ConfigError(`${env} "${value}" cannot be an image reference: ${problem}`);
      return value;
    },
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_PULL_POLICY',
    key: 'scriptPullPolicy',
    default: 'IfNotPresent',
    description: 'Pull policy of the worker-tools image: Always, IfNotPresent or Never.',
    parse: oneOf<PullPolicy>(['Always', 'IfNotPresent', 'Never']),
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_REQUESTS_CPU',
    key: 'scriptRequestsCpu',
    default: '250m',
    description: 'CPU request of a script pod whose operation asks for none.',
    parse: (raw, env) => quantity(env, raw),
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_REQUESTS_MEMORY',
    key: 'scriptRequestsMemory',
    default: '256Mi',
    description: 'Memory request of a script pod whose operation asks for none.',
    parse: (raw, env) => quantity(env, raw),
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_LIMITS_CPU',
    key: 'scriptLimitsCpu',
    defaultNote: 'none',
    description: 'CPU limit of a script pod whose operation sets none.',
    parse: (raw, env) => quantity(env, raw),
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_LIMITS_MEMORY',
    key: 'scriptLimitsMemory',
    defaultNote: 'none',
    description: 'Memory limit of a script pod whose operation sets none.',
    parse: (raw, env) => quantity(env, raw),
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_MAX_CPU',
    key: 'scriptMaxCpu',
    defaultNote: 'none',
    description: 'The most CPU an operation may request or limit; more is refused at submit time (422).',
    parse: (raw, env) => quantity(env, raw),
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_MAX_MEMORY',
    key: 'scriptMaxMemory',
    defaultNote: 'none',
    description: 'The most memory an operation may request or limit; more is refused at submit time (422).',
    parse: (raw, env) => quantity(env, raw),
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_NODE_SELECTOR',
    key: 'scriptNodeSelector',
    defaultNote: '{}',
    description: 'nodeSelector of script pods, as a JSON object.',
    parse: (raw, env) => stringMap(env, raw),
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_TOLERATIONS',
    key: 'scriptTolerations',
    defaultNote: 'none',
    description: 'tolerations of script pods, as a JSON array.',
    parse: (raw, env) => json<object[]>(env, raw, 'array'),
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_AFFINITY',
    key: 'scriptAffinity',
    defaultNote: 'none',
    description: 'affinity of script pods, as a JSON object.',
    parse: (raw, env) => json<object>(env, raw, 'object'),
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_IMAGE_PULL_SECRETS',
    key: 'scriptImagePullSecrets',
    defaultNote: 'none',
    description: 'Secrets for pulling script images, comma-separated names.',
    parse: list,
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_RUN_AS_USER',
    key: 'scriptRunAsUser',
    default: '1000',
    description: 'User id script containers run as (runAsUser of the default pod securityContext); never 0.',
    parse: integer(1, 2_147_483_647),
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_RUN_AS_GROUP',
    key: 'scriptRunAsGroup',
    default: '1000',
    description: 'Group id script containers run as (runAsGroup of the default pod securityContext); never 0.',
    parse: integer(1, 2_147_483_647),
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_POD_SECURITY_CONTEXT',
    key: 'scriptPodSecurityContext',
    defaultNote: 'runAsNonRoot, the user and group above, seccompProfile RuntimeDefault',
    description: 'Pod securityContext of script pods, as a JSON object (replaces the default, which Pod Security "restricted" admits).',
    parse: (raw, env) => json<object>(env, raw, 'object'),
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_SECURITY_CONTEXT',
    key: 'scriptSecurityContext',
    defaultNote: 'runAsNonRoot, no privilege escalation, every capability dropped, seccompProfile RuntimeDefault',
    description: 'Container securityContext of scripts, as a JSON object (replaces the default, which Pod Security "restricted" admits).',
    parse: (raw, env) => json<object>(env, raw, 'object'),
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_SERVICE_ACCOUNT',
    key: 'scriptServiceAccount',
    defaultNote: "the namespace's default",
    description: 'Service account script pods run as.',
    parse: (raw, env) => dnsName(env, raw),
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_ALLOWED_SERVICE_ACCOUNTS',
    key: 'scriptAllowedServiceAccounts',
    defaultNote: 'none',
    description: 'Service accounts an operation may choose with serviceAccountName, comma-separated.',
    parse: list,
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_AUTOMOUNT_TOKEN',
    key: 'scriptAutomountToken',
    default: 'false',
    description: 'Mount a Kubernetes API token into script pods.',
    parse: boolean,
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_LABELS',
    key: 'scriptLabels',
    defaultNote: '{}',
    description: 'Extra labels of script Jobs and pods, as a JSON object.',
    parse: (raw, env) => stringMap(env, raw),
  }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_ANNOTATIONS',
    key: 'scriptAnnotations',
    defaultNote: '{}',
    description: 'Extra annotations of script Jobs and pods, as a JSON object.',
    parse: (raw, env) => stringMap(env, raw),
  }),
  setting({ env: 'KUBE_WORKER_SCRIPT_HTTP_PROXY', key: 'scriptHttpProxy', defaultNote: 'none', description: 'HTTP_PROXY given to scripts.', parse: optional }),
  setting({
    env: 'KUBE_WORKER_SCRIPT_HTTPS_PROXY',
    key: 'scriptHttpsProxy',
    defaultNote: 'none',
    description: 'HTTPS_PROXY given to scripts.',
    parse: optional,
  }),
  setting({ env: 'KUBE_WORKER_SCRIPT_NO_PROXY', key: 'scriptNoProxy', defaultNote: 'none', description: 'NO_PROXY given to scripts.', parse: optional }),
  setting({
    env: 'KUBE_WORKER_WARM_PODS',
    key: 'warmPods',
    default: '0',
    description:
      'Script pods each executor keeps started and waiting, per pool it serves, in the worker-tools image with the default resources; an operation that fits them (default image, no packages, no resources or service account of its own) is bound to one on arrival. Each holds its requests while idle.',
    parse: integer(0, 100),
  }),
  setting({
    env: 'KUBE_WORKER_WARM_POD_MAX_AGE_SECONDS',
    key: 'warmPodMaxAgeSeconds',
    default: '900',
    description: 'A warm pod that got no operation for this long is replaced by a fresh one (and one left behind by a lost executor is swept).',
    parse: integer(30, 86_400),
  }),
  setting({
    env: 'KUBE_WORKER_POD_PENDING_TIMEOUT_SECONDS',
    key: 'podPendingTimeoutSeconds',
    default: '900',
    description: 'A script pod still pending after this long fails (Unschedulable or the real cause, exit code -44).',
    parse: integer(1, 86_400),
  }),
  setting({
    env: 'KUBE_WORKER_IMAGE_PULL_GRACE_SECONDS',
    key: 'imagePullGraceSeconds',
    default: '60',
    description: 'How long image pull errors may last (a registry blip) before the operation fails with ImagePullFailed.',
    parse: integer(0, 3600),
  }),
  setting({
    env: 'KUBE_WORKER_JOB_TTL_SECONDS',
    key: 'jobTtlSeconds',
    default: '3600',
    description: 'ttlSecondsAfterFinished of script Jobs: a safety net, since the executor deletes them when done.',
    parse: integer(60, 7 * 86_400),
  }),
  setting({
    env: 'KUBE_WORKER_SWEEP_INTERVAL_SECONDS',
    key: 'sweepIntervalSeconds',
    default: '300',
    description: 'How often an executor removes Jobs and Secrets whose operation is gone or finished.',
    parse: integer(5, 86_400),
  }),
  setting({
    env: 'KUBE_WORKER_K8S_QPS',
    key: 'k8sQps',
    default: '20',
    description: 'Kubernetes API requests per second an executor makes at most (sustained).',
    parse: integer(1, 10_000),
  }),
  setting({
    env: 'KUBE_WORKER_K8S_BURST',
    key: 'k8sBurst',
    default: '40',
    description: 'Kubernetes API requests an executor may make in a burst above the QPS.',
    parse: integer(1, 10_000),
  }),
] as const;

export type KubernetesConfig = ConfigOf<typeof KUBERNETES_SETTINGS>;
