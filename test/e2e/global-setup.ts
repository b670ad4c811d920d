/**
 * e2e tests need a real Kubernetes cluster: test/cluster brings one up (building it the first time,
 * then reusing the cached binaries) or reuses the one already running, and the script tools image
 * its pods pull (test/images).
 *
 * - CI=true: any failure to bring the cluster up fails the run, loudly.
 * - Elsewhere: when Go is missing (the cluster cannot be built) or the machine cannot run the node
 *   (no containerd, not root, ...), the e2e tests are skipped and the reason is given; any other
 *   failure still fails the run.
 *
 * The cluster is left running afterwards (the next run starts in seconds): `npm run cluster:down`.
 */
import type { TestProject } from 'vitest/node';
import { GoMissingError, up } from '../cluster/cluster.js';
import { imageRef } from '../images/images.js';
import { NodeUnavailableError } from '../cluster/node.js';
import { prepareHost } from '../support/host-setup.js';

export async function setup(project: TestProject): Promise<void> {
  try {
    prepareHost();
    const info = await up();
    project.provide('kubeconfig', info.kubeconfig);
    project.provide('scriptImage', await imageRef('script-tools'));
    project.provide('clusterUnavailable', '');
    process.stderr.write(
      `[e2e] Kubernetes ${info.version} ${info.startedNow ? `started in ${info.startSeconds?.toFixed(1)} s` : 'already running'}; ` +
        `KUBECONFIG=${info.kubeconfig} (stop it with npm run cluster:down)\n`,
    );
  } catch (err) {
    if (process.env.CI === 'true' || !(err instanceof GoMissingError || err instanceof NodeUnavailableError)) throw err;
    const reason = `no Kubernetes test cluster: ${err.message}`;
    process.stderr.write(`[e2e] SKIPPING every e2e test — ${reason}\n`);
    project.provide('kubeconfig', '');
    project.provide('scriptImage', '');
    project.provide('clusterUnavailable', reason);
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the test cluster's admin kubeconfig ('' when the cluster is unavailable). */
    kubeconfig: string;
    /** The script tools image in the local registry ('' when the cluster is unavailable). */
    scriptImage: string;
    /** Why there is no cluster ('' when there is one). */
    clusterUnavailable: string;
  }
}
