import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bash, localRuntime, startStack, TOKEN, type Stack, useStack } from './support/stack.js';

interface Event {
  id?: string;
  event?: string;
  data: any;
}

async function readEvents(url: string, headers: Record<string, string> = {}): Promise<Event[]> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}`, ...headers } });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((block) => block.includes('data: '))
    .map((block) => ({
      id: /^id: (.*)$/m.exec(block)?.[1],
      event: /^event: (.*)$/m.exec(block)?.[1],
      data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!),
    }));
}

describe('log stream (Server-Sent Events)', () => {
  const stack = useStack({ env: { KUBE_WORKER_LOG_MAX_LINES: '20' } });

  it('follows a running operation live to its end event', async () => {
    const ticket = await stack.submit(bash('for i in 1 2 3; do echo "tick $i"; sleep 0.3; done; exit 2'));
    const events = await readEvents(`${stack.url}/api/v1/operations/${ticket}/logs?follow=true`);
    const logs = events.filter((e) => e.event === 'log');
    expect(logs.map((e) => e.data.text)).toEqual(expect.arrayContaining(['tick 1', 'tick 2', 'tick 3']));
    expect(logs.map((e) => Number(e.id))).toEqual(logs.map((_, i) => i + 1));
    const end = events.at(-1)!;
    expect(end.event).toBe('end');
    expect(end.data).toMatchObject({ ticket, state: 'failed', exitCode: 2 });
  });

  it('resumes after Last-Event-ID without repeating a line', async () => {
    const ticket = await stack.submit(bash('echo a; echo b; echo c'));
    await stack.waitUntilDone(ticket);
    const events = await readEvents(`${stack.url}/api/v1/operations/${ticket}/logs`, { 'last-event-id': '2' });
    const logs = events.filter((e) => e.event === 'log');
    expect(logs[0]!.data.seq).toBe(3);
    expect(new Set(logs.map((e) => e.data.seq)).size).toBe(logs.length);
  });

  it('keeps at most the configured lines, says how many were dropped, and still ends with the outcome', async () => {
    const ticket = await stack.submit(bash('for i in $(seq 1 100); do echo "line $i"; done'));
    const status = await stack.waitUntilDone(ticket);
    expect(status.logs).toHaveLength(22);
    expect(status.logs.at(-2)!.text).toMatch(/^\d+ log lines dropped: the limit is 20 lines per operation$/);
    expect(status.logs.at(-1)).toMatchObject({ stream: 'system', text: 'Succeeded' });
    expect(status.logs.map((l) => l.seq)).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));
  });

  it('answers 404 for an unknown ticket before streaming', async () => {
    const response = await fetch(`${stack.url}/api/v1/operations/nope/logs`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(404);
  });
});

describe('a script whose interpreter is missing', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ executors: 0 });
    await stack.addExecutor({}, localRuntime(stack.config.workDir, { PATH: '/nonexistent' }));
  });
  afterAll(() => stack.close());

  it('fails with a RuntimeError that names the interpreter', async () => {
    const status = await stack.waitUntilDone(await stack.submit({ script: { syntax: 'python', body: 'print(1)' } }));
    expect(status.state).toBe('failed');
    expect(status.exitCode).toBe(-42);
    expect(status.failure?.reason).toBe('RuntimeError');
    expect(status.failure?.message).toMatch(/python3 is not installed on this executor/);
  });
});
