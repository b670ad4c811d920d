import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scrape, type Samples } from './support/metrics.js';
import { bash, startStack, type Stack } from './support/stack.js';

const pool = { pool: 'default' };
/** Polling bound for what follows an event by a moment; generous, the machine may be busy. */
const SOON = { timeout: 15_000, interval: 100 };

describe('/metrics', () => {
  let stack: Stack;
  afterEach(() => stack.close());

  const metrics = (): Promise<Samples> => scrape(`${stack.url}/metrics`);

  it('moves every operation metric when operations run', async () => {
    stack = await startStack();
    const before = await metrics();

    const succeeded = await stack.submit(bash('echo out; echo err >&2'));
    const failed = await stack.submit(bash('exit 3'));
    await stack.waitUntilDone(succeeded);
    await stack.waitUntilDone(failed);
    const long = await stack.submit(bash('sleep 60'));
    await stack.waitForState(long, ['running']);

    // The first two leave the executor and their queue just after their outcome is recorded.
    await expect.poll(async () => (await metrics()).value('kube_worker_operations_in_flight', pool), SOON).toBe(1);
    await expect.poll(async () => (await metrics()).value('kube_worker_queue_depth', { ...pool, state: 'active' }), SOON).toBe(1);

    await stack.api('POST', `/api/v1/operations/${long}/cancel`);
    await stack.waitUntilDone(long);
    // The counters move when the executor has recorded the outcome, just before the job completes.
    await expect.poll(async () => (await metrics()).value('kube_worker_queue_depth', { ...pool, state: 'failed' }), SOON).toBe(2);
    const after = await metrics();
    const moved = (name: string, labels: Record<string, string> = pool): number => after.value(name, labels) - before.value(name, labels);

    expect(moved('kube_worker_operations_total', { ...pool, outcome: 'succeeded', reason: '' })).toBe(1);
    expect(moved('kube_worker_operations_total', { ...pool, outcome: 'failed', reason: 'ScriptFailed' })).toBe(1);
    expect(moved('kube_worker_operations_total', { ...pool, outcome: 'cancelled', reason: 'Cancelled' })).toBe(1);
    expect(moved('kube_worker_operation_queued_seconds_count')).toBe(3);
    expect(moved('kube_worker_operation_pending_seconds_count')).toBe(3);
    expect(moved('kube_worker_operation_run_seconds_count', { ...pool, outcome: 'succeeded' })).toBe(1);
    expect(moved('kube_worker_operation_run_seconds_count', { ...pool, outcome: 'failed' })).toBe(1);
    expect(moved('kube_worker_operation_run_seconds_count', { ...pool, outcome: 'cancelled' })).toBe(1);
    expect(moved('kube_worker_operation_run_seconds_sum')).toBeGreaterThan(0);
    expect(after.value('kube_worker_operations_in_flight', pool)).toBe(0);
    expect(after.value('kube_worker_queue_depth', { ...pool, state: 'completed' })).toBe(1);
    expect(after.value('kube_worker_queue_depth', { ...pool, state: 'active' })).toBe(0);
    expect(moved('kube_worker_log_lines_total', { ...pool, stream: 'stdout' })).toBe(1);
    expect(moved('kube_worker_log_lines_total', { ...pool, stream: 'stderr' })).toBe(1);
    // Each operation: picked up, and its outcome.
    expect(moved('kube_worker_log_lines_total', { ...pool, stream: 'system' })).toBeGreaterThanOrEqual(6);
    expect(moved('process_cpu_seconds_total', {})).toBeGreaterThan(0);
  });

  it('counts an operation cancelled before any executor took it', async () => {
    stack = await startStack({ executors: 0 });
    const ticket = await stack.submit(bash('echo never'));
    await stack.api('POST', `/api/v1/operations/${ticket}/cancel`);
    expect((await metrics()).value('kube_worker_queue_depth', { ...pool, state: 'waiting' })).toBe(1);
    await stack.addExecutor();
    await expect
      .poll(async () => (await metrics()).value('kube_worker_operations_total', { ...pool, outcome: 'cancelled', reason: 'Cancelled' }), SOON)
      .toBe(1);
    const after = await metrics();
    expect(after.value('kube_worker_operation_queued_seconds_count')).toBe(0);
    expect(after.value('kube_worker_queue_depth', { ...pool, state: 'waiting' })).toBe(0);
  });

  it('declares exactly the kube_worker metrics the README documents, with their types', async () => {
    stack = await startStack();
    const page = await metrics();
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    const documented = [...readme.matchAll(/^\| `(kube_worker_\w+)` \| (\w+) \|/gm)].map(([, name, type]) => `${name} ${type}`);
    const declared = [...page.text.matchAll(/^# TYPE (kube_worker_\w+) (\w+)$/gm)].map(([, name, type]) => `${name} ${type}`);
    expect(documented.length).toBeGreaterThan(0);
    expect(declared.sort()).toEqual(documented.sort());
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds'])
      expect(page.text).toContain(`# TYPE ${name} `);
  });
});
