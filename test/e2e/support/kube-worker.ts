/**
 * kube-worker against the test cluster: a dispatcher and executors whose runtime is the kubernetes
 * runtime, authenticated as a ServiceAccount that holds exactly the executor's Role
 * (executorRules: EXECUTOR_RULES, and WARM_POD_RULES with warm pods) in a namespace of its own — never as cluster admin.
 * Its warm pools count their pods in the stack's /metrics (kube_worker_warm_pods).
 */
import { afterAll, beforeAll } from 'vitest';
import { readConfig, type Config } from '../../../core/config.js';
import { createLogger } from '../../../core/logger.js';
import type { Executor } from '../../../executor/executor.js';
import { startKubernetesRuntime } from '../../../executor/kubernetes/index.js';
import { executorRules } from '../../../executor/kubernetes/permissions.js';
import type { Tracing } from '../../../core/tracing.js';
import { startStack, type Stack } from '../../integration/support/stack.js';
import { scriptImage, serviceAccountWithRules, useNamespace, type ServiceAccountAccess, type TestNamespace } from './cluster.js';

export interface KubeWorker {
  readonly stack: Stack;
  readonly ns: TestNamespace;
  readonly access: ServiceAccountAccess;
  /** Kubernetes API requests the in-process executors made, by "verb code". */
  readonly requests: Map<string, number>;
  /** The settings an executor of this fixture runs with (also as environment, for a child executor). */
  env(): Record<string, string>;
  /** The instance its executors run as (from the stack's prefix unless env sets one). */
  instance(): string;
  addExecutor(extraEnv?: Record<string, string>): Promise<Executor>;
}

export interface KubeWorkerOptions {
  /** Who the executors are; default: a ServiceAccount made here with exactly the executor's Role for these settings (executorRules). */
  access?: (namespace: string) => Promise<ServiceAccountAccess>;
  /** The spans of dispatcher and executors, made before the stack starts; none by default. */
  tracing?: () => Tracing;
}

export function useKubeWorker(prefix: string, env: Record<string, string> = {}, options: KubeWorkerOptions = {}): KubeWorker {
  const ns = useNamespace(prefix);
  const requests = new Map<string, number>();
  let stack: Stack | undefined;
  let access: ServiceAccountAccess | undefined;
  const fixtureEnv = (): Record<string, string> => ({
    KUBE_WORKER_RUNTIME: 'kubernetes',
    KUBECONFIG: access!.kubeconfigPath,
    KUBE_WORKER_NAMESPACE: ns.name,
    KUBE_WORKER_SCRIPT_IMAGE: scriptImage(),
    KUBE_WORKER_SCRIPT_REQUESTS_CPU: '100m',
    KUBE_WORKER_SCRIPT_REQUESTS_MEMORY: '64Mi',
    ...env,
  });

  beforeAll(async () => {
    access = await (
      options.access ??
      ((namespace) => serviceAccountWithRules(namespace, executorRules(Number(env.KUBE_WORKER_WARM_PODS ?? 0)), { name: 'kube-worker-executor' }))
    )(ns.name);
    stack = await startStack({ executors: 0, env: fixtureEnv(), ...(options.tracing ? { tracing: options.tracing() } : {}) });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const fixture: KubeWorker = {
    get stack() {
      return stack!;
    },
    ns,
    get access() {
      return access!;
    },
    requests,
    env: fixtureEnv,
    instance: () => readConfig({ ...fixtureEnv(), KUBE_WORKER_PREFIX: stack!.config.prefix }).instance,
    async addExecutor(extraEnv = {}) {
      // The stack's prefix as a setting, so that the instance derived from it is the stack's too.
      const config: Config = { ...readConfig({ ...fixtureEnv(), KUBE_WORKER_PREFIX: stack!.config.prefix, ...extraEnv }), apiTokens: stack!.config.apiTokens };
      const logger = createLogger('silent', 'e2e');
      const count = (verb: string, code: number): void => {
        const key = `${verb} ${code}`;
        requests.set(key, (requests.get(key) ?? 0) + 1);
      };
      // The warm pool reports to the stack's /metrics as `kube-worker start` has it; the gauge has no
      // executor label (one executor per process in production), so with several here it shows the last to change it.
      const warmGauge = stack!.executorMetrics.warmPods;
      return stack!.addExecutor(config, (stores) => startKubernetesRuntime(config, stores, logger, count, warmGauge, options.tracing?.()));
    },
  };
  return fixture;
}
