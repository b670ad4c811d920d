import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { keys } from '../../core/keys.js';
import { OperationStore } from '../../core/operation-store.js';
import { bash, startStack, type Stack } from './support/stack.js';

const ms = (at: string | undefined): number => Date.parse(at ?? '');

describe("an operation's timeline", () => {
  let stack: Stack;
  const closers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await stack.close();
  });

  it('on the local runtime, has every moment that applies there, each once, in the order they happen', async () => {
    stack = await startStack();
    const ticket = await stack.submit(bash('echo first; echo second >&2'));
    const { timeline } = await stack.waitUntilDone(ticket);
    expect(Object.keys(timeline)).toEqual(['accepted', 'queued', 'picked', 'started', 'firstLine', 'scriptEnded', 'recorded']);
    // What causes what, on one clock: never a moment before the one that made it happen.
    const order = (['accepted', 'queued', 'picked', 'started', 'scriptEnded', 'recorded'] as const).map((m) => ms(timeline[m]));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(ms(timeline.firstLine)).toBeGreaterThanOrEqual(ms(timeline.started));
    expect(ms(timeline.firstLine)).toBeLessThanOrEqual(ms(timeline.recorded));
    // A moment stays as first seen: the status read again gives the same.
    const { body } = await stack.api('GET', `/api/v1/operations/${ticket}`);
    expect(body.timeline).toEqual(timeline);
  });

  it('of a script that writes nothing has no first line', async () => {
    stack = await startStack();
    const ticket = await stack.submit(bash('exit 3'));
    const { state, timeline } = await stack.waitUntilDone(ticket);
    expect(state).toBe('failed');
    expect(Object.keys(timeline)).toEqual(['accepted', 'queued', 'picked', 'started', 'scriptEnded', 'recorded']);
  });

  it('of an operation cancelled while queued has its acceptance and its end only', async () => {
    stack = await startStack({ executors: 0 });
    const ticket = await stack.submit(bash('echo never'));
    expect(Object.keys((await stack.api('GET', `/api/v1/operations/${ticket}`)).body.timeline)).toEqual(['accepted', 'queued']);
    await stack.api('POST', `/api/v1/operations/${ticket}/cancel`);
    const { timeline } = await stack.waitUntilDone(ticket);
    expect(Object.keys(timeline)).toEqual(['accepted', 'queued', 'recorded']);
  });

  it('keeps the first time a moment was seen, and takes none once the operation ended or its record is gone', async () => {
    stack = await startStack({ executors: 0 });
    const redis = new Redis(stack.redisUrl);
    closers.push(() => redis.quit());
    const names = keys(stack.config.prefix);
    const store = new OperationStore(redis, names);
    const op = { ticket: await stack.submit(bash('echo hi')), pool: 'default' };

    expect(await store.moment(op, { name: 'podScheduled' }, 1_000)).toBe(true);
    expect(await store.moment(op, { name: 'podScheduled' }, 2_000)).toBe(false);
    expect(await store.moment(op, { name: 'imagePulled', pullSeconds: 2.5 }, 3_000)).toBe(true);
    expect((await store.get(op))?.timeline).toMatchObject({ podScheduled: 1_000, imagePulled: 3_000, imagePullSeconds: 2.5 });

    await store.cancel(op, 60);
    expect(await store.moment(op, { name: 'firstLine' })).toBe(false);
    expect((await store.get(op))?.timeline.firstLine).toBeUndefined();

    expect(await store.moment({ ticket: 'no-such-ticket', pool: 'default' }, { name: 'firstLine' })).toBe(false);
    expect(await redis.exists(names.pool('default').operation('no-such-ticket'))).toBe(0);
  });
});
