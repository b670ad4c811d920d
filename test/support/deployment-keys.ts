/** Every Redis key of a deployment's prefix (core/keys.ts): its pools', tickets', mutexes' and own. */
import type { Redis } from 'ioredis';

export async function deploymentKeys(redis: Redis, prefix: string): Promise<string[]> {
  const found = await Promise.all([`${prefix}:*`, `{${prefix}:*`, `{${prefix}}:*`].map((pattern) => redis.keys(pattern)));
  return [...new Set(found.flat())];
}
