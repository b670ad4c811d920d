import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bash, startStack, TOKEN, type Stack } from './support/stack.js';

describe('log streams (follows) are bounded', () => {
  let stack: Stack;
  let queued: string;
  beforeAll(async () => {
    // No executor: the operation stays queued and its log has nothing new.
    stack = await startStack({ executors: 0, env: { KUBE_WORKER_MAX_FOLLOWS: '2', KUBE_WORKER_FOLLOW_IDLE_SECONDS: '2' } });
    queued = await stack.submit(bash('echo never'));
  });
  afterAll(() => stack.close());

  const follow = (signal?: AbortSignal): Promise<Response> =>
    fetch(`${stack.url}/api/v1/operations/${queued}/logs?follow=true`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: signal ?? AbortSignal.timeout(30_000),
    });

  it('refuses a follow past the limit with 503 and Retry-After, and takes one again once a follow ends', async () => {
    const first = new AbortController();
    const second = new AbortController();
    expect((await follow(first.signal)).status).toBe(200);
    expect((await follow(second.signal)).status).toBe(200);
    const third = await follow();
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('5');
    expect(((await third.json()) as { code: string }).code).toBe('KW_ERR_TOO_MANY_FOLLOWS');
    // Reading the status without following is never limited.
    expect((await stack.api('GET', `/api/v1/operations/${queued}/logs`)).status).toBe(200);
    first.abort();
    await expect
      .poll(
        async () => {
          const again = await follow(second.signal);
          return again.status;
        },
        { timeout: 10_000 },
      )
      .toBe(200);
    second.abort();
  });

  it('ends a follow that has had nothing new for the idle limit, without an end event', async () => {
    await expect.poll(async () => (await follow()).status, { timeout: 10_000 }).toBe(200);
    const response = await follow();
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(/: nothing new for 2s; reconnect with Last-Event-ID/);
    expect(text).not.toContain('event: end');
  });
});
