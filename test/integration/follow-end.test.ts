import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { keys } from '../../core/keys.js';
import { OperationStore } from '../../core/operation-store.js';
import { FinishedOperations } from '../../dispatcher/finished-operations.js';
import { bash, startStack, TOKEN, type Stack } from './support/stack.js';

describe('the end of an operation, heard by dispatchers', () => {
  let stack: Stack;
  const closers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await stack.close();
  });

  it('wakes the waiters of that ticket, and only those, when its result is recorded', async () => {
    stack = await startStack({ executors: 0 });
    const names = keys(stack.config.prefix);
    const redis = new Redis(stack.redisUrl);
    closers.push(() => redis.quit());
    const store = new OperationStore(redis, names);
    const heard = { ticket: 'heard', pool: 'default' };
    const channel = names.pool('default').finishedChannel;
    await store.create(heard, { bodyHash: 'h', payload: '{}', jobId: 'heard.1', now: Date.now() });
    const finished = new FinishedOperations(
      () => new Redis(stack.redisUrl),
      [channel],
      (error) => {
        throw error;
      },
    );
    closers.push(() => finished.close());
    const other = finished.wait({ ticket: 'someone-else', pool: 'default' });
    const wait = finished.wait(heard);
    await expect.poll(async () => ((await redis.pubsub('NUMSUB', channel)) as [string, number])[1]).toBe(1);

    expect(await store.recordResult(heard, '', { state: 'succeeded', exitCode: 0 }, 60)).toBe('recorded');
    await wait.ended;
    const still = await Promise.race([other.ended.then(() => 'ended'), new Promise((r) => setTimeout(() => r('waiting'), 200))]);
    expect(still).toBe('waiting');
    other.cancel();
  });

  it('still ends a log follow whose finished message never comes', async () => {
    stack = await startStack({ executors: 0 });
    const ticket = await stack.submit(bash('echo never run'));
    const follow = fetch(`${stack.url}/api/v1/operations/${ticket}/logs?follow=true`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 300));
    // Recorded as the executor does, but the message goes to a channel no dispatcher hears.
    const redis = new Redis(stack.redisUrl);
    closers.push(() => redis.quit());
    const names = keys(stack.config.prefix);
    const deaf = new OperationStore(redis, { ...names, pool: (pool) => ({ ...names.pool(pool), finishedChannel: `${stack.config.prefix}:nobody` }) });
    expect(
      await deaf.recordResult(
        { ticket, pool: 'default' },
        '',
        { state: 'failed', exitCode: 3, failure: { reason: 'ScriptFailed', message: 'The script exited with code 3' } },
        60,
      ),
    ).toBe('recorded');

    const text = await follow;
    const end = /event: end\ndata: (.*)\n/.exec(text);
    expect(end).not.toBeNull();
    expect(JSON.parse(end![1]!)).toMatchObject({ ticket, state: 'failed', exitCode: 3 });
  });
});
