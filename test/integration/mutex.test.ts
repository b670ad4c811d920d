import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { keys as redisKeys, type Keys } from '../../core/keys.js';
import { OperationStore } from '../../core/operation-store.js';
import { MutexTimeoutError, Mutexes, type Lease } from '../../executor/isolation/mutex.js';

const LEASE_MS = 300;
const never = new AbortController().signal;
const wait = { timeoutSeconds: 30, signal: never, onWait: () => undefined };
const briefly = { ...wait, timeoutSeconds: 1 };

describe('the isolation mutex', () => {
  let redis: Redis;
  let keys: Keys;
  let store: OperationStore;
  let mutexes: Mutexes;
  let n = 0;
  /** A ticket with an operation record that has been claimed (unfinished). */
  const operation = async (): Promise<string> => {
    const ticket = `op-${(n += 1)}`;
    await store.create(ticket, { bodyHash: 'h', pool: 'default', payload: '{}', jobId: `${ticket}.1`, now: Date.now() });
    await store.claim(ticket, 'default', 'executor-a', `${ticket}-delivery`);
    return ticket;
  };
  const finish = (ticket: string) => store.recordResult(ticket, `${ticket}-delivery`, { state: 'succeeded', exitCode: 0 }, 60);
  const take = async (name: string, ticket: string, options = wait): Promise<Lease> => {
    const result = await mutexes.acquire(name, 'exclusive', ticket, options);
    if (!('lease' in result)) throw new Error(`not acquired: ${JSON.stringify(result)}`);
    return result.lease;
  };

  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
    keys = redisKeys(`t${randomBytes(5).toString('hex')}`);
    store = new OperationStore(redis, keys);
    mutexes = new Mutexes(redis, keys, { leaseMs: LEASE_MS, closing: never });
  });
  afterAll(async () => {
    const left = await redis.keys(`${keys.prefix}:*`);
    if (left.length > 0) await redis.del(...left);
    await redis.quit();
  });

  it('is never taken from an unfinished operation whose holder went silent, however long ago', async () => {
    const silent = await take('db-1', await operation());
    silent.handOver(); // renewals stop, as when the executor is paused or killed
    await new Promise((r) => setTimeout(r, LEASE_MS * 3));
    await expect(mutexes.acquire('db-1', 'exclusive', await operation(), briefly)).rejects.toBeInstanceOf(MutexTimeoutError);
  });

  it('is free once the silent holder operation has ended and its lease has run out', async () => {
    const ticket = await operation();
    (await take('db-2', ticket)).handOver();
    await finish(ticket);
    await new Promise((r) => setTimeout(r, LEASE_MS * 2));
    const next = await take('db-2', await operation());
    await next.release();
  });

  it('stays held while its holder renews, even if its operation was declared ended elsewhere', async () => {
    const ticket = await operation();
    const live = await take('db-3', ticket);
    await finish(ticket);
    await new Promise((r) => setTimeout(r, LEASE_MS * 3));
    await expect(mutexes.acquire('db-3', 'exclusive', await operation(), briefly)).rejects.toBeInstanceOf(MutexTimeoutError);
    expect(live.lost.aborted).toBe(false);
    await live.release();
  });

  it('lets the executor that adopts an operation take its hold again, and fences the previous one', async () => {
    const ticket = await operation();
    const before = await take('db-4', ticket);
    const adopted = await take('db-4', ticket);
    await expect.poll(() => before.lost.aborted, { timeout: 5000 }).toBe(true);
    expect(before.lost.reason).toBe('adopted');
    // A late release by the previous holder leaves the adopter's hold alone.
    await before.release();
    await expect(mutexes.acquire('db-4', 'exclusive', await operation(), briefly)).rejects.toBeInstanceOf(MutexTimeoutError);
    expect(adopted.lost.aborted).toBe(false);
    await adopted.release();
  });

  it('tells a holder that finds its hold taken by another operation that it lost it', async () => {
    const ticket = await operation();
    const holder = await take('db-5', ticket);
    await redis.del(keys.mutex('db-5').holder); // as if its lease had run out and another took it
    const other = await take('db-5', await operation());
    await expect.poll(() => holder.lost.aborted, { timeout: 5000 }).toBe(true);
    expect(holder.lost.reason).toBe('taken');
    await other.release();
  });

  it('answers a waiter with "shutdown" when the executor closes, and with "cancel" when its run is cancelled', async () => {
    const holder = await take('db-6', await operation());
    const cancel = new AbortController();
    const waiting = mutexes.acquire('db-6', 'exclusive', await operation(), { ...wait, signal: cancel.signal });
    cancel.abort('cancel');
    expect(await waiting).toEqual({ stopped: 'cancel' });
    const closing = new AbortController();
    const closable = new Mutexes(redis, keys, { leaseMs: LEASE_MS, closing: closing.signal });
    const shutdown = closable.acquire('db-6', 'exclusive', await operation(), wait);
    closing.abort();
    expect(await shutdown).toEqual({ stopped: 'shutdown' });
    await holder.release();
  });
});
