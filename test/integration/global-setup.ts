/**
 * Integration tests need a real Redis: REDIS_URL, else the one on 127.0.0.1:6379, else a redis-server
 * of this run's own. When none can be had the suite fails loudly — it never skips.
 */
import type { TestProject } from 'vitest/node';
import { redisAnswers, startOwnRedis, type OwnRedis } from '../support/redis-server.js';

let ownRedis: OwnRedis | undefined;

export async function setup(project: TestProject): Promise<void> {
  let url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (!(await redisAnswers(url, 2000))) {
    if (process.env.REDIS_URL) throw new Error(`REDIS_URL=${url} does not answer; the integration tests need a real Redis`);
    ownRedis = await startOwnRedis();
    url = ownRedis.url;
  }
  project.provide('redisUrl', url);
}

export async function teardown(): Promise<void> {
  await ownRedis?.remove();
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
