import { readFileSync, rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';
import { childExecutors } from './support/child-executor.js';
import { sharedFile } from './support/shared-file.js';
import { bash, startStack, type Stack } from './support/stack.js';

/** Executors in processes of their own start slowly on a loaded machine. */
const SLOW = 180_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('an executor through a Redis outage', () => {
  let redis: OwnRedis;
  let stack: Stack;
  beforeEach(async () => {
    redis = await startOwnRedis({ aof: true });
  });
  const children = childExecutors();
  afterEach(async () => {
    children.killAll();
    await stack.close();
    await redis.remove();
  });

  it(
    'exits on SIGTERM while Redis is down, with nothing running, without waiting for Redis',
    async () => {
      const grace = 5;
      stack = await startStack({ executors: 0, redisUrl: redis.url });
      const idle = await children.spawn(stack, { KUBE_WORKER_SHUTDOWN_GRACE_SECONDS: String(grace) });
      await redis.stop();
      await sleep(1000);
      idle.process.kill('SIGTERM');
      // A liveness bound, not a timing: without it the test would hang for ever on the defect.
      const stillAlive = sleep((grace + 10) * 1000).then(() => 'still alive');
      let ended: string;
      try {
        ended = await Promise.race([idle.exited.then(() => 'exited'), stillAlive]);
      } finally {
        await redis.start();
      }
      expect(ended).toBe('exited');
    },
    SLOW,
  );

  it(
    'keeps a script that runs through an outage longer than the lock, and records its own outcome once',
    async () => {
      const fast = { KUBE_WORKER_LOCK_DURATION_MS: '2000' };
      stack = await startStack({ executors: 0, redisUrl: redis.url, env: fast });
      await children.spawn(stack, fast);
      await stack.addExecutor();
      const runs = sharedFile(`/tmp/kw-outage-${Date.now()}`);
      const ticket = await stack.submit(bash(`echo run >> ${runs}; sleep 12; echo done`));
      await stack.waitForState(ticket, ['running']);
      await redis.stop();
      await sleep(6000);
      await redis.start();
      const status = await stack.waitUntilDone(ticket, 60_000);
      expect(status.failure?.reason).toBeUndefined();
      expect(status.state).toBe('succeeded');
      expect(status.logs.map((l) => l.text)).toContain('done');
      expect(readFileSync(runs, 'utf8')).toBe('run\n');
      rmSync(runs);
    },
    SLOW,
  );
});
