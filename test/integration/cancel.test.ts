import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { bash, startStack, type Stack } from './support/stack.js';

/** A killed process may linger briefly as a zombie until it is reaped; that counts as gone. */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('cancel', () => {
  let stack: Stack;
  afterEach(() => stack.close());

  it('cancels a queued operation so that it never starts', async () => {
    stack = await startStack({ executors: 0 });
    const marker = `/tmp/kw-never-${Date.now()}`;
    const ticket = await stack.submit(bash(`touch ${marker}`));
    const response = await stack.api('POST', `/api/v1/operations/${ticket}/cancel`);
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ ticket, state: 'cancelled' });
    await stack.addExecutor();
    await new Promise((r) => setTimeout(r, 1000));
    const status = await stack.waitUntilDone(ticket);
    expect(status.state).toBe('cancelled');
    expect(status.exitCode).toBe(-43);
    expect(status.failure?.reason).toBe('Cancelled');
    const { existsSync } = await import('node:fs');
    expect(existsSync(marker)).toBe(false);
  });

  it('stops a running operation, its whole process group, within 2 seconds', async () => {
    stack = await startStack();
    const pidFile = `/tmp/kw-child-${Date.now()}`;
    const ticket = await stack.submit(bash(`sleep 60 & echo $! > ${pidFile}; echo started; wait`));
    await stack.waitForState(ticket, ['running']);
    await new Promise((r) => setTimeout(r, 300));
    const asked = Date.now();
    const response = await stack.api('POST', `/api/v1/operations/${ticket}/cancel`);
    expect(response.status).toBe(202);
    const status = await stack.waitUntilDone(ticket, 2000);
    expect(Date.now() - asked).toBeLessThan(2000);
    expect(status.state).toBe('cancelled');
    expect(status.exitCode).toBe(-43);
    const childPid = Number(readFileSync(pidFile, 'utf8'));
    expect(isAlive(childPid)).toBe(false);
  });

  it('leaves a finished operation as it was', async () => {
    stack = await startStack();
    const ticket = await stack.submit(bash('echo done'));
    await stack.waitUntilDone(ticket);
    const response = await stack.api('POST', `/api/v1/operations/${ticket}/cancel`);
    expect(response.body).toEqual({ ticket, state: 'succeeded' });
  });
});
