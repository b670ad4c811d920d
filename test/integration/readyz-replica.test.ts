import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';
import { startStack, type Stack } from './support/stack.js';

describe('/readyz', () => {
  const servers: OwnRedis[] = [];
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    for (const server of servers.splice(0)) await server.remove();
  });

  it('says not ready while the Redis it holds answers as a replica (a failover under way), and ready once it is a primary', async () => {
    const primary = await startOwnRedis();
    const replica = await startOwnRedis();
    servers.push(primary, replica);
    stack = await startStack({ redisUrl: replica.url, executors: 0 });
    expect((await stack.api('GET', '/readyz')).status).toBe(200);

    const admin = new Redis(replica.url);
    await admin.replicaof('127.0.0.1', new URL(primary.url).port);
    const notReady = await stack.api('GET', '/readyz');
    expect({ status: notReady.status, body: notReady.body }).toEqual({ status: 503, body: { status: 'redis is a replica; no primary answers' } });

    await admin.replicaof('NO', 'ONE');
    admin.disconnect();
    expect((await stack.api('GET', '/readyz')).status).toBe(200);
  });
});
