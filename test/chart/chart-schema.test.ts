/**
 * values.schema.json turns a bad value away before anything reaches the cluster, naming the value
 * and what is wrong with it, in both helm lint and helm template.
 */
import { expect, it } from 'vitest';
import { CHART, describeHelm, helm, templateResult, valuesFile } from './support/helm.js';

const REFUSED = [
  {
    what: 'a CPU that is not a quantity',
    values: { scriptPods: { resources: { requests: { cpu: 'lots' } } } },
    message: /\/scriptPods\/resources\/requests\/cpu.*'lots' does not match pattern/,
  },
  { what: 'a maximum that is not a quantity', values: { scriptPods: { maxResources: { memory: '2 gigs' } } }, message: /\/scriptPods\/maxResources\/memory/ },
  { what: 'negative replicas', values: { dispatcher: { replicas: -1 } }, message: /\/dispatcher\/replicas.*minimum: got -1, want 0/ },
  { what: 'a concurrency of zero', values: { executor: { concurrency: 0 } }, message: /\/executor\/concurrency.*minimum: got 0, want 1/ },
  { what: 'a pool name the product refuses', values: { executor: { pools: ['Default'] } }, message: /\/executor\/pools\/0/ },
  { what: 'a reserved pool name', values: { executor: { pools: ['op'] } }, message: /\/executor\/pools\/0/ },
  { what: 'a misspelt value', values: { executor: { concurency: 8 } }, message: /\/executor.*additional properties 'concurency' not allowed/ },
  {
    what: 'an unknown pull policy',
    values: { scriptPods: { worker: { image: { pullPolicy: 'Sometimes' } } } },
    message: /\/scriptPods\/worker\/image\/pullPolicy/,
  },
  {
    what: 'a Redis URL of another scheme',
    values: { redis: { enabled: false }, externalRedis: { url: 'http://redis:6379' } },
    message: /\/externalRedis\/url/,
  },
  { what: 'an instance that is not a label value', values: { instance: '-blue' }, message: /\/instance.*does not match pattern/ },
  { what: 'scripts running as root', values: { scriptPods: { runAsUser: 0 } }, message: /\/scriptPods\/runAsUser.*minimum: got 0, want 1/ },
  {
    what: 'a package source that is not an http(s) URL prefix',
    values: { packages: { sources: ['ftp://feed.example.com/'] } },
    message: /\/packages\/sources\/0.*does not match pattern/,
  },
  {
    what: 'a package source with a user and password',
    values: { packages: { sources: ['https://me:pw@feed.example.com/'] } },
    message: /\/packages\/sources\/0.*does not match pattern/,
  },
  {
    what: 'a string where a number belongs',
    values: { scriptPods: { pendingTimeoutSeconds: 'ten minutes' } },
    message: /\/scriptPods\/pendingTimeoutSeconds.*got string, want integer/,
  },
];

describeHelm('the chart values schema', () => {
  for (const { what, values, message } of REFUSED) {
    it(`refuses ${what} in helm template and helm lint`, async () => {
      const template = await templateResult(values);
      expect(template.code).not.toBe(0);
      expect(template.stderr).toMatch(/values don't meet the specifications of the schema/);
      expect(template.stderr).toMatch(message);
      const lint = await helm(['lint', '--strict', CHART, '-f', valuesFile(values)]);
      expect(lint.code).not.toBe(0);
      expect(lint.stdout + lint.stderr).toMatch(message);
    });
  }

  it('accepts quantities in every form Kubernetes does', async () => {
    for (const cpu of ['250m', '1', 2, 0.5, '1.5', '1e3']) {
      const result = await templateResult({ scriptPods: { resources: { requests: { cpu, memory: '256Mi' } }, maxResources: { cpu: '64', memory: '1Ti' } } });
      expect(result.stderr, String(cpu)).toBe('');
    }
  });
});
