import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { deploymentKeys } from '../support/deployment-keys.js';
import { describeMutex } from '../support/mutex-cases.js';

describeMutex(
  'on one Redis',
  async () => new Redis(inject('redisUrl')),
  async (redis, prefix) => {
    const left = await deploymentKeys(redis as Redis, prefix);
    if (left.length > 0) await redis.del(...left);
  },
);
