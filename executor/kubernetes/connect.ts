/**
 * Finding the cluster: in a pod, its service account; else the kubeconfig. The namespace is the
 * configured one, else the pod's own, else the kubeconfig context's.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { poolAgents } from './pooled-agents.js';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** True when running in a pod (in-cluster credentials present) or a kubeconfig is named. */
export function clusterAvailable(kubeconfigPath: string | undefined, env: NodeJS.ProcessEnv): boolean {
  return Boolean(kubeconfigPath) || (Boolean(env.KUBERNETES_SERVICE_HOST) && existsSync(`${SERVICE_ACCOUNT_DIR}/token`));
}

/** The cluster's config, its requests sharing keep-alive connections (pooled-agents.ts). */
export function loadKubeConfig(kubeconfigPath: string | undefined): k8s.KubeConfig {
  const kubeConfig = new k8s.KubeConfig();
  if (kubeconfigPath) kubeConfig.loadFromFile(kubeconfigPath);
  else kubeConfig.loadFromCluster();
  return poolAgents(kubeConfig);
}

export function resolveNamespace(configured: string | undefined, kubeConfig: k8s.KubeConfig): string {
  if (configured) return configured;
  try {
    return readFileSync(`${SERVICE_ACCOUNT_DIR}/namespace`, 'utf8').trim();
  } catch {
    return kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
  }
}
