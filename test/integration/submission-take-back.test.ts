import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { keys } from '../../core/keys.js';
import { OperationStore } from '../../core/operation-store.js';
import { JOB_NAME, jobIdFor, jobOptions, queueName, type OperationJobData } from '../../core/queue.js';
import { startStack, type Stack } from './support/stack.js';

describe('taking back the record of a submission whose job could not be added', () => {
  let stack: Stack;
  afterEach(() => stack.close());

  it('leaves the record when the job is there after all (its add ran, or a retry of the same body added it), so the job runs', async () => {
    stack = await startStack({ executors: 0 });
    const redis = new Redis(stack.redisUrl);
    const store = new OperationStore(redis, keys(stack.config.prefix));
    const queue = new Queue<OperationJobData>(queueName('default'), { connection: redis, prefix: keys(stack.config.prefix).pool('default').queuePrefix });
    const jobId = jobIdFor('took-back', 'n1');
    const create = { bodyHash: 'h', payload: '{}', jobId, now: Date.now() };
    const tookBack = { ticket: 'took-back', pool: 'default' };
    try {
      // No job: the create is undone.
      await store.create(tookBack, create);
      expect(await store.abandon(tookBack, jobId, queue.toKey(jobId))).toBe(true);
      expect(await store.get(tookBack)).toBeUndefined();

      // The job exists: a retry found the record and added the job before the take-back ran.
      await store.create(tookBack, create);
      await queue.add(JOB_NAME, { ticket: 'took-back', pool: 'default', syntax: 'bash' }, jobOptions(jobId, 60));
      expect(await store.abandon(tookBack, jobId, queue.toKey(jobId))).toBe(false);
      expect((await store.get(tookBack))?.state).toBe('queued');
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });
});
