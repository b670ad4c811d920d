/**
 * A server process outlives a Redis failover. While a primary changes, ioredis and BullMQ can leave
 * a connection's failure unhandled (a reconnect rejected with nobody waiting for it). Node would end
 * the process for it, and with it every operation the process runs, which would then end as
 * ExecutorLost although only Redis failed. So such a rejection is logged and the process goes on:
 * its connections connect again by themselves (core/redis.ts). Any other unhandled rejection is a
 * defect, and ends the process as Node would.
 */
import type { Logger } from '../core/logger.js';
import { isRedisUnavailable } from '../core/redis.js';

export function outliveRedisFaults(logger: Logger): void {
  process.on('unhandledRejection', (reason) => {
    if (reason instanceof Error && isRedisUnavailable(reason)) {
      logger.warn({ err: reason }, 'a Redis connection failed with nothing waiting for its answer; going on');
      return;
    }
    throw reason;
  });
}
