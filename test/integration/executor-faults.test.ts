import { existsSync } from 'node:fs';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { keys } from '../../core/keys.js';
import { createExecutorMetrics, createProcessMetrics } from '../../core/metrics.js';
import { OperationStore } from '../../core/operation-store.js';
import { JOB_NAME, jobOptions, queueName, type OperationJobData } from '../../core/queue.js';
import { startExecutor } from '../../executor/executor.js';
import { bash, localRuntime, startStack, type Stack } from './support/stack.js';

describe('an executor given a job it must not run as delivered', () => {
  let stack: Stack;
  afterEach(() => stack.close());

  it('does not run a job whose record belongs to another pool; the record’s own pool runs it', async () => {
    stack = await startStack({ executors: 0, env: { KUBE_WORKER_POOLS: 'default,other' } });
    const marker = `/tmp/kw-foreign-${Date.now()}`;
    const ticket = await stack.submit(bash(`echo ran >> ${marker}`));
    // The same ticket delivered on another pool's queue, as a conflicting submission once did.
    const other = new Queue<OperationJobData>(queueName('other'), {
      connection: { url: stack.redisUrl },
      prefix: keys(stack.config.prefix).pool('other').queuePrefix,
    });
    try {
      await other.add(JOB_NAME, { ticket, pool: 'other', syntax: 'bash' }, jobOptions(ticket, 60));
      const job = (await other.getJobs(['waiting']))[0]!;
      await stack.addExecutor({ pools: ['other'] });
      await expect.poll(() => other.getJobState(job.id!), { timeout: 15_000 }).toMatch(/completed|failed/);
    } finally {
      await other.close();
    }
    expect(existsSync(marker)).toBe(false);
    expect((await stack.api('GET', `/api/v1/operations/${ticket}`)).body.state).toBe('queued');

    await stack.addExecutor({ pools: ['default'] });
    const status = await stack.waitUntilDone(ticket);
    expect(status.state).toBe('succeeded');
  });
});

describe('a cancel whose message is lost', () => {
  let stack: Stack;
  afterEach(() => stack.close());

  it('still stops the running operation: the executor notices the record’s cancel flag', async () => {
    stack = await startStack();
    const ticket = await stack.submit(bash('echo started; sleep 60', { timeoutSeconds: 120 }));
    await stack.waitFor(ticket, 'showing "started"', (status) => status.logs.some((l) => l.text === 'started'));
    // Flag the record as the dispatcher does, but publish nothing: the message was lost.
    const redis = new Redis(stack.redisUrl);
    try {
      const outcome = await new OperationStore(redis, keys(stack.config.prefix)).cancel({ ticket, pool: 'default' }, 60);
      expect(outcome.kind).toBe('signalled');
    } finally {
      await redis.quit();
    }
    const status = await stack.waitUntilDone(ticket, 20_000);
    expect(status.state).toBe('cancelled');
    expect(status.exitCode).toBe(-43);
  });
});

describe('an executor facing the same error over and over', () => {
  let stack: Stack;
  afterEach(() => stack.close());

  it('backs off and says it once with a count, instead of flooding its log', async () => {
    stack = await startStack({ executors: 0 });
    // A key of the queue holding the wrong type: every fetch of the pool fails with WRONGTYPE.
    const redis = new Redis(stack.redisUrl);
    await redis.hset(`${keys(stack.config.prefix).pool('default').queuePrefix}:${queueName('default')}:prioritized`, 'poison', '1');
    await redis.quit();

    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const metrics = createExecutorMetrics(createProcessMetrics());
    const executor = await startExecutor({ ...stack.config, redisUrl: stack.redisUrl }, localRuntime(stack.config.workDir), logger, metrics);
    try {
      await expect.poll(() => lines.filter((l) => l.includes('WRONGTYPE')).length, { timeout: 10_000 }).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 3000));
      const wrongType = lines.filter((l) => l.includes('WRONGTYPE'));
      expect(wrongType.length).toBeLessThanOrEqual(3);
    } finally {
      await executor.close();
    }
    const summary = lines.filter((l) => l.includes('WRONGTYPE')).map((l) => JSON.parse(l) as { repeated?: number });
    expect(summary.some((l) => (l.repeated ?? 0) > 0)).toBe(true);
  });
});
