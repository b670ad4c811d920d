import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectRedis, type Redis } from '../../core/redis.js';

describe('a connection that coalesces writes', () => {
  let redis: Redis;
  const key = `kw-test-coalescing-${process.pid}`;
  beforeAll(async () => {
    redis = connectRedis(inject('redisUrl'), 'kw-test-coalescing', { coalesceWrites: true }) as Redis;
    await redis.ping();
  });
  afterAll(async () => {
    await redis.del(key);
    await redis.quit();
  });

  it('holds the commands of one turn of the event loop and sends them together when it ends', async () => {
    const replies = Array.from({ length: 100 }, () => redis.incr(key));
    expect(redis.stream.writableCorked).toBe(1);
    expect(redis.stream.writableLength).toBeGreaterThan(0);
    await nextTurn();
    expect(redis.stream.writableCorked).toBe(0);
    expect(await Promise.all(replies)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('goes on answering after its connection was cut', async () => {
    const id = await redis.client('ID');
    const killer = redis.duplicate();
    await killer.client('KILL', 'ID', String(id));
    await killer.quit();
    await redis.set(key, 'after');
    expect(await redis.get(key)).toBe('after');
    expect(await redis.client('ID')).not.toBe(id);
  });
});
