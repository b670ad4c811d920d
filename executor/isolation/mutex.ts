/**
 * A reader-writer lock in Redis, shared by every executor: `full` isolation takes it exclusively,
 * `none` takes it shared. Holders keep a lease that they renew while the script runs, so a crashed
 * executor's hold expires on its own. A waiting writer marks itself so new readers hold back and
 * writers are not starved.
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../../core/keys.js';

export type LockMode = 'exclusive' | 'shared';

export class MutexTimeoutError extends Error {
  constructor(readonly mutexName: string, readonly seconds: number) {
    super(`Timed out after ${seconds}s waiting for mutex "${mutexName}"`);
    this.name = 'MutexTimeoutError';
  }
}

export interface Lease {
  release(): Promise<void>;
}

const NOW_LUA = `local t = redis.call('TIME'); local now = t[1] * 1000 + math.floor(t[2] / 1000)`;

const SCRIPTS = {
  /** KEYS: writer, readers, waiting. ARGV: holder, lease ms. */
  kwLockExclusive: {
    numberOfKeys: 3,
    lua: `${NOW_LUA}
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local writer = redis.call('GET', KEYS[1])
if (not writer or writer == ARGV[1]) and redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
  return 1
end
local waiting = redis.call('GET', KEYS[3])
if not waiting or waiting == ARGV[1] then redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2]) end
return 0`,
  },
  /** KEYS: writer, readers, waiting. ARGV: holder, lease ms. */
  kwLockShared: {
    numberOfKeys: 3,
    lua: `${NOW_LUA}
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1`,
  },
  /** KEYS: writer, readers. ARGV: holder, lease ms. Returns 0 when the hold was lost. */
  kwLockRenew: {
    numberOfKeys: 2,
    lua: `${NOW_LUA}
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1`,
  },
  /** KEYS: writer, readers, waiting. ARGV: holder. */
  kwUnlock: {
    numberOfKeys: 3,
    lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
redis.call('ZREM', KEYS[2], ARGV[1])
return 1`,
  },
} as const;

type ScriptedRedis = Redis & Record<keyof typeof SCRIPTS, (...args: (string | number)[]) => Promise<number>>;

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export class Mutexes {
  private readonly redis: ScriptedRedis;

  constructor(redis: Redis, private readonly keys: Keys, private readonly leaseMs = 15_000) {
    for (const [name, script] of Object.entries(SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, script);
    }
    this.redis = redis as ScriptedRedis;
  }

  /**
   * Waits for the lock. `onWait` is called once if it is not free at first. Throws MutexTimeoutError
   * after `timeoutSeconds`; returns undefined when `signal` aborts first.
   */
  async acquire(
    name: string,
    mode: LockMode,
    holder: string,
    options: { timeoutSeconds: number; signal: AbortSignal; onWait: () => void },
  ): Promise<Lease | undefined> {
    const k = this.keys.mutex(name);
    const take = mode === 'exclusive' ? this.redis.kwLockExclusive.bind(this.redis) : this.redis.kwLockShared.bind(this.redis);
    const deadline = Date.now() + options.timeoutSeconds * 1000;
    let delay = 50;
    let waited = false;
    while (!options.signal.aborted) {
      if ((await take(k.writer, k.readers, k.waiting, holder, this.leaseMs)) === 1) return this.lease(k, holder);
      if (!waited) {
        waited = true;
        options.onWait();
      }
      if (Date.now() >= deadline) {
        await this.redis.kwUnlock(k.writer, k.readers, k.waiting, holder);
        throw new MutexTimeoutError(name, options.timeoutSeconds);
      }
      await sleep(Math.min(delay, Math.max(deadline - Date.now(), 1)), options.signal);
      delay = Math.min(delay * 2, 500);
    }
    await this.redis.kwUnlock(k.writer, k.readers, k.waiting, holder);
    return undefined;
  }

  private lease(k: { writer: string; readers: string; waiting: string }, holder: string): Lease {
    const renew = setInterval(() => {
      this.redis.kwLockRenew(k.writer, k.readers, holder, this.leaseMs).catch(() => {
        // A missed renewal is retried on the next beat; the lease outlives several beats.
      });
    }, this.leaseMs / 3);
    renew.unref();
    return {
      release: async () => {
        clearInterval(renew);
        await this.redis.kwUnlock(k.writer, k.readers, k.waiting, holder);
      },
    };
  }
}
