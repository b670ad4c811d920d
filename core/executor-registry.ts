/**
 * Which executors are online: each one refreshes its entry every few seconds; an entry older than
 * three beats counts as gone. Read by `/api/v1/worker`.
 */
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

export const HEARTBEAT_MS = 5000;
const STALE_AFTER_MS = 3 * HEARTBEAT_MS;

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
  constructor(private readonly redis: Redis, private readonly keys: Keys) {}

  private infoKey(): string {
    return `${this.keys.executors}:info`;
  }

  async beat(info: ExecutorInfo, now = Date.now()): Promise<void> {
    await this.redis
      .multi()
      .zadd(this.keys.executors, now, info.id)
      .hset(this.infoKey(), info.id, JSON.stringify(info))
      .exec();
  }

  async remove(id: string): Promise<void> {
    await this.redis.multi().zrem(this.keys.executors, id).hdel(this.infoKey(), id).exec();
  }

  async online(now = Date.now()): Promise<ExecutorInfo[]> {
    const stale = await this.redis.zrangebyscore(this.keys.executors, '-inf', `(${now - STALE_AFTER_MS}`);
    if (stale.length > 0) await this.redis.multi().zrem(this.keys.executors, ...stale).hdel(this.infoKey(), ...stale).exec();
    const ids = await this.redis.zrangebyscore(this.keys.executors, now - STALE_AFTER_MS, '+inf');
    if (ids.length === 0) return [];
    const infos = await this.redis.hmget(this.infoKey(), ...ids);
    return infos.filter((i): i is string => i !== null).map((i) => JSON.parse(i) as ExecutorInfo);
  }
}
