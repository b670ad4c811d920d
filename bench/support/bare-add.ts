/**
 * Bare `Queue.add` with no HTTP at all: as many adds in flight as the HTTP load has connections,
 * each timed like a request. The ceiling that no HTTP intake on this Redis can pass.
 */
import { performance } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import { JOB_NAME, queueName } from '../../core/queue.js';
import { connectRedis } from '../../core/redis.js';
import { toFigures, type Figures } from './figures.js';
import { OPERATION, POOL } from './operation.js';

export interface BareAdds {
  run(concurrency: number, seconds: number): Promise<Figures>;
  close(): Promise<void>;
}

export function startBareAdds(redisUrl: string, prefix: string): BareAdds {
  const redis = connectRedis(redisUrl, 'bench-bare-add');
  const queue = new Queue(queueName(POOL), { connection: redis, prefix });
  return {
    async run(concurrency, seconds) {
      const latencies: number[] = [];
      let errors = 0;
      const start = performance.now();
      const end = start + seconds * 1000;
      const loop = async (): Promise<void> => {
        while (performance.now() < end) {
          const sent = performance.now();
          try {
            await queue.add(JOB_NAME, OPERATION);
            latencies.push(performance.now() - sent);
          } catch {
            errors += 1;
          }
        }
      };
      await Promise.all(Array.from({ length: concurrency }, loop));
      return toFigures(latencies, (performance.now() - start) / 1000, errors);
    },
    async close() {
      await queue.close();
      await redis.quit();
    },
  };
}
