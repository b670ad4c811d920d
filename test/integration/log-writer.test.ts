import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { keys } from '../../core/keys.js';
import { LogStore } from '../../core/log-store.js';
import { deploymentKeys } from '../support/deployment-keys.js';

describe("an operation's log writer", () => {
  let redis: Redis;
  let store: LogStore;
  const prefix = `kw-test-log-writer-${randomBytes(4).toString('hex')}`;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
    store = new LogStore(redis, keys(prefix));
  });
  afterAll(async () => {
    const stored = await deploymentKeys(redis, prefix);
    if (stored.length > 0) await redis.del(...stored);
    redis.disconnect();
  });

  it('opened again after a restart (an adopted operation) goes on from the bytes already stored, not from zero', async () => {
    const adopted = { ticket: 'adopted', pool: 'default' };
    const limits = { maxLines: 1000, maxBytes: 1000 };
    const first = await store.openWriter(adopted, limits);
    first.append('stdout', 'a'.repeat(600));
    first.note("the product's own lines do not count");
    await first.close();

    const second = await store.openWriter(adopted, limits);
    second.append('stdout', 'b'.repeat(300));
    second.append('stderr', 'c'.repeat(300));
    second.note('Succeeded');
    await second.close();

    expect((await store.read(adopted, 0, 100)).map((line) => [line.stream, line.text.slice(0, 60)])).toEqual([
      ['stdout', 'a'.repeat(60)],
      ['system', "the product's own lines do not count"],
      ['stdout', 'b'.repeat(60)],
      ['system', '1 log lines dropped: the limit is 1000 bytes per operation'],
      ['system', 'Succeeded'],
    ]);
  });

  it('opened again says where the lines of a followed source end: the last origin and how many lines share it', async () => {
    const limits = { maxLines: 1000, maxBytes: 100_000 };
    const followed = { ticket: 'followed', pool: 'default' };
    expect((await store.openWriter(followed, limits)).lastOrigin).toBeUndefined();
    const first = await store.openWriter(followed, limits);
    first.append('stdout', 'one', Date.now(), 't1');
    first.append('stdout', 'two', Date.now(), 't2');
    first.note('a line of the product between two of the same origin');
    first.append('stderr', 'three', Date.now(), 't2');
    await first.close();
    expect((await store.openWriter(followed, limits)).lastOrigin).toEqual({ origin: 't2', count: 2 });
  });
});
