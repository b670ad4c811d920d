/**
 * Image tags are text in a manifest, but people write `--set image.tag=9` or `tag: 1.25`: the schema
 * takes numbers too, and the chart renders each tag as the text it was written as. And the chart
 * renders with no --kube-version, as users' helm does by default.
 */
import { expect, it } from 'vitest';
import { CHART, containerOf, describeHelm, find, helm, parseManifests, RELEASE, templateResult } from './support/helm.js';

const scriptImage = (stdout: string): string => {
  const executor = containerOf(find(parseManifests(stdout), 'Deployment', `${RELEASE}-kube-worker-executor`));
  return executor.env.find((e: { name: string }) => e.name === 'KUBE_WORKER_SCRIPT_IMAGE').value;
};

describeHelm('image tags', () => {
  it.each([
    [9, ':9'],
    [20240101, ':20240101'],
    [1.25, ':1.25'],
    ['6.5.0-ubuntu.22.04', ':6.5.0-ubuntu.22.04'],
  ])('take %j in a values file and render it as text', async (tag, suffix) => {
    const result = await templateResult({ scriptPods: { worker: { image: { tag } } }, image: { tag }, redis: { image: { tag } } });
    expect(result.stderr).toBe('');
    expect(scriptImage(result.stdout).endsWith(suffix)).toBe(true);
    const objects = parseManifests(result.stdout);
    expect(containerOf(find(objects, 'Deployment', `${RELEASE}-kube-worker-dispatcher`)).image.endsWith(suffix)).toBe(true);
  });

  it('take --set scriptPods.worker.image.tag=9', async () => {
    const result = await helm(['template', RELEASE, CHART, '--set', 'scriptPods.worker.image.tag=9', '--set', 'image.tag=10']);
    expect(result.stderr).toBe('');
    expect(scriptImage(result.stdout)).toMatch(/:9$/);
  });

  it("render with helm's default Kubernetes version (no --kube-version)", async () => {
    const result = await helm(['template', RELEASE, CHART]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
  });
});
