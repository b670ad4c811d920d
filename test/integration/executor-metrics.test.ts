import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';
import { spawnExecutor, type ChildExecutor } from './support/child-executor.js';
import { scrape } from './support/metrics.js';
import { bash, startStack, type Stack } from './support/stack.js';

describe('kube-worker executor', () => {
  let stack: Stack;
  let executor: ChildExecutor;
  let metricsUrl: string;
  beforeAll(async () => {
    stack = await startStack({ executors: 0 });
    const port = await freePort();
    executor = await spawnExecutor(stack, { KUBE_WORKER_METRICS_PORT: String(port), HOST: '127.0.0.1' });
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
  });
  afterAll(async () => {
    executor.process.kill('SIGTERM');
    await executor.exited;
    await stack.close();
  });

  it('serves its own metrics on KUBE_WORKER_METRICS_PORT, moving as it runs operations', async () => {
    const before = await scrape(metricsUrl);
    expect(before.declares('kube_worker_kubernetes_requests_total', 'counter')).toBe(true);
    // The queue depth is the dispatcher's to report.
    expect(before.declares('kube_worker_queue_depth', 'gauge')).toBe(false);
    const status = await stack.waitUntilDone(await stack.submit(bash('echo from the child executor')));
    expect(status.state).toBe('succeeded');
    await expect
      .poll(async () => (await scrape(metricsUrl)).value('kube_worker_operations_total', { pool: 'default', outcome: 'succeeded' }), {
        timeout: 15_000,
        interval: 100,
      })
      .toBe(1);
    const after = await scrape(metricsUrl);
    expect(after.value('kube_worker_log_lines_total', { pool: 'default', stream: 'stdout' })).toBe(1);
    expect(after.value('kube_worker_operation_run_seconds_count', { pool: 'default' })).toBe(1);
  });

  it('answers 404 beside /metrics and its probes; /readyz turns 503 while it drains, and it stops serving when it stops', async () => {
    const at = (path: string): Promise<number> => fetch(metricsUrl.replace('/metrics', path)).then((r) => r.status);
    expect(await at('/')).toBe(404);
    expect([await at('/livez'), await at('/readyz')]).toEqual([200, 200]);
    const draining = await stack.submit(bash('echo begun; sleep 4; echo end'));
    await stack.waitForState(draining, ['running']);
    executor.process.kill('SIGTERM');
    await expect.poll(() => at('/readyz'), { timeout: 10_000, interval: 50 }).toBe(503);
    expect(await at('/livez')).toBe(200);
    expect(await executor.exited).toBe(0);
    expect((await stack.waitUntilDone(draining)).state).toBe('succeeded');
    // Nothing listens any more: the connection is refused.
    await expect(fetch(metricsUrl)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
  });
});
