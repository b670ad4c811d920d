import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { keys } from '../../core/keys.js';
import { describe, expect, it } from 'vitest';
import { bash, useStack } from './support/stack.js';

/**
 * Tickets that are also the names of BullMQ's own keys in a queue, or that BullMQ refuses as a job
 * id (all digits). Each must be an ordinary ticket.
 */
const HOSTILE_TICKETS = [
  'wait',
  'events',
  'marker',
  'active',
  'delayed',
  'prioritized',
  'id',
  'meta',
  'paused',
  'stalled-check',
  'stalled',
  'completed',
  'failed',
  'limiter',
  'repeat',
  'pc',
  'de',
  'metrics',
  'waiting-children',
  'lock',
  '12345',
  '0',
  '007',
];

describe('tickets that look like BullMQ keys or ids', () => {
  const stack = useStack({ env: { KUBE_WORKER_CONCURRENCY: '8' } });

  it('are each accepted and run, and the pool keeps working afterwards', async () => {
    for (const ticket of HOSTILE_TICKETS) {
      const response = await stack.api('POST', '/api/v1/operations', { pool: 'default', ticket, ...bash(`echo "ran ${ticket}"`) });
      expect(response.status, `ticket ${ticket}: ${JSON.stringify(response.body)}`).toBe(202);
    }
    for (const ticket of HOSTILE_TICKETS) {
      const status = await stack.waitUntilDone(ticket);
      expect(status.state, ticket).toBe('succeeded');
      expect(status.logs.map((l) => l.text)).toContain(`ran ${ticket}`);
    }
    const after = await stack.waitUntilDone(await stack.submit(bash('echo still fine')));
    expect(after.state).toBe('succeeded');
    const depths = await stack.api('GET', '/api/v1/queues');
    expect(depths.status).toBe(200);
    expect(depths.body.pools[0]).toMatchObject({ pool: 'default', waiting: 0, active: 0 });
  });
});

describe('a second submission of a ticket with another body', () => {
  const stack = useStack({ executors: 0, env: { KUBE_WORKER_POOLS: 'default,other' } });

  it('is refused with 409 and enqueues nothing', async () => {
    const first = await stack.api('POST', '/api/v1/operations', { pool: 'default', ticket: 'twice', ...bash('echo first') });
    expect(first.status).toBe(202);
    const second = await stack.api('POST', '/api/v1/operations', { pool: 'other', ticket: 'twice', ...bash('echo second') });
    expect(second.status).toBe(409);
    expect(second.body.code).toBe('KW_ERR_TICKET_CONFLICT');
    const { body } = await stack.api('GET', '/api/v1/queues');
    expect(body.pools).toEqual([expect.objectContaining({ pool: 'default', waiting: 1 }), expect.objectContaining({ pool: 'other', waiting: 0 })]);
  });
});

describe('a ticket completed with DELETE', () => {
  const stack = useStack();

  it('can be used again at once, and leaves no job behind in the queue', async () => {
    for (let round = 0; round < 10; round += 1) {
      const ticket = await stack.submit(bash(`echo round ${round}`, { ticket: 'reused' }));
      // DELETE the moment the result is stored, before the executor has completed its job.
      while ((await stack.api('DELETE', `/api/v1/operations/${ticket}`)).status !== 204);
    }
    const last = await stack.submit(bash('echo last', { ticket: 'reused' }));
    expect((await stack.waitUntilDone(last, 10_000)).logs.map((l) => l.text)).toContain('last');
    expect((await stack.api('DELETE', '/api/v1/operations/reused')).status).toBe(204);
    // The executor completes its job a moment after the result is stored; DELETE removes it then.
    const redis = new Redis(stack.redisUrl);
    const queue = new Queue('default', { connection: redis, prefix: stack.config.prefix });
    try {
      await expect.poll(async () => (await queue.getJobs(['completed', 'failed', 'waiting', 'active'])).length, { timeout: 10_000 }).toBe(0);
    } finally {
      await queue.close();
      await redis.quit();
    }
  });
});

describe('a submission whose job cannot be added', () => {
  const stack = useStack();

  it('leaves no record behind, and the same ticket can be submitted again once the queue is healthy', async () => {
    const redis = new Redis(stack.redisUrl);
    const pool = keys(stack.config.prefix).pool('default');
    const events = `${pool.queuePrefix}:default:events`;
    try {
      // A queue key of the wrong type makes BullMQ's add fail inside Redis.
      await redis.set(events, 'not a stream');
      const refused = await stack.api('POST', '/api/v1/operations', { pool: 'default', ticket: 'unlucky', ...bash('echo hi') });
      expect(refused.status).toBeGreaterThanOrEqual(500);
      await expect.poll(() => redis.exists(pool.operation('unlucky')), { timeout: 10_000 }).toBe(0);
      expect(await redis.exists(pool.payload('unlucky'))).toBe(0);
      await redis.del(events);
    } finally {
      await redis.quit();
    }
    const again = await stack.api('POST', '/api/v1/operations', { pool: 'default', ticket: 'unlucky', ...bash('echo hi') });
    expect(again.status).toBe(202);
    expect((await stack.waitUntilDone('unlucky')).state).toBe('succeeded');
  });
});
