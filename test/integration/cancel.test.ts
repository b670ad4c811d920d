import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { bash, startStack, TOKEN, type Stack } from './support/stack.js';

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
    // Queued after it: once this one has run, the executor has taken (and skipped) the cancelled one.
    await stack.waitUntilDone(await stack.submit(bash('echo after')));
    const status = await stack.waitUntilDone(ticket);
    expect(status.state).toBe('cancelled');
    expect(status.exitCode).toBe(-43);
    expect(status.failure?.reason).toBe('Cancelled');
    const { existsSync } = await import('node:fs');
    expect(existsSync(marker)).toBe(false);
  });

  it('stops a running operation and its whole process group, long before the script would end', async () => {
    stack = await startStack();
    const pidFile = `/tmp/kw-child-${Date.now()}`;
    const ticket = await stack.submit(bash(`sleep 600 & echo $! > ${pidFile}; echo started; wait`));
    // The child's pid is written before "started": once that line is stored, there is a group to stop.
    await stack.waitFor(ticket, 'started', (s) => s.logs.some((l) => l.text === 'started'));
    const response = await stack.api('POST', `/api/v1/operations/${ticket}/cancel`);
    expect(response.status).toBe(202);
    // Far below the script's own 600 s: the cancel ended it, not the script.
    const status = await stack.waitUntilDone(ticket, 120_000);
    expect(status.state).toBe('cancelled');
    expect(status.exitCode).toBe(-43);
    const childPid = Number(readFileSync(pidFile, 'utf8'));
    expect(isAlive(childPid)).toBe(false);
  });

  it('leaves a finished operation as it was, answering 200 with its state rather than 202', async () => {
    stack = await startStack();
    const ticket = await stack.submit(bash('echo done'));
    await stack.waitUntilDone(ticket);
    const response = await stack.api('POST', `/api/v1/operations/${ticket}/cancel`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ticket, state: 'succeeded' });
    expect((await stack.api('GET', `/api/v1/operations/${ticket}`)).body.state).toBe('succeeded');
  });

  it('answers a second cancel of a cancelled operation with 200 and its state', async () => {
    stack = await startStack({ executors: 0 });
    const ticket = await stack.submit(bash('echo never'));
    expect((await stack.api('POST', `/api/v1/operations/${ticket}/cancel`)).status).toBe(202);
    const again = await stack.api('POST', `/api/v1/operations/${ticket}/cancel`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ticket, state: 'cancelled' });
  });

  it.each<[string, string | undefined]>([
    ['an empty body', ''],
    ['an empty object', '{}'],
    ['no body at all', undefined],
  ])('accepts a cancel sent as JSON with %s', async (_case, body) => {
    stack = await startStack({ executors: 0 });
    const ticket = await stack.submit(bash('echo never'));
    const response = await fetch(`${stack.url}/api/v1/operations/${ticket}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body }),
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ ticket, state: 'cancelled' });
  });
});
