/**
 * Picks the executor's runtime from KUBE_WORKER_RUNTIME: kubernetes (a Job per operation), local
 * (child processes), or auto — kubernetes when running in a pod or given a kubeconfig, else local.
 */
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Tracing } from '../core/tracing.js';
import type { RuntimeFactory } from '../executor/executor.js';
import { clusterAvailable, startKubernetesRuntime, type RequestCounter, type WarmGauge } from '../executor/kubernetes/index.js';
import { LocalRuntime } from '../executor/local/local-runtime.js';

export function runtimeFactory(
  config: Config,
  env: NodeJS.ProcessEnv,
  logger: Logger,
  countKubernetesRequest: RequestCounter,
  warmGauge?: WarmGauge,
  tracing?: Tracing,
): RuntimeFactory {
  const useKubernetes = config.runtime === 'kubernetes' || (config.runtime === 'auto' && clusterAvailable(config.kubeconfigPath, env));
  if (useKubernetes) return (stores) => startKubernetesRuntime(config, stores, logger, countKubernetesRequest, warmGauge, tracing);
  if (config.runtime === 'auto') logger.info('runtime auto: not in a cluster and no KUBECONFIG, so scripts run as local processes');
  // The local runtime takes only what a script may see (PATH and the locale) from this.
  return () =>
    LocalRuntime.start({
      workDir: config.workDir,
      baseEnv: env,
      packages: { sources: config.packageSources, maxBytes: config.packageMaxBytes },
      uids: config.localUids,
      ...(config.localUser ? { user: config.localUser } : {}),
    });
}
