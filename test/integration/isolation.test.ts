import { readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedFile } from './support/shared-file.js';
import { bash, useStack } from './support/stack.js';

/** Each script records when it held the lock: "<ticket> start|end <ns>". */
const recorder = (file: string, seconds: number): string =>
  `echo "$KUBE_WORKER_TICKET start $(date +%s%N)" >> ${file}; sleep ${seconds}; echo "$KUBE_WORKER_TICKET end $(date +%s%N)" >> ${file}`;

function intervals(file: string): Array<{ start: number; end: number }> {
  const byTicket = new Map<string, { start: number; end: number }>();
  for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
    const [ticket, kind, ns] = line.split(' ');
    const entry = byTicket.get(ticket!) ?? { start: 0, end: 0 };
    entry[kind as 'start' | 'end'] = Number(BigInt(ns!) / 1000n);
    byTicket.set(ticket!, entry);
  }
  return [...byTicket.values()];
}

const overlaps = (list: Array<{ start: number; end: number }>): boolean =>
  list.some((a, i) => list.some((b, j) => i !== j && a.start < b.end && b.start < a.end));

describe('isolation across executors', () => {
  const stack = useStack({ executors: 2 });

  it("counts the wait for a mutex against the operation's timeout, so an operation never outlives it", async () => {
    const mutex = { isolation: { level: 'full', mutexName: `timeout-${Date.now()}` } };
    const holder = await stack.submit(bash('sleep 4', mutex));
    await stack.waitForState(holder, ['running']);
    // Given a whole timeout of its own after the wait, `sleep 3` would end well inside it.
    const waiter = await stack.submit(bash('sleep 3; echo finished', { ...mutex, timeoutSeconds: 5 }));
    const status = await stack.waitUntilDone(waiter, 60_000);
    expect(status.exitCode).toBe(-44);
    expect(['DeadlineExceeded', 'MutexTimeout']).toContain(status.failure?.reason);
    expect(status.logs.map((l) => l.text)).not.toContain('finished');
    await stack.waitUntilDone(holder);
  });

  it('never overlaps two full-isolation operations on one mutex, even on different executors', async () => {
    const file = sharedFile(`/tmp/kw-full-${Date.now()}`);
    const tickets = await Promise.all([1, 2, 3].map(() => stack.submit(bash(recorder(file, 0.5), { isolation: { level: 'full', mutexName: 'prod-db' } }))));
    const results = await Promise.all(tickets.map((t) => stack.waitUntilDone(t)));
    expect(results.map((r) => r.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const held = intervals(file);
    expect(held).toHaveLength(3);
    expect(overlaps(held)).toBe(false);
    rmSync(file);
  });

  it('lets operations without isolation on the same mutex run together', async () => {
    const file = sharedFile(`/tmp/kw-none-${Date.now()}`);
    const tickets = await Promise.all([1, 2].map(() => stack.submit(bash(recorder(file, 1), { isolation: { level: 'none', mutexName: 'shared-db' } }))));
    await Promise.all(tickets.map((t) => stack.waitUntilDone(t)));
    expect(overlaps(intervals(file))).toBe(true);
    rmSync(file);
  });

  it('fails an operation that waits longer than its mutex timeout, saying why', async () => {
    const holder = await stack.submit(bash('sleep 4', { isolation: { level: 'full', mutexName: 'busy' } }));
    await stack.waitForState(holder, ['running']);
    const waiter = await stack.submit(bash('echo never', { isolation: { level: 'full', mutexName: 'busy', mutexTimeoutSeconds: 1 } }));
    const status = await stack.waitUntilDone(waiter);
    expect(status.state).toBe('failed');
    expect(status.exitCode).toBe(-44);
    expect(status.failure?.reason).toBe('MutexTimeout');
    expect(status.failure?.message).toMatch(/Timed out after 1s waiting for mutex "busy"/);
    expect(status.logs.map((l) => l.text)).toContain('Waiting for exclusive use of mutex "busy"…');
    expect(status.logs.map((l) => l.text)).not.toContain('never');
    await stack.waitUntilDone(holder);
  });
});
