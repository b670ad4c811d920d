import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnExecutor } from './support/child-executor.js';
import { sharedFile } from './support/shared-file.js';
import { bash, startStack, type Stack } from './support/stack.js';

describe('an executor that stops mid-run', () => {
  let stack: Stack;
  afterEach(() => stack.close());

  it('when killed, its operation fails as ExecutorLost on another executor and the script never runs twice', async () => {
    stack = await startStack({ executors: 0, env: { KUBE_WORKER_LOCK_DURATION_MS: '2000' } });
    const doomed = await spawnExecutor(stack, { KUBE_WORKER_LOCK_DURATION_MS: '2000' });
    const runs = sharedFile(`/tmp/kw-lost-${Date.now()}`);
    const ticket = await stack.submit(bash(`echo run >> ${runs}; echo working; sleep 30`));
    await stack.waitForState(ticket, ['running']);
    // Kill it only once its output is stored, so the test can tell that output survives.
    await stack.waitFor(ticket, 'showing "working"', (status) => status.logs.some((l) => l.text === 'working'));
    doomed.process.kill('SIGKILL');
    await doomed.exited;
    await stack.addExecutor({ lockDurationMs: 2000 });
    const status = await stack.waitUntilDone(ticket, 30_000);
    expect(status.state).toBe('failed');
    expect(status.exitCode).toBe(-46);
    expect(status.failure?.reason).toBe('ExecutorLost');
    expect(status.logs.map((l) => l.text)).toContain('working');
    expect(readFileSync(runs, 'utf8')).toBe('run\n');
  }, 120_000); // an executor process to start, its lock to lapse, and its silence to outlast the stale window

  it('when asked to stop with SIGTERM, it finishes what runs, takes nothing new, and exits', async () => {
    stack = await startStack({ executors: 0 });
    const stopping = await spawnExecutor(stack, { KUBE_WORKER_SHUTDOWN_GRACE_SECONDS: '20' });
    const running = await stack.submit(bash('echo begin; sleep 2; echo finished'));
    await stack.waitForState(running, ['running']);
    stopping.process.kill('SIGTERM');
    await expect.poll(() => stopping.output(), { timeout: 30_000 }).toContain('taking no more work');
    const marker = `/tmp/kw-after-stop-${Date.now()}`;
    const later = await stack.submit(bash(`touch ${marker}`));
    const status = await stack.waitUntilDone(running);
    expect(status.state).toBe('succeeded');
    expect(status.logs.map((l) => l.text)).toContain('finished');
    expect(await stopping.exited).toBe(0);
    expect((await stack.api('GET', `/api/v1/operations/${later}`)).body.state).toBe('queued');
    expect(existsSync(marker)).toBe(false);
    await stack.addExecutor();
    expect((await stack.waitUntilDone(later)).state).toBe('succeeded');
  });

  it('when its grace period ends first, the script is stopped and the operation fails with a reason', async () => {
    stack = await startStack({ executors: 0 });
    const stopping = await spawnExecutor(stack, { KUBE_WORKER_SHUTDOWN_GRACE_SECONDS: '1' });
    const ticket = await stack.submit(bash('sleep 60'));
    await stack.waitForState(ticket, ['running']);
    stopping.process.kill('SIGTERM');
    const status = await stack.waitUntilDone(ticket, 10_000);
    expect(status.state).toBe('failed');
    expect(status.failure?.reason).toBe('RuntimeError');
    expect(status.failure?.message).toMatch(/shut down/);
    expect(await stopping.exited).toBe(0);
  });
});
