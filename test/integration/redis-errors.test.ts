import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';
import { scrape } from './support/metrics.js';
import { bash, startStack, TOKEN, type Stack } from './support/stack.js';

/** Errors while Redis is away; the bound is generous because clients back off between attempts. */
const DURING_OUTAGE = { timeout: 30_000, interval: 250 };

describe('a Redis outage', () => {
  let redis: OwnRedis;
  let stack: Stack;
  beforeAll(async () => {
    redis = await startOwnRedis({ aof: true });
    stack = await startStack({ redisUrl: redis.url });
  });
  afterAll(async () => {
    await stack.close();
    await redis.remove();
  });

  it('counts Redis errors on both sides, leaves none unhandled, and the worker carries on once Redis is back', async () => {
    const errors = async (component: string): Promise<number> => (await scrape(`${stack.url}/metrics`)).value('kube_worker_redis_errors_total', { component });
    // Counted from here: a machine busy enough to time a connect out counts that too.
    const before = { dispatcher: await errors('dispatcher'), executor: await errors('executor') };
    // ioredis prints this for a connection whose errors nobody listens to: every connection the
    // product makes (the replica checks, a follow's own) has its errors counted instead.
    const printed = vi.spyOn(console, 'error');
    const followed = await stack.submit(bash('sleep 120'));
    const follow = new AbortController();
    const following = fetch(`${stack.url}/api/v1/operations/${followed}/logs?follow=true`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: follow.signal,
    }).then((response) => response.text().catch(() => undefined));

    await redis.stop();
    await expect.poll(() => errors('dispatcher'), DURING_OUTAGE).toBeGreaterThan(before.dispatcher);
    await expect.poll(() => errors('executor'), DURING_OUTAGE).toBeGreaterThan(before.executor);
    // Depth cannot be read meanwhile: the scrape still answers, without it.
    expect((await scrape(`${stack.url}/metrics`)).value('kube_worker_queue_depth')).toBe(0);

    await redis.start();
    const status = await stack.waitUntilDone(await stack.submit(bash('echo back')), 60_000);
    expect(status.state).toBe('succeeded');
    follow.abort();
    await following;
    await stack.api('POST', `/api/v1/operations/${followed}/cancel`);
    const unhandled = printed.mock.calls.filter(([first]) => String(first).includes('Unhandled error event'));
    printed.mockRestore();
    expect(unhandled).toEqual([]);
  });
});
