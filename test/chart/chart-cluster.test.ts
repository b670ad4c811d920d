/**
 * The chart against the real API server of test/cluster: every rendered object passes a strict
 * server-side dry run, and `helm install` / `helm upgrade` / `helm uninstall` work, keeping the
 * generated credentials across the upgrade.
 *
 * Objects of CRDs the test cluster lacks (ServiceMonitor; ScaledObject when KEDA is not installed:
 * `npm run cluster:up -- --keda`, as CI does) are checked by rendering only (chart-render.test.ts),
 * and here they must be the only objects the server does not know.
 */
import * as k8s from '@kubernetes/client-node';
import { expect, it } from 'vitest';
import { describeCluster, kubeconfigPath, useNamespace } from '../e2e/support/cluster.js';
import { CHART, describeHelm, helm, parseManifests, RELEASE, render, valuesFile } from './support/helm.js';
import { renderedSecrets } from './support/pod-env.js';
import { dryRunCreate } from './support/server-dry-run.js';
import { EVERYTHING, EXTERNAL_REDIS } from './support/value-sets.js';

/** Kind → the API group of its CRD. */
const CRD_KINDS: Record<string, string> = { ScaledObject: 'keda.sh', ServiceMonitor: 'monitoring.coreos.com' };

describeHelm('the Helm chart on a real API server', () => {
  describeCluster('server-side', () => {
    const ns = useNamespace('chart');

    for (const [name, values] of Object.entries({ defaults: {}, 'external Redis': EXTERNAL_REDIS, 'every option on': EVERYTHING })) {
      it(`accepts every object rendered with ${name} in a strict server-side dry run`, async () => {
        const objects = await render(values, ns.name);
        const served = new Set((await ns.kc.makeApiClient(k8s.ApisApi).getAPIVersions()).groups.map((g) => g.name));
        const unknown: string[] = [];
        for (const object of objects) {
          const outcome = await dryRunCreate(ns.kc, object);
          if (!outcome.accepted && outcome.unknownApi) unknown.push(object.kind);
          else expect(outcome, `${object.kind}/${object.metadata.name}`).toEqual({ accepted: true });
        }
        expect(unknown.sort()).toEqual(
          objects
            .map((o) => o.kind)
            .filter((kind) => kind in CRD_KINDS && !served.has(CRD_KINDS[kind]!))
            .sort(),
        );
      });
    }

    it('installs, upgrades keeping the generated credentials, and uninstalls', async () => {
      const kubeconfig = { KUBECONFIG: kubeconfigPath() };
      // No dispatcher or executor pods: the objects are what is checked here.
      const values = valuesFile({ dispatcher: { replicas: 0 }, executor: { replicas: 0 } });
      const common = ['--namespace', ns.name, '-f', values];
      const secretsNow = async () => {
        const got = await helm(['get', 'manifest', RELEASE, '--namespace', ns.name], kubeconfig);
        expect(got.stderr).toBe('');
        return renderedSecrets(parseManifests(got.stdout));
      };

      const install = await helm(['install', RELEASE, CHART, ...common], kubeconfig);
      expect(install.stderr).toBe('');
      expect(install.stdout).toContain('STATUS: deployed');
      // NOTES.txt: where the token is, how to reach the API and the dashboard, a first operation.
      expect(install.stdout).toContain(`kubectl get secret -n ${ns.name} ${RELEASE}-kube-worker-api-token`);
      expect(install.stdout).toContain(`kubectl port-forward -n ${ns.name} svc/${RELEASE}-kube-worker 8080:80`);
      expect(install.stdout).toContain('/api/v1/operations');
      expect(install.stdout).toContain('$KUBE_WORKER_URL/dashboard');
      const installed = await secretsNow();
      const stored = await ns.core.readNamespacedSecret({ name: `${RELEASE}-kube-worker-api-token`, namespace: ns.name });
      expect(Buffer.from(stored.data!['api-token']!, 'base64').toString()).toBe(installed[`${RELEASE}-kube-worker-api-token`]!['api-token']);

      const upgrade = await helm(['upgrade', RELEASE, CHART, ...common, '--set', 'executor.concurrency=9'], kubeconfig);
      expect(upgrade.stderr).toBe('');
      expect(upgrade.stdout).toContain('REVISION: 2');
      expect(await secretsNow()).toEqual(installed);
      const executor = await ns.kc.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: `${RELEASE}-kube-worker-executor`, namespace: ns.name });
      expect(executor.spec!.template.spec!.containers[0]!.env).toContainEqual({ name: 'KUBE_WORKER_CONCURRENCY', value: '9' });

      const uninstall = await helm(['uninstall', RELEASE, '--namespace', ns.name, '--wait'], kubeconfig);
      expect(uninstall.stdout).toContain(`release "${RELEASE}" uninstalled`);
      const left = await ns.core.listNamespacedSecret({ namespace: ns.name, labelSelector: `app.kubernetes.io/instance=${RELEASE}` });
      expect(left.items).toEqual([]);
    });
  });
});
