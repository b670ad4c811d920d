/**
 * The chart's tracing values: the OTEL_* variables it gives dispatcher and executor, read back by
 * the product's own configuration, and none without an endpoint.
 */
import { expect, it } from 'vitest';
import { readConfig } from '../../core/config.js';
import { tracesUrl } from '../../core/config-tracing.js';
import { containerOf, describeHelm, find, render, type KubeObject } from './support/helm.js';
import { containerEnv } from './support/pod-env.js';

const NAME = 'kw-kube-worker';
const containers = (objects: KubeObject[]) => ['dispatcher', 'executor'].map((side) => containerOf(find(objects, 'Deployment', `${NAME}-${side}`)));

describeHelm("the chart's tracing values", () => {
  it('set no OTEL_* variable by default', async () => {
    const objects = await render();
    for (const container of containers(objects)) {
      const env = containerEnv(objects, container);
      expect(Object.keys(env).filter((name) => name.startsWith('OTEL_'))).toEqual([]);
      expect(tracesUrl(readConfig(env))).toBeUndefined();
    }
  });

  it('give both sides the endpoint, the sampler and the headers from a Secret of the operator’s', async () => {
    const tracing = { otlpEndpoint: 'http://otel-collector.monitoring:4318', sampler: 'traceidratio', samplerRatio: '0.5', headersSecret: 'otlp-auth' };
    const objects = await render({ tracing });
    for (const container of containers(objects)) {
      const config = readConfig(containerEnv(objects, container, { 'otlp-auth': { 'otlp-headers': 'authorization=Bearer%20abc' } }));
      expect(tracesUrl(config)).toBe('http://otel-collector.monitoring:4318/v1/traces');
      expect(config).toMatchObject({ tracesSampler: 'traceidratio', tracesSamplerRatio: 0.5, otlpHeaders: { authorization: 'Bearer abc' } });
    }
  });

  it('refuse an endpoint that is no http(s) URL', async () => {
    await expect(render({ tracing: { otlpEndpoint: 'grpc://collector:4317' } })).rejects.toThrow(/otlpEndpoint/);
  });
});
