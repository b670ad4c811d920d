/**
 * A reader-writer lock in Redis, shared by every executor: `full` isolation takes it exclusively,
 * `none` takes it shared. The holder is the operation (its pool and ticket), not the executor, and a waiting
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
 * Breaking a hold: the mutex's keys live in a slot of their own (a mutex is named freely and
 * shared by pools), and an operation's record in its pool's slot, so no script reads both. A hold
 * whose lease ran out stays held; a waiter asks which holds have run out (mutexExpired), reads
 * their operations' records itself, and ends those whose operation has ended (mutexBreak), each only
 * if it is still that hold with its lease still run out — a renewal meanwhile keeps it. An ended
 * operation never runs again, so what was read stays true.
 *
 * Redis keys (core/keys.ts), read and written only by the scripts in ./lua/ (each states its
 * KEYS and ARGV); a holder is named "<pool>|<ticket>":
 *   holder   hash    holder, token, until (ms): the exclusive hold
 *   readers  zset    "<holder>|<token>" scored by lease expiry (ms): the shared holds
 *   waiting  string  holder of a writer that waits (PX): new readers hold back
 *   fence    string  counter of tokens
 */
import { backoffMs, delay } from '../../core/delay.js';
import type { Keys, MutexKeys, OperationRef } from '../../core/keys.js';
import type { Logger } from '../../core/logger.js';
import { withLuaCommands } from '../../core/lua-commands.js';
import { untilRedisAnswers } from '../../core/redis-retry.js';
import type { RedisClient } from '../../core/redis.js';
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

/** The replies of the commands in ./lua/. */
type Commands = {
  kwMutexLockExclusive: number;
  kwMutexLockShared: number;
  kwMutexRenew: number;
  kwMutexUnlock: number;
  kwMutexExpired: string[];
  kwMutexBreak: number;
};

const LUA = new URL('./lua/', import.meta.url);

/** A hold's holder: the operation, by pool and ticket (neither holds '|'). */
const holderOf = (op: OperationRef): string => `${op.pool}|${op.ticket}`;
const operationOf = (holder: string): OperationRef => {
  const bar = holder.indexOf('|');
  return { pool: holder.slice(0, bar), ticket: holder.slice(bar + 1) };
};

export interface MutexOptions {
  /** How long a hold lasts without renewal; renewed every third of it. Never shorter than the queue lock. */
  leaseMs: number;
  /** Aborted when the executor stops: waiters give up with `stopped: 'shutdown'`. */
  closing: AbortSignal;
  /** Whether an operation has ended: its record is final, or gone. */
  ended(op: OperationRef): Promise<boolean>;
  /** Where a wait says that Redis is away. */
  log: Logger;
}

export class Mutexes {
  private readonly redis;

  constructor(
    redis: RedisClient,
    private readonly keys: Pick<Keys, 'mutex'>,
    private readonly options: MutexOptions,
  ) {
    this.redis = withLuaCommands<Commands>(redis, LUA);
  }

  /**
   * Waits for the lock as `op` (the operation). `onWait` is called once if it is not
   * free at first. Throws MutexTimeoutError after `timeoutSeconds`; stops waiting when `signal`
   * aborts (with its StopReason) or the executor closes ('shutdown').
   */
  async acquire(
    name: string,
    mode: LockMode,
    op: OperationRef,
    options: { timeoutSeconds: number; signal: AbortSignal; onWait: () => void },
  ): Promise<Acquired> {
    const k = this.keys.mutex(name);
    const holder = holderOf(op);
    const take = mode === 'exclusive' ? this.redis.kwMutexLockExclusive.bind(this.redis) : this.redis.kwMutexLockShared.bind(this.redis);
    const signals = [options.signal, this.options.closing];
    const deadline = Date.now() + options.timeoutSeconds * 1000;
    let waited = false;
    let attempt = 0;
    const unlock = (): Promise<number> => this.ask(() => this.redis.kwMutexUnlock(k.holder, k.readers, k.waiting, holder, 0), 'end a wait for a mutex');
    while (!signals.some((s) => s.aborted)) {
      const token = await this.ask(() => take(k.holder, k.readers, k.waiting, k.fence, holder, this.options.leaseMs), 'take a mutex');
      if (token > 0) return { lease: this.lease(k, holder, token, mode) };
      // Held: holds left by operations that have ended are ended, and then it is tried again at once.
      if (await this.ask(() => this.breakEnded(k), 'end the holds of ended operations')) continue;
      if (!waited) {
        waited = true;
        options.onWait();
      }
      if (Date.now() >= deadline) {
        await unlock();
        throw new MutexTimeoutError(name, options.timeoutSeconds);
      }
      await delay(Math.min(backoffMs(attempt, 50, 500), Math.max(deadline - Date.now(), 1)), ...signals);
      attempt += 1;
    }
    await unlock();
    const shutdown = this.options.closing.aborted || options.signal.reason === ('shutdown' satisfies StopReason);
    return { stopped: shutdown ? 'shutdown' : 'cancel' };
  }

  /**
   * A step of a wait, asked again while Redis is away: an outage lengthens a wait (within its
   * timeout), never fails its operation. Each step is safe to send twice (./lua/ says why).
   */
  private ask<T>(step: () => Promise<T>, doing: string): Promise<T> {
    return untilRedisAnswers(step, { log: this.options.log, doing });
  }

  /** Ends the holds whose lease ran out and whose operation has ended; whether it ended any. */
  private async breakEnded(k: MutexKeys): Promise<boolean> {
    const expired = await this.redis.kwMutexExpired(k.holder, k.readers);
    const ended: string[] = [];
    for (let i = 0; i + 1 < expired.length; i += 2) {
      if (await this.options.ended(operationOf(expired[i]!))) ended.push(expired[i]!, expired[i + 1]!);
    }
    return ended.length > 0 && (await this.redis.kwMutexBreak(k.holder, k.readers, ...ended)) > 0;
  }

  private lease(k: MutexKeys, holder: string, token: number, mode: LockMode): Lease {
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
