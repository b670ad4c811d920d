/** What the test cluster changes in KEDA's own configuration (test/cluster/keda.ts). */
import { describe, expect, it } from 'vitest';
import { kustomization, splitApiService } from '../cluster/keda.js';

describe("KEDA's kustomization for the test cluster", () => {
  const k = kustomization('github.com/kedacore/keda/v2@v2.21.1', '127.0.0.1:16500/kube-worker-test/keda:0123abcd') as any;

  it("builds on the module's config/minimal, named as a local path (github.com/… alone would be fetched)", () => {
    expect(k.resources).toEqual(['./github.com/kedacore/keda/v2@v2.21.1/config/minimal']);
  });

  it('runs the test image for both of KEDA’s images, the registry port kept in the name', () => {
    expect(k.images).toEqual([
      { name: 'ghcr.io/kedacore/keda', newName: '127.0.0.1:16500/kube-worker-test/keda', newTag: '0123abcd' },
      { name: 'ghcr.io/kedacore/keda-metrics-apiserver', newName: '127.0.0.1:16500/kube-worker-test/keda', newTag: '0123abcd' },
    ]);
  });

  it('pulls once and asks for little of the two-core node, in both Deployments', () => {
    expect(k.patches.map((p: any) => p.target.name)).toEqual(['keda-operator', 'keda-metrics-apiserver']);
    for (const p of k.patches)
      expect(JSON.parse(p.patch)).toEqual([
        { op: 'replace', path: '/spec/template/spec/containers/0/imagePullPolicy', value: 'IfNotPresent' },
        { op: 'replace', path: '/spec/template/spec/containers/0/resources/requests', value: { cpu: '10m', memory: '64Mi' } },
      ]);
  });
});

describe('splitApiService', () => {
  const doc = (kind: string, apiVersion = 'v1') => `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: x\n`;

  it('puts the APIService apart from everything else, which keeps its order', () => {
    const manifests = [doc('Namespace'), doc('APIService', 'apiregistration.k8s.io/v1'), doc('Deployment', 'apps/v1')].join('---\n');
    expect(splitApiService(manifests)).toEqual({
      apiService: doc('APIService', 'apiregistration.k8s.io/v1'),
      rest: [doc('Namespace'), doc('Deployment', 'apps/v1')].join('---\n'),
    });
  });

  it('refuses a configuration without exactly one APIService', () => {
    expect(() => splitApiService(doc('Namespace'))).toThrow(/0 APIServices, expected 1/);
  });
});
