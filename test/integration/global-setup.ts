/**
 * Integration tests need a real Redis: REDIS_URL, else the one on 127.0.0.1:6379, else a private
 * redis-server started for this run. When none can be had the suite fails loudly — it never skips.
 */
import type { TestProject } from 'vitest/node';
import { Redis } from 'ioredis';
import { startPrivateRedis, type PrivateRedis } from '../../cli/private-redis.js';

async function answers(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

let privateRedis: PrivateRedis | undefined;

export async function setup(project: TestProject): Promise<void> {
  let url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (!(await answers(url))) {
    if (process.env.REDIS_URL) throw new Error(`REDIS_URL=${url} does not answer; the integration tests need a real Redis`);
    privateRedis = await startPrivateRedis(`${process.cwd()}/.kube-worker/test-redis`);
    url = privateRedis.url;
  }
  project.provide('redisUrl', url);
}

export async function teardown(): Promise<void> {
  await privateRedis?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
