/**
 * The chart's optional Grafana dashboard: a ConfigMap carrying the dashboard file as it is in the
 * repository, under the label Grafana's sidecar watches, only when asked for.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CHART, describeHelm, render } from './support/helm.js';
import { EVERYTHING } from './support/value-sets.js';

const NAME = 'kw-kube-worker-grafana-dashboard';
const dashboardFile = readFileSync(join(CHART, 'dashboards', 'kube-worker.json'), 'utf8');

describeHelm("the chart's Grafana dashboard", () => {
  it('is not rendered by default', async () => {
    const objects = await render();
    expect(objects.filter((o) => o.metadata.name === NAME)).toEqual([]);
  });

  it('is a ConfigMap labelled grafana_dashboard: "1" holding the dashboard, when enabled', async () => {
    const objects = await render({ grafanaDashboard: { enabled: true } });
    const [configMap, ...others] = objects.filter((o) => o.metadata.name === NAME);
    expect(others).toEqual([]);
    expect(configMap!.kind).toBe('ConfigMap');
    expect(configMap!.metadata.labels).toMatchObject({ grafana_dashboard: '1', 'app.kubernetes.io/instance': 'kw' });
    expect(configMap!.metadata.annotations).toBeUndefined();
    expect(JSON.parse(configMap!.data['kube-worker.json'])).toEqual(JSON.parse(dashboardFile));
  });

  it('carries the label and annotations the values give', async () => {
    const objects = await render(EVERYTHING);
    const configMap = objects.find((o) => o.metadata.name === NAME)!;
    expect(configMap.metadata.labels['example.com/dashboard']).toBe('yes');
    expect(configMap.metadata.labels.grafana_dashboard).toBeUndefined();
    expect(configMap.metadata.annotations).toEqual({ grafana_folder: 'Deployments' });
  });

  it('refuses a label that is no Kubernetes label', async () => {
    await expect(render({ grafanaDashboard: { enabled: true, label: 'not a label' } })).rejects.toThrow(/label/);
  });
});
