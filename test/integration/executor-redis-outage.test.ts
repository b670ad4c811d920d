import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../cli/private-redis.js';
import { spawnExecutor, type ChildExecutor } from './support/child-executor.js';
import { bash, startStack, type Stack } from './support/stack.js';

/** Executors in processes of their own start slowly on a loaded machine. */
const SLOW = 180_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('an executor through a Redis outage', () => {
  let dir: string;
  let redis: PrivateRedis;
  let stack: Stack;
  const restart = async (): Promise<void> => {
    redis = await startPrivateRedis(dir, Number(new URL(redis.url).port));
  };
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kw-executor-outage-'));
    redis = await startPrivateRedis(dir);
  });
  const children: ChildExecutor[] = [];
  const spawn = async (env: Record<string, string>): Promise<ChildExecutor> => {
    const child = await spawnExecutor(stack, env);
    children.push(child);
    return child;
  };
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.process.exitCode === null) child.process.kill('SIGKILL');
    await stack.close();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('exits on SIGTERM while Redis is down, with nothing running, without waiting for Redis', async () => {
    const grace = 5;
    stack = await startStack({ executors: 0, redisUrl: redis.url });
    const idle = await spawn({ KUBE_WORKER_SHUTDOWN_GRACE_SECONDS: String(grace) });
    await redis.stop();
    await sleep(1000);
    idle.process.kill('SIGTERM');
    // A liveness bound, not a timing: without it the test would hang for ever on the defect.
    const stillAlive = sleep((grace + 10) * 1000).then(() => 'still alive');
    let ended: string;
    try {
      ended = await Promise.race([idle.exited.then(() => 'exited'), stillAlive]);
    } finally {
      await restart();
    }
    expect(ended).toBe('exited');
  }, SLOW);

  it('keeps a script that runs through an outage longer than the lock, and records its own outcome once', async () => {
    const fast = { KUBE_WORKER_LOCK_DURATION_MS: '2000' };
    stack = await startStack({ executors: 0, redisUrl: redis.url, env: fast });
    await spawn(fast);
    await stack.addExecutor();
    const runs = `/tmp/kw-outage-${Date.now()}`;
    const ticket = await stack.submit(bash(`echo run >> ${runs}; sleep 12; echo done`));
    await stack.waitForState(ticket, ['running']);
    await redis.stop();
    await sleep(6000);
    await restart();
    const status = await stack.waitUntilDone(ticket, 60_000);
    expect(status.failure?.reason).toBeUndefined();
    expect(status.state).toBe('succeeded');
    expect(status.logs.map((l) => l.text)).toContain('done');
    expect(readFileSync(runs, 'utf8')).toBe('run\n');
    rmSync(runs);
  }, SLOW);
});
