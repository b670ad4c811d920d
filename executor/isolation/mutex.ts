/**
 * A reader-writer lock in Redis, shared by every executor: `full` isolation takes it exclusively,
 * `none` takes it shared. The holder is the operation (its ticket), not the executor, and a waiting
 * writer marks itself so new readers hold back and writers are not starved.
 *
 * The guarantee: two operations never hold one mutex exclusively at the same time, whatever their
 * executors do. A hold ends only when it is released, or when both
 *   - its lease ran out (the executor running it renews the lease while it runs), and
 *   - its operation has ended (its record is final or gone).
 * So a paused or killed executor's hold is never taken while its operation is unfinished: the
 * operation is delivered again and whoever takes it over (adopting the Job, or waiting for the
 * paused executor) keeps the hold, or releases it once the outcome is recorded. A live executor's
 * renewals keep the hold even if another executor declared its operation ended. The lease is never
 * shorter than the queue lock that protects the run (see the executor), so a run is never without
 * one or the other.
 *
 * Fencing: each hold has a token from a counter. Renewing or releasing names the token, so a hold
 * taken again by the executor that adopts the same operation is never renewed or released by the
 * one it replaced. A renewal that finds the hold gone or replaced aborts `lost`, and the run stops
 * (or, when adopted, is left to the adopter): the holder stops the run as soon as it can observe
 * the loss. A renewal that fails because Redis is away changes nothing: the hold outlives an outage.
 *
 * What it cannot give: an operation is declared lost once its executor has been silent for the
 * queue lock (and at least the registry's stale window) while Redis was reachable (previous-run.ts);
 * a script still going then — its executor paused longer than that, or killed while the script
 * outlives it — is unsupervised, and overlaps the next holder until its executor resumes and stops it.
 *
 * Redis keys (core/keys.ts), read and written only by the scripts below:
 *   holder   hash    ticket, token, until (ms): the exclusive hold
 *   readers  zset    "<ticket>|<token>" scored by lease expiry (ms): the shared holds
 *   waiting  string  ticket of a writer that waits (PX): new readers hold back
 *   fence    string  counter of tokens
 * The scripts also read `<prefix>:op:<ticket>` `state` of a holder whose lease ran out (ARGV opPrefix).
 */
import type { Redis } from 'ioredis';
import { backoffMs, delay } from '../../core/delay.js';
import type { Keys } from '../../core/keys.js';
import type { StopReason } from '../runtime.js';

export type LockMode = 'exclusive' | 'shared';

/** Why a hold was lost: another operation took it, or the same operation's new executor did. */
export type LossReason = 'taken' | 'adopted';

export class MutexTimeoutError extends Error {
  constructor(
    readonly mutexName: string,
    readonly seconds: number,
  ) {
    super(`Timed out after ${seconds}s waiting for mutex "${mutexName}"`);
    this.name = 'MutexTimeoutError';
  }
}

export interface Lease {
  readonly token: number;
  /** Aborted, with a LossReason, once a renewal finds that the hold is no longer this one. */
  readonly lost: AbortSignal;
  /** Ends this hold (never a newer hold of the same operation). */
  release(): Promise<void>;
  /** Stops renewing and keeps the hold, for the executor that takes the operation over. */
  handOver(): void;
}

export type Acquired = { lease: Lease } | { stopped: StopReason };

const PRELUDE = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local function ended(ticket)
  local state = redis.call('HGET', ARGV[3] .. ticket, 'state')
  return not state or state == 'succeeded' or state == 'failed' or state == 'cancelled'
end
-- The exclusive holder's ticket, or nil when free; a stale hold is removed.
local function currentHolder(key)
  local h = redis.call('HMGET', key, 'ticket', 'until')
  if not h[1] then return nil end
  if tonumber(h[2]) > now or not ended(h[1]) then return h[1] end
  redis.call('DEL', key)
  return nil
end
local function pruneReaders(key)
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', key, '-inf', now)) do
    if ended(string.match(member, '^(.*)|')) then redis.call('ZREM', key, member) end
  end
end`;

const SCRIPTS = {
  /** KEYS: holder, readers, waiting, fence. ARGV: ticket, lease ms, opPrefix. Returns the token, or 0. */
  kwMutexLockExclusive: {
    numberOfKeys: 4,
    lua: `${PRELUDE}
pruneReaders(KEYS[2])
local holder = currentHolder(KEYS[1])
if (not holder or holder == ARGV[1]) and redis.call('ZCARD', KEYS[2]) == 0 then
  local token = redis.call('INCR', KEYS[4])
  redis.call('HSET', KEYS[1], 'ticket', ARGV[1], 'token', token, 'until', now + tonumber(ARGV[2]))
  if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
  return token
end
local waiting = redis.call('GET', KEYS[3])
if not waiting or waiting == ARGV[1] then redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2]) end
return 0`,
  },
  /** KEYS: holder, readers, waiting, fence. ARGV: ticket, lease ms, opPrefix. Returns the token, or 0. */
  kwMutexLockShared: {
    numberOfKeys: 4,
    lua: `${PRELUDE}
