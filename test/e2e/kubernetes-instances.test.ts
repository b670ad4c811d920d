/**
 * Two deployments (releases) of kube-worker in one namespace, each with its own Redis prefix and so
 * its own instance: the same ticket runs twice, once in each, as two Jobs, and neither release's
 * executors (their runs, releases, start-up sweep) ever touch the other's Jobs.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readConfig, type Config } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { startKubernetesRuntime } from '../../executor/kubernetes/index.js';
import { bash, startStack, type Stack } from '../integration/support/stack.js';
import { describeCluster, eventually } from './support/cluster.js';
import { useKubeWorker } from './support/kube-worker.js';

describeCluster('two releases in one namespace', () => {
  const a = useKubeWorker('instances');
  let b: Stack;
  /** Release B: another stack (another prefix, so another instance) whose executors share A's namespace and Role. */
  const addExecutorB = (): Promise<unknown> => {
    const config: Config = { ...readConfig({ ...a.env(), KUBE_WORKER_PREFIX: b.config.prefix }), apiTokens: b.config.apiTokens };
    return b.addExecutor(config, (stores) => startKubernetesRuntime(config, stores, createLogger('silent', 'e2e'), () => undefined));
  };
  const instanceB = (): string => readConfig({ ...a.env(), KUBE_WORKER_PREFIX: b.config.prefix }).instance;
  const jobsOf = async (ticket: string) => (await a.ns.batch.listNamespacedJob({ namespace: a.ns.name, labelSelector: `kube-worker/ticket=${ticket}` })).items;

  beforeAll(async () => {
    b = await startStack({ executors: 0, env: a.env() });
    await a.addExecutor();
    await addExecutorB();
  });
  afterAll(async () => {
    await b?.close();
  });

  it('are two instances', () => {
    expect(a.instance()).not.toBe(instanceB());
  });

  it("run the same ticket as two Jobs, one each, and each gets its own script's result", async () => {
    const ticket = 'same-ticket';
    await a.stack.submit(bash('sleep 4; echo "ran in A"', { ticket }));
    await b.submit(bash('sleep 4; echo "ran in B"', { ticket }));
    const both = await eventually(
      'a Job of each release',
      async () => {
        const jobs = await jobsOf(ticket);
        return jobs.length === 2 ? jobs : undefined;
      },
      60_000,
    );
    expect(both.map((j) => j.metadata!.labels!['kube-worker/instance']).sort()).toEqual([a.instance(), instanceB()].sort());
    expect(new Set(both.map((j) => j.metadata!.name)).size).toBe(2);

    const [inA, inB] = await Promise.all([a.stack.waitUntilDone(ticket, 90_000), b.waitUntilDone(ticket, 90_000)]);
    expect([inA.state, inA.failure]).toEqual(['succeeded', undefined]);
    expect([inB.state, inB.failure]).toEqual(['succeeded', undefined]);
    expect(inA.logs.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['ran in A']);
    expect(inB.logs.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['ran in B']);
  });

  it("never sweeps the other release's running Job", async () => {
    const ticket = 'b-only';
    await b.submit(bash('sleep 8; echo "B survived"', { ticket }));
    await b.waitForState(ticket, ['running'], 60_000);
    // A new executor of A sweeps at start: to A, B's operation is unknown, so B's Job would look left behind.
    await a.addExecutor({ KUBE_WORKER_SWEEP_INTERVAL_SECONDS: '5' });
    expect(await jobsOf(ticket)).toHaveLength(1);
    const status = await b.waitUntilDone(ticket, 90_000);
    expect([status.state, status.failure]).toEqual(['succeeded', undefined]);
    expect(status.logs.map((l) => l.text)).toContain('B survived');
  });
});
