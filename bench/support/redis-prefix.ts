/**
 * Each benchmark round writes under a Redis prefix of its own, so rounds never see each other's
 * queues or records and nothing is left in a shared Redis afterwards.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A prefix kube-worker accepts (letters, digits, _ and -, at most 32) that names the run. */
export const uniquePrefix = (label: string): string => `bench-${label}-${randomBytes(4).toString('hex')}`;

/** Deletes every key of the prefix (BullMQ's and kube-worker's alike, core/keys.ts); returns how many. */
export async function deletePrefix(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  let deleted = 0;
  try {
    for (const match of [`${prefix}:*`, `{${prefix}:*`, `{${prefix}}:*`]) {
      for await (const batch of redis.scanStream({ match, count: 1000 }) as AsyncIterable<string[]>) {
        if (batch.length > 0) deleted += await redis.unlink(...batch);
      }
    }
  } finally {
    await redis.quit();
  }
  return deleted;
}
