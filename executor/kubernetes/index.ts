/**
 * Starting the kubernetes runtime: connect, check permissions, start the one shared watch and the
 * sweeper. Refuses to start, naming what is missing, when the executor's Role is not enough.
 */
import type { Config } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import type { OperationStore } from '../../core/operation-store.js';
import { NO_TRACING, type Tracing } from '../../core/tracing.js';
import { ClusterWatch } from './cluster-watch.js';
import { loadKubeConfig, resolveNamespace } from './connect.js';
import { KubeApi, type RequestCounter } from './kube-api.js';
import { KubernetesRuntime } from './kubernetes-runtime.js';
import { executorRules, missingPermissions } from './permissions.js';
import { startSweeper, sweepOnce } from './sweeper.js';
import { WarmPool, type WarmGauge } from './warm-pool.js';

// What the rest of the product uses of this runtime; nothing reaches past this file.
export { clusterAvailable } from './connect.js';
export type { RequestCounter } from './kube-api.js';
export type { WarmGauge } from './warm-pool.js';

export class MissingPermissionsError extends Error {
  constructor(readonly missing: string[]) {
    super(
      `the executor's Kubernetes permissions are not enough; it is missing:\n  - ${missing.join('\n  - ')}\nGrant them with the Role the chart ships (executor/kubernetes/permissions.ts lists it).`,
    );
    this.name = 'MissingPermissionsError';
  }
}

export async function startKubernetesRuntime(
  config: Config,
  stores: { operations: OperationStore },
  logger: Logger,
  count: RequestCounter,
  warmGauge?: WarmGauge,
  tracing: Tracing = NO_TRACING,
): Promise<KubernetesRuntime> {
  const kubeConfig = loadKubeConfig(config.kubeconfigPath);
  const namespace = resolveNamespace(config.namespace, kubeConfig);
  const api = new KubeApi(kubeConfig, namespace, { qps: config.k8sQps, burst: config.k8sBurst, count, tracing });
  const missing = await missingPermissions(api, executorRules(config.warmPods));
  if (missing.length > 0) throw new MissingPermissionsError(missing);
  const log = logger.child({ runtime: 'kubernetes', namespace, instance: config.instance });
  const watch = new ClusterWatch(api, config.instance, log);
  await watch.start();
  await sweepOnce(api, config.instance, stores.operations, log, config.warmPodMaxAgeSeconds).catch((error: unknown) =>
    log.warn({ err: error }, 'first sweep failed'),
  );
  const stopSweeper = startSweeper(api, config.instance, stores.operations, log, config.sweepIntervalSeconds, config.warmPodMaxAgeSeconds);
  const warm =
    config.warmPods > 0
      ? new WarmPool(api, watch, { size: config.warmPods, maxAgeSeconds: config.warmPodMaxAgeSeconds, pools: config.pools, script: config }, log, warmGauge)
      : undefined;
  const runtime = new KubernetesRuntime(api, watch, config, log, stopSweeper, warm);
  warm?.start();
  log.info({ server: kubeConfig.getCurrentCluster()?.server }, 'kubernetes runtime ready');
  return runtime;
}
