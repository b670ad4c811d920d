/**
 * The kube-apiserver fault needs the test cluster, but restarting parts of it under others is
 * only fair when it is already up: this setup never starts or builds it (the e2e setup does). It
 * says where the cluster is, or why there is none; under CI=true the test then fails, never skips.
 */
import type { TestProject } from 'vitest/node';
import { isUp, kubeconfigPath } from '../cluster/cluster.js';
import { imageRef } from '../images/images.js';

export async function setup(project: TestProject): Promise<void> {
  const up = await isUp().catch(() => false);
  project.provide('kubeconfig', up ? kubeconfigPath : '');
  project.provide('scriptImage', up ? await imageRef('script-tools') : '');
  project.provide('clusterUnavailable', up ? '' : 'the test cluster is not up (npm run cluster:status)');
}
