/**
 * Which executors are online: each one refreshes its entry every few seconds; an entry older than
 * three beats counts as gone. Read by `/api/v1/worker`. Each beat also lists the operations the
 * executor is running, so that an executor handed one of them again (after an outage or a pause
 * longer than the queue lock) can tell a live run from a lost one.
 */
import type { RedisClient } from './redis.js';
import type { Keys } from './keys.js';

export const HEARTBEAT_MS = 5000;
export const STALE_AFTER_MS = 3 * HEARTBEAT_MS;
const REFUSALS_SHOWN_MS = 3600_000;

export interface ExecutorInfo {
  id: string;
  pools: string[];
  runtime: string;
  concurrency: number;
  version: string;
  /** Problems that stop it from running operations, e.g. missing permissions. Empty when healthy. */
  problems: string[];
}

export class ExecutorRegistry {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  private infoKey(): string {
    return `${this.keys.executors}:info`;
  }

  private runsKey(): string {
    return `${this.keys.executors}:runs`;
  }

  /** `running`: tickets of the operations the executor runs right now. */
  async beat(info: ExecutorInfo, running: string[], now = Date.now()): Promise<void> {
    await this.redis
      .multi()
      .zadd(this.keys.executors, now, info.id)
      .hset(this.infoKey(), info.id, JSON.stringify(info))
      .hset(this.runsKey(), info.id, JSON.stringify({ at: now, running }))
      .exec();
  }

  /** When the executor last said it was running the operation; undefined if its last beat did not. */
  async lastRunning(id: string, ticket: string): Promise<number | undefined> {
    const entry = await this.redis.hget(this.runsKey(), id);
    if (!entry) return undefined;
    const { at, running } = JSON.parse(entry) as { at: number; running: string[] };
    return running.includes(ticket) ? at : undefined;
  }

  /** Records that an executor refused to start, and why; reported for an hour. */
  async refuse(id: string, reason: string, now = Date.now()): Promise<void> {
    await this.redis.multi().zadd(`${this.keys.executors}:refused`, now, id).hset(`${this.keys.executors}:refused:reasons`, id, reason).exec();
  }

  /** Executors that refused to start within the last hour, with their reasons. */
  async refusals(now = Date.now()): Promise<Array<{ id: string; reason: string }>> {
    const key = `${this.keys.executors}:refused`;
    const expired = await this.redis.zrangebyscore(key, '-inf', `(${now - REFUSALS_SHOWN_MS}`);
    if (expired.length > 0)
      await this.redis
        .multi()
        .zrem(key, ...expired)
        .hdel(`${key}:reasons`, ...expired)
        .exec();
    const ids = await this.redis.zrangebyscore(key, now - REFUSALS_SHOWN_MS, '+inf');
    if (ids.length === 0) return [];
    const reasons = await this.redis.hmget(`${key}:reasons`, ...ids);
    return ids.map((id, i) => ({ id, reason: reasons[i] ?? 'unknown' }));
  }

  async remove(id: string): Promise<void> {
    await this.redis.multi().zrem(this.keys.executors, id).hdel(this.infoKey(), id).hdel(this.runsKey(), id).exec();
  }

  async online(now = Date.now()): Promise<ExecutorInfo[]> {
    const stale = await this.redis.zrangebyscore(this.keys.executors, '-inf', `(${now - STALE_AFTER_MS}`);
    if (stale.length > 0)
      await this.redis
        .multi()
        .zrem(this.keys.executors, ...stale)
        .hdel(this.infoKey(), ...stale)
        .hdel(this.runsKey(), ...stale)
        .exec();
    const ids = await this.redis.zrangebyscore(this.keys.executors, now - STALE_AFTER_MS, '+inf');
    if (ids.length === 0) return [];
    const infos = await this.redis.hmget(this.infoKey(), ...ids);
    return infos.filter((i): i is string => i !== null).map((i) => JSON.parse(i) as ExecutorInfo);
  }
}
