/** What the test cluster changes in KEDA's own configuration (test/cluster/keda.ts). */
import { describe, expect, it } from 'vitest';
import { kustomization } from '../cluster/keda.js';

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
