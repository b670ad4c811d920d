/** Redis connections. Nothing connects at import time; callers own and close what they create. */
import { Redis } from 'ioredis';

export type { Redis };

/**
 * A connection for commands. `maxRetriesPerRequest: null` is what BullMQ requires of connections it
 * blocks on; commands wait through a Redis restart instead of failing the operation.
 * `autoPipelining` sends the commands issued in one tick in one write — for a busy server, far
 * fewer system calls per request.
 */
export function connectRedis(url: string, name: string, options: { autoPipelining?: boolean } = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, connectionName: name, lazyConnect: false, enableAutoPipelining: options.autoPipelining ?? false });
}