pruneReaders(KEYS[2])
if currentHolder(KEYS[1]) then return 0 end
local waiting = redis.call('GET', KEYS[3])
if waiting and waiting ~= ARGV[1] then return 0 end
local token = redis.call('INCR', KEYS[4])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1] .. '|' .. token)
return token`,
  },
  /**
   * KEYS: holder, readers. ARGV: ticket, token, lease ms, mode.
   * Returns 1 renewed, -1 held again by the same operation under a newer token, 0 gone.
   */
  kwMutexRenew: {
    numberOfKeys: 2,
    lua: `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local untilMs = now + tonumber(ARGV[3])
if ARGV[4] == 'exclusive' then
  local h = redis.call('HMGET', KEYS[1], 'ticket', 'token')
  if h[1] == ARGV[1] and h[2] == ARGV[2] then
    redis.call('HSET', KEYS[1], 'until', untilMs)
    return 1
  end
  if h[1] == ARGV[1] then return -1 end
  return 0
end
local member = ARGV[1] .. '|' .. ARGV[2]
if redis.call('ZSCORE', KEYS[2], member) then
  redis.call('ZADD', KEYS[2], untilMs, member)
  return 1
end
for _, other in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if string.match(other, '^(.*)|') == ARGV[1] then return -1 end
end
return 0`,
  },
  /** KEYS: holder, readers, waiting. ARGV: ticket, token (0 for a waiter that never held it). */
  kwMutexUnlock: {
    numberOfKeys: 3,
    lua: `
local h = redis.call('HMGET', KEYS[1], 'ticket', 'token')
if h[1] == ARGV[1] and h[2] == ARGV[2] then redis.call('DEL', KEYS[1]) end
redis.call('ZREM', KEYS[2], ARGV[1] .. '|' .. ARGV[2])
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
return 1`,
  },
} as const;

type ScriptedRedis = Redis & Record<keyof typeof SCRIPTS, (...args: (string | number)[]) => Promise<number>>;

export interface MutexOptions {
  /** How long a hold lasts without renewal; renewed every third of it. Never shorter than the queue lock. */
  leaseMs: number;
  /** Aborted when the executor stops: waiters give up with `stopped: 'shutdown'`. */
  closing: AbortSignal;
}

export class Mutexes {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: Redis,
    private readonly keys: Keys,
    private readonly options: MutexOptions,
  ) {
    for (const [name, script] of Object.entries(SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, script);
    }
    this.redis = redis as ScriptedRedis;
  }

  /**
   * Waits for the lock as `holder` (the operation's ticket). `onWait` is called once if it is not
   * free at first. Throws MutexTimeoutError after `timeoutSeconds`; stops waiting when `signal`
   * aborts (with its StopReason) or the executor closes ('shutdown').
   */
  async acquire(name: string, mode: LockMode, holder: string, options: { timeoutSeconds: number; signal: AbortSignal; onWait: () => void }): Promise<Acquired> {
    const k = this.keys.mutex(name);
    const take = mode === 'exclusive' ? this.redis.kwMutexLockExclusive.bind(this.redis) : this.redis.kwMutexLockShared.bind(this.redis);
    const opPrefix = this.keys.operation('');
    const signals = [options.signal, this.options.closing];
    const deadline = Date.now() + options.timeoutSeconds * 1000;
    let waited = false;
    let attempt = 0;
    while (!signals.some((s) => s.aborted)) {
      const token = await take(k.holder, k.readers, k.waiting, k.fence, holder, this.options.leaseMs, opPrefix);
      if (token > 0) return { lease: this.lease(k, holder, token, mode) };
      if (!waited) {
        waited = true;
        options.onWait();
      }
      if (Date.now() >= deadline) {
        await this.redis.kwMutexUnlock(k.holder, k.readers, k.waiting, holder, 0);
        throw new MutexTimeoutError(name, options.timeoutSeconds);
      }
      await delay(Math.min(backoffMs(attempt, 50, 500), Math.max(deadline - Date.now(), 1)), ...signals);
      attempt += 1;
    }
    await this.redis.kwMutexUnlock(k.holder, k.readers, k.waiting, holder, 0);
    const shutdown = this.options.closing.aborted || options.signal.reason === ('shutdown' satisfies StopReason);
    return { stopped: shutdown ? 'shutdown' : 'cancel' };
  }

  private lease(k: ReturnType<Keys['mutex']>, holder: string, token: number, mode: LockMode): Lease {
    const lost = new AbortController();
    let renewing = false;
    const renew = async (): Promise<void> => {
      // One renewal at a time: while Redis is away they would pile up behind each other.
      if (renewing) return;
      renewing = true;
      try {
        const reply = await this.redis.kwMutexRenew(k.holder, k.readers, holder, token, this.options.leaseMs, mode);
        if (reply !== 1 && !lost.signal.aborted) {
          clearInterval(timer);
          lost.abort((reply === -1 ? 'adopted' : 'taken') satisfies LossReason);
        }
      } catch {
        // Redis is away: the hold outlives the outage (its operation is unfinished); retried next beat.
      } finally {
        renewing = false;
      }
    };
    const timer = setInterval(() => void renew(), this.options.leaseMs / 3);
    timer.unref();
    return {
      token,
      lost: lost.signal,
      release: async () => {
        clearInterval(timer);
        await this.redis.kwMutexUnlock(k.holder, k.readers, k.waiting, holder, token);
      },
      handOver: () => clearInterval(timer),
    };
  }
}
