import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { runCancelScale } from '../../bench/support/cancel-scale.js';
import { runKubeWorkerScale, type KubeWorkerScale } from '../../bench/support/scale-run.js';
import { removeSimulated, up } from '../cluster/cluster.js';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';
import { describeCluster, useNamespace } from './support/cluster.js';

// The reduced run of `npm run bench:scale` (2,000 operations on 100 simulated nodes): what it
// asserts are counts, never times. 4 executors × 10 at once, so that most operations wait in the
// queue. The second test is issue 23's cancel at scale, reduced from 1,000 operations.
const OPERATIONS = 200;
const EXECUTORS = 4;
const CONCURRENCY = 10;
const SIMULATED_NODES = 20;

describeCluster('kube-worker at scale on simulated nodes', () => {
  const namespace = useNamespace('scale');
  let redis: OwnRedis | undefined;
  beforeAll(async () => {
    // Adds the simulated nodes to the running cluster (kwok is built the first time).
    await up({ simulatedNodes: SIMULATED_NODES });
    redis = await startOwnRedis();
  });
  afterAll(async () => {
    await redis?.remove();
    // The cluster is shared: back to its one real node.
    await removeSimulated();
  });

  it(`${OPERATIONS} operations, ${EXECUTORS} executors, ${SIMULATED_NODES} simulated nodes: each gets one Job and succeeds, at most 6 API writes per operation and no watch of its own, never more Jobs pending than the executors' concurrency`, async () => {
    const run: KubeWorkerScale = await runKubeWorkerScale({
      operations: OPERATIONS,
      executors: EXECUTORS,
      concurrency: CONCURRENCY,
      durationSeconds: 1,
      inFlight: 32,
      kubeconfig: inject('kubeconfig'),
      namespace: namespace.name,
      redisUrl: redis!.url,
    });
    console.info(`[scale] ${JSON.stringify(run)}`);

    expect({ succeeded: run.succeeded, jobsMadeAgain: run.jobsMadeAgain, withoutJob: run.withoutJob }).toEqual({
      succeeded: OPERATIONS,
      jobsMadeAgain: 0,
      withoutJob: 0,
    });
    expect(run.writesPerOperation).toBeLessThanOrEqual(6);
    expect(run.watchesPerOperation).toBe(0);
    expect(run.maxPendingJobs).toBeLessThanOrEqual(EXECUTORS * CONCURRENCY);
  }, 600_000);

  it(`${OPERATIONS} operations cancelled at once, ${EXECUTORS * CONCURRENCY} of them running: every one ends cancelled, no Job is created after the cancels, nothing is left in the namespace`, async () => {
    const run = await runCancelScale({
      operations: OPERATIONS,
      executors: EXECUTORS,
      concurrency: CONCURRENCY,
      // Longer than the test: no operation ends by itself.
      durationSeconds: 3600,
      inFlight: 32,
      kubeconfig: inject('kubeconfig'),
      namespace: namespace.name,
      redisUrl: redis!.url,
    });
    console.info(`[scale] cancel ${JSON.stringify(run)}`);

    expect(run.runningAtCancel).toBe(EXECUTORS * CONCURRENCY);
    expect(run.cancelAnswers).toEqual({ 202: OPERATIONS });
    expect(run.outcomes).toEqual({ cancelled: OPERATIONS });
    expect(run.jobsCreatedAfterCancel).toBe(0);
    expect(run.left).toEqual({ jobs: 0, pods: 0, secrets: 0 });
  }, 600_000);
});
