/**
 * Sharded pub/sub on a Redis Cluster: the script that records a result publishes on its pool's
 * finished channel (in the slot of the pool's keys), and a dispatcher's subscriber hears it, for
 * pools on every shard — and again after the primary of a pool's shard fails over.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys as redisKeys, type OperationRef } from '../../core/keys.js';
import { OperationStore } from '../../core/operation-store.js';
import { connectRedis, type RedisClient } from '../../core/redis.js';
import { FinishedOperations } from '../../dispatcher/finished-operations.js';
import { startRedisCluster, type RedisCluster } from './support/redis-cluster.js';

/** Resolves true when `promise` settles within `ms`, false otherwise. */
const within = (promise: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

describe('the finished message on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let redis: RedisClient;
  let finished: FinishedOperations;
  const keys = redisKeys(`h${randomBytes(4).toString('hex')}`);
  const pools = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
  let store: OperationStore;
  let n = 0;

  const operation = async (pool: string): Promise<OperationRef> => {
    const op = { ticket: `op-${(n += 1)}`, pool };
    await store.create(op, { bodyHash: 'h', payload: '{}', jobId: `${op.ticket}.1`, now: Date.now() });
    return op;
  };
  /** Whether a waiter hears the operation end within 2 s of its result (no re-check here: only the message wakes it). */
  const heard = async (op: OperationRef): Promise<boolean> => {
    const wait = finished.wait(op);
    try {
      expect(await store.recordResult(op, '', { state: 'succeeded', exitCode: 0 }, 60)).toBe('recorded');
      return await within(wait.ended, 2000);
    } finally {
      wait.cancel();
    }
  };

  beforeAll(async () => {
    cluster = await startRedisCluster();
    redis = connectRedis(cluster.url, 'kube-worker-channels-test');
    store = new OperationStore(redis, keys);
    finished = new FinishedOperations(
      () => connectRedis(cluster.url, 'kube-worker-channels-test-subscriber'),
      pools.map((pool) => keys.pool(pool).finishedChannel),
      () => undefined,
    );
    // The subscription is made with the first waiter; one that is never ended opens it.
    finished.wait({ ticket: 'opens-the-subscription', pool: pools[0]! });
    await new Promise((r) => setTimeout(r, 1000));
  });
  afterAll(async () => {
    await finished?.close();
    redis?.disconnect();
    await cluster?.remove();
  });

  it("wakes a follower of each pool's operation at once, whichever shard serves the pool", async () => {
    const primaries = new Set<number>();
    for (const pool of pools) {
      primaries.add((await cluster.primaryOf(await cluster.slotOf(keys.pool(pool).finishedChannel))).port);
      expect({ pool, heard: await heard(await operation(pool)) }).toEqual({ pool, heard: true });
    }
    expect(primaries.size).toBeGreaterThan(1);
  });

  it("still wakes followers once the primary of a pool's shard has failed over", async () => {
    const pool = pools[0]!;
    const slot = await cluster.slotOf(keys.pool(pool).finishedChannel);
    const primary = await cluster.primaryOf(slot);
    await cluster.kill(primary, 'SIGKILL');
    await cluster.promotion(primary, slot);
    const op = await operation(pool);
    // The subscriber moves to the promoted replica by itself, within a few seconds.
    await expect.poll(async () => heard(await operation(pool)), { timeout: 20_000, interval: 100 }).toBe(true);
    expect(await store.state(op)).toBe('queued');
  });
});
