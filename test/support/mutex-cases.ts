/**
 * The isolation mutex's guarantee (executor/isolation/mutex.ts), on the Redis a test gives: one
 * Redis here (test/integration/mutex.test.ts), a Redis Cluster in test/faults/redis-cluster-mutex.test.ts.
 * Its holders are operations of two pools, whose records live in other slots than the mutex's.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import { keys as redisKeys, type Keys, type OperationRef } from '../../core/keys.js';
import { OperationStore } from '../../core/operation-store.js';
import type { RedisClient } from '../../core/redis.js';
import { MutexTimeoutError, Mutexes, type Lease, type LockMode } from '../../executor/isolation/mutex.js';

const LEASE_MS = 300;
const log = createLogger('silent', 'test');
const never = new AbortController().signal;
const wait = { timeoutSeconds: 30, signal: never, onWait: () => undefined };
const briefly = { ...wait, timeoutSeconds: 1 };
const POOLS = ['default', 'other'];

/** `connect`: a client of the Redis under test. `clear`: removes the prefix's keys from it. */
export function describeMutex(where: string, connect: () => Promise<RedisClient>, clear: (redis: RedisClient, prefix: string) => Promise<void>): void {
  describe(`the isolation mutex, ${where}`, () => {
    let redis: RedisClient;
    let keys: Keys;
    let store: OperationStore;
    let mutexes: Mutexes;
    let n = 0;
    /** An operation whose record has been claimed (unfinished), of one pool or the other in turn. */
    const operation = async (): Promise<OperationRef> => {
      n += 1;
      const op = { ticket: `op-${n}`, pool: POOLS[n % POOLS.length]! };
      await store.create(op, { bodyHash: 'h', payload: '{}', jobId: `${op.ticket}.1`, now: Date.now() });
      await store.claim(op, 'executor-a', `${op.ticket}-delivery`);
      return op;
    };
    const finish = (op: OperationRef) => store.recordResult(op, `${op.ticket}-delivery`, { state: 'succeeded', exitCode: 0 }, 60);
    const take = async (name: string, op: OperationRef, options = wait, mode: LockMode = 'exclusive'): Promise<Lease> => {
      const result = await mutexes.acquire(name, mode, op, options);
      if (!('lease' in result)) throw new Error(`not acquired: ${JSON.stringify(result)}`);
      return result.lease;
    };

    const ended = async (op: OperationRef): Promise<boolean> => {
      const state = await store.state(op);
      return state === undefined || ['succeeded', 'failed', 'cancelled'].includes(state);
    };

    beforeAll(async () => {
      redis = await connect();
      keys = redisKeys(`t${randomBytes(5).toString('hex')}`);
      store = new OperationStore(redis, keys);
      mutexes = new Mutexes(redis, keys, { leaseMs: LEASE_MS, closing: never, ended, log });
    });
    afterAll(async () => {
      await clear(redis, keys.prefix);
      redis.disconnect();
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

    // Taking it again is also what a take sent twice does (its reply lost in a Redis restart).
    it.each<LockMode>(['exclusive', 'shared'])(
      'lets the executor that adopts an operation take its %s hold again, and fences the previous one',
      async (mode) => {
        const name = `db-4-${mode}`;
        const ticket = await operation();
        const before = await take(name, ticket, wait, mode);
        const adopted = await take(name, ticket, wait, mode);
        await expect.poll(() => before.lost.aborted, { timeout: 5000 }).toBe(true);
        expect(before.lost.reason).toBe('adopted');
        // A late release by the previous holder leaves the adopter's hold alone.
        await before.release();
        await expect(mutexes.acquire(name, 'exclusive', await operation(), briefly)).rejects.toBeInstanceOf(MutexTimeoutError);
        expect(adopted.lost.aborted).toBe(false);
        await adopted.release();
        // Once the adopter releases, nothing of the operation holds it.
        await (await take(name, await operation(), briefly)).release();
      },
    );

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
      const closable = new Mutexes(redis, keys, { leaseMs: LEASE_MS, closing: closing.signal, ended, log });
      const shutdown = closable.acquire('db-6', 'exclusive', await operation(), wait);
      closing.abort();
      expect(await shutdown).toEqual({ stopped: 'shutdown' });
      await holder.release();
    });
  });
}
