/**
 * A connection only we can end (core/redis.ts): ioredis ends a client for good when its connector
 * is closed in the middle of a connect, which is what the Sentinel failover detector does when a
 * failover is announced while the client is already reconnecting. Reproduced here on purpose by
 * closing the connector at that step.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { connectRedis, type Redis } from '../../core/redis.js';

/** Drops the connection, and closes its connector as soon as the reconnect begins: ioredis then ends the client. */
async function endMidConnect(redis: Redis): Promise<void> {
  const ended = new Promise((resolve) => redis.once('end', resolve));
  redis.once('connecting', () => (redis as unknown as { connector: { disconnect(): void } }).connector.disconnect());
  redis.disconnect(true);
  await ended;
}

describe('a connection ended by ioredis rather than by us', () => {
  const opened: Redis[] = [];
  const open = (): Redis => {
    const redis = connectRedis(inject('redisUrl'), 'kw-test-reconnect') as Redis; // a redis:// URL: one Redis, never a Cluster
    redis.on('error', () => undefined);
    opened.push(redis);
    return redis;
  };
  afterEach(() => {
    for (const redis of opened.splice(0)) redis.disconnect();
  });

  it('connects again and answers', async () => {
    const redis = open();
    await redis.ping();
    await endMidConnect(redis);
    await expect.poll(() => redis.status, { timeout: 10_000 }).toBe('ready');
    expect(await redis.ping()).toBe('PONG');
  });

  it('so do its duplicates (BullMQ blocks on them)', async () => {
    const duplicate = open().duplicate();
    opened.push(duplicate);
    duplicate.on('error', () => undefined);
    await duplicate.ping();
    await endMidConnect(duplicate);
    await expect.poll(() => duplicate.status, { timeout: 10_000 }).toBe('ready');
    expect(await duplicate.ping()).toBe('PONG');
  });

  it('gets back the channels it listened to', async () => {
    const subscriber = open();
    const channel = `kw-test-reconnect-${process.pid}`;
    await subscriber.subscribe(channel);
    await endMidConnect(subscriber);
    await expect.poll(() => subscriber.status, { timeout: 10_000 }).toBe('ready');
    const heard = new Promise((resolve) => subscriber.once('message', (_channel, message) => resolve(message)));
    const publisher = open();
    await expect.poll(async () => publisher.publish(channel, 'after'), { timeout: 10_000 }).toBe(1);
    expect(await heard).toBe('after');
  });

  it('connects again after its owner closed it and connected it again (BullMQ does, to interrupt a blocking read)', async () => {
    const redis = open();
    await redis.ping();
    const ended = new Promise((resolve) => redis.once('end', resolve));
    redis.disconnect();
    await ended;
    await redis.connect();
    await endMidConnect(redis);
    await expect.poll(() => redis.status, { timeout: 10_000 }).toBe('ready');
    expect(await redis.ping()).toBe('PONG');
  });

  it('stays closed when we close it', async () => {
    const quitted = open();
    const disconnected = open();
    await Promise.all([quitted.ping(), disconnected.ping()]);
    await quitted.quit();
    disconnected.disconnect();
    // Ten times the first pause before a reconnect: long enough for one to have begun.
    await sleep(1000);
    expect([quitted.status, disconnected.status]).toEqual(['end', 'end']);
  });
});
