import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { healthy, spawnCli, waitUntilStarted } from '../support/cli-process.js';
import { freePort } from '../support/free-port.js';
import { commandName, startRedisFaultProxy, type RedisFaultProxy } from '../support/redis-fault-proxy.js';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';
import { bash, startStack, TOKEN, type Stack } from './support/stack.js';

/** Far longer than any answer may take: past it, the request hangs. */
const HANG = 15_000;

async function call(url: string, method = 'GET', body?: unknown): Promise<{ status: number; type: string | null; body: any }> {
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(HANG),
  });
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type'), body: text ? JSON.parse(text) : undefined };
}

describe.each([
  ['stopped', (redis: OwnRedis) => redis.stop(), (redis: OwnRedis) => redis.start()],
  ['frozen (SIGSTOP)', async (redis: OwnRedis) => redis.freeze(), async (redis: OwnRedis) => redis.thaw()],
])('with Redis %s', (_how, breakIt, mendIt) => {
  let redis: OwnRedis;
  let stack: Stack;
  let known: string;
  beforeAll(async () => {
    redis = await startOwnRedis();
    // The product's own limit, which the stack's default raises for the other tests.
    stack = await startStack({ redisUrl: redis.url, env: { KUBE_WORKER_REDIS_COMMAND_TIMEOUT_MS: '1000' } });
    known = await stack.submit(bash('echo before'));
    await stack.waitUntilDone(known);
  });
  afterAll(async () => {
    await mendIt(redis);
    await stack.close();
    await redis.remove();
  });

  it('the API answers 503 problem+json instead of waiting, /readyz says not ready, and all recovers by itself', async () => {
    await breakIt(redis);
    const submitted = await call(`${stack.url}/api/v1/operations`, 'POST', { pool: 'default', ...bash('echo during') });
    expect(submitted.status).toBe(503);
    expect(submitted.type).toContain('application/problem+json');
    expect(submitted.body.code).toBe('KW_ERR_UNAVAILABLE');
    const status = await call(`${stack.url}/api/v1/operations/${known}`);
    expect(status.status).toBe(503);
    expect(status.body.code).toBe('KW_ERR_UNAVAILABLE');
    expect((await call(`${stack.url}/api/v1/operations/${known}/cancel`, 'POST')).status).toBe(503);
    expect((await call(`${stack.url}/readyz`)).status).toBe(503);

    await mendIt(redis);
    await expect.poll(async () => (await call(`${stack.url}/readyz`)).status, { timeout: 30_000 }).toBe(200);
    const after = await stack.waitUntilDone(await stack.submit(bash('echo after')), 60_000);
    expect(after.state).toBe('succeeded');
  });
});

describe('a dispatcher whose Redis answers late while it starts', () => {
  let proxy: RedisFaultProxy;
  let stack: Stack | undefined;
  afterAll(async () => {
    await stack?.close();
    await proxy.close();
  });

  it('serves submissions as soon as Redis answers in time again', async () => {
    proxy = await startRedisFaultProxy(inject('redisUrl'));
    // An INFO asked once a connection is ready (its first is ioredis's own ready check), such as
    // BullMQ's version check when a queue is made, is answered after the API's 1 s limit (if
    // none is asked within 5 s, nothing is stalled).
    void proxy.stall((command, before) => before.includes('INFO') && commandName(command) === 'INFO', 1500, 5000).catch(() => undefined);
    stack = await startStack({ redisUrl: proxy.url, executorRedisUrl: inject('redisUrl'), env: { KUBE_WORKER_REDIS_COMMAND_TIMEOUT_MS: '1000' } });
    const status = await stack.waitUntilDone(await stack.submit(bash('echo after')), 60_000);
    expect(status.state).toBe('succeeded');
  });
});

describe('a dispatcher given SIGTERM', () => {
  let redis: OwnRedis;
  let stack: Stack;
  beforeAll(async () => {
    redis = await startOwnRedis();
    stack = await startStack({ redisUrl: redis.url, executors: 0 });
  });
  afterAll(async () => {
    redis.thaw();
    await stack.close();
    await redis.remove();
  });

  async function spawnDispatcher(): Promise<{ url: string; exited: Promise<number | null>; kill(signal: NodeJS.Signals): void; output(): string }> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawnCli('dispatcher', {
      REDIS_URL: redis.url,
      KUBE_WORKER_PREFIX: stack.config.prefix,
      KUBE_WORKER_API_TOKEN: TOKEN,
      KUBE_WORKER_LOG_LEVEL: 'info',
      KUBE_WORKER_SHUTDOWN_GRACE_SECONDS: '3',
      HOST: '127.0.0.1',
      PORT: String(port),
    });
    await waitUntilStarted('dispatcher', child, () => healthy(url), 120_000);
    return { url, exited: child.exited, kill: (signal) => child.process.kill(signal), output: child.output };
  }

  async function exitsWithin(exited: Promise<number | null>, ms: number): Promise<number | null | 'still running'> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)));
    try {
      return await Promise.race([exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  // Starting a process through tsx takes long on a busy machine.
  it('exits while a request waits on a frozen Redis', { timeout: 180_000 }, async () => {
    const dispatcher = await spawnDispatcher();
    redis.freeze();
    const inFlight = call(`${dispatcher.url}/api/v1/operations`, 'POST', { pool: 'default', ...bash('echo x') }).catch((error: Error) => error);
    await new Promise((r) => setTimeout(r, 200));
    dispatcher.kill('SIGTERM');
    expect(await exitsWithin(dispatcher.exited, HANG), dispatcher.output()).toBe(0);
    const answer = await inFlight;
    // Answered 503 before the exit, or cut off by it: never left hanging.
    if (!(answer instanceof Error)) expect(answer.status).toBe(503);
    redis.thaw();
  });

  it('exits while a client follows a log that has nothing new', { timeout: 180_000 }, async () => {
    const dispatcher = await spawnDispatcher();
    const ticket = await stack.submit(bash('echo never runs: no executor'));
    const follow = await fetch(`${dispatcher.url}/api/v1/operations/${ticket}/logs?follow=true`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: AbortSignal.timeout(HANG),
    });
    expect(follow.status).toBe(200);
    const reading = follow.text().catch((error: Error) => error);
    await new Promise((r) => setTimeout(r, 200));
    dispatcher.kill('SIGTERM');
    expect(await exitsWithin(dispatcher.exited, HANG), dispatcher.output()).toBe(0);
    // The stream was ended by the dispatcher, not by the client giving up.
    expect(await reading, dispatcher.output()).not.toBeInstanceOf(DOMException);
  });
});
