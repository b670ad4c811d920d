/**
 * The queue watchdog against a real Redis: the executor's queue workers are cut off from Redis the
 * way a failover leaves them (their connection in ioredis's terminal 'end', or BullMQ's blocking
 * fetch connection ended under a worker that still says it runs), and must be replaced by workers
 * that take work — without losing or repeating the run that was under way.
 */
import { readFile, rm } from 'node:fs/promises';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createExecutorMetrics, createProcessMetrics } from '../../core/metrics.js';
import { connectRedis, type Redis } from '../../core/redis.js';
import { startExecutor, type Executor } from '../../executor/executor.js';
import { bash, localRuntime, startStack, type Stack } from './support/stack.js';

/** Every connection an executor makes, by name, and the duplicates BullMQ makes of them. */
function watchedConnections(): { connect: typeof connectRedis; made: Array<{ name: string; redis: Redis; duplicates: Redis[] }> } {
  const made: Array<{ name: string; redis: Redis; duplicates: Redis[] }> = [];
  const connect: typeof connectRedis = (url, name, options) => {
    const redis = connectRedis(url, name, options) as Redis;
    const entry = { name, redis, duplicates: [] as Redis[] };
    const duplicate = redis.duplicate.bind(redis);
    redis.duplicate = (...args: Parameters<Redis['duplicate']>) => {
      const copy = duplicate(...args);
      entry.duplicates.push(copy);
      return copy;
    };
    made.push(entry);
    return redis;
  };
  return { connect, made };
}

describe('an executor whose queue workers stop taking work', () => {
  let stack: Stack;
  let executor: Executor | undefined;
  afterEach(async () => {
    await executor?.close();
    await stack.close();
  });

  async function start(): Promise<{ made: ReturnType<typeof watchedConnections>['made']; lines: string[]; restarts: () => Promise<number> }> {
    // A 3 s queue lock: the watchdog calls 7 s without a take a stall, and looks every 1.75 s.
    stack = await startStack({ executors: 0, env: { KUBE_WORKER_LOCK_DURATION_MS: '3000' } });
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const processMetrics = createProcessMetrics();
    const { connect, made } = watchedConnections();
    executor = await startExecutor(
      { ...stack.config, redisUrl: stack.redisUrl },
      localRuntime(stack.config.workDir),
      logger,
      createExecutorMetrics(processMetrics),
      { connect },
    );
    const restarts = async () => (await processMetrics.registry.getSingleMetric('kube_worker_queue_worker_restarts_total')!.get()).values[0]?.value ?? 0;
    return { made, lines, restarts };
  }

  const queueConnections = (made: ReturnType<typeof watchedConnections>['made']) => made.filter((m) => m.name === 'kube-worker-executor-queue');

  it('when their connection ends, replaces them on a new one; the run under way records its own result once, and new work is taken', async () => {
    const { made, lines, restarts } = await start();
    const marker = `/tmp/kw-watchdog-${Date.now()}`;
    const running = await stack.submit(bash(`echo ran >> ${marker}; sleep 4; echo finished; exit 3`));
    await stack.waitForState(running, ['running']);

    const ended = Date.now();
    const [first] = queueConnections(made);
    first!.redis.disconnect(); // ioredis's terminal state: nothing reconnects it
    await expect.poll(() => first!.redis.status, { timeout: 5000, interval: 20 }).toBe('end');
    await expect.poll(() => queueConnections(made).length, { timeout: 10_000, interval: 50 }).toBe(2);
    const replacedAfterMs = Date.now() - ended;

    const next = await stack.submit(bash('echo after'));
    expect((await stack.waitUntilDone(next, 15_000)).state).toBe('succeeded');
    const status = await stack.waitUntilDone(running, 30_000);
    expect({ state: status.state, exitCode: status.exitCode, finished: status.logs.some((l) => l.text === 'finished') }).toEqual({
      state: 'failed',
      exitCode: 3,
      finished: true,
    });
    expect((await readFile(marker, 'utf8')).trim().split('\n')).toEqual(['ran']);
    await rm(marker, { force: true });
    expect(await restarts()).toBe(1);
    expect(lines.some((l) => l.includes('connection has ended'))).toBe(true);
    console.info(`[watchdog] connection ended: new workers after ${replacedAfterMs} ms`);
  });

  it('when the blocking fetch under a running worker hangs for good, sees operations wait and replaces the workers', async () => {
    const { made, restarts } = await start();
    expect((await stack.waitUntilDone(await stack.submit(bash('echo warm')), 15_000)).state).toBe('succeeded');
    const [first] = queueConnections(made);
    expect(first!.duplicates.length).toBeGreaterThan(0);
    // A connection to a node cut off by a partition: commands go out, no reply comes, nothing closes.
    for (const blocking of first!.duplicates) blocking.sendCommand = () => new Promise(() => undefined);
    // The fetch already waiting still hears of the next job; the one after it waits for good.
    expect((await stack.waitUntilDone(await stack.submit(bash('echo one more')), 15_000)).state).toBe('succeeded');

    const submitted = Date.now();
    const ticket = await stack.submit(bash('echo after'));
    expect((await stack.waitUntilDone(ticket, 30_000)).state).toBe('succeeded');
    console.info(`[watchdog] blocking fetch hung: work taken again after ${Date.now() - submitted} ms`);
    expect(await restarts()).toBe(1);
  });
});
