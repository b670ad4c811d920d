import { describe, expect, it } from 'vitest';
import { readConfig, type ConfigError } from '../../core/config.js';
import { clusterOptions, parseRedisUrl, redactedRedisUrl, sentinelOptions } from '../../core/redis-url.js';

describe('REDIS_URL', () => {
  it.each([['redis://127.0.0.1:6379/2'], ['rediss://user:pw@redis.example:6380'], ['/tmp/kw/redis.sock?password=abc']])(
    'leaves %s to ioredis as one endpoint',
    (url) => {
      expect(parseRedisUrl(url)).toEqual({ kind: 'url', url });
    },
  );

  it.each([
    [
      'redis+sentinel://s1:26379,s2:26380,s3/mymaster',
      {
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26380 },
          { host: 's3', port: 26379 },
        ],
        name: 'mymaster',
        db: 0,
      },
    ],
    ['redis+sentinel://:p%40ss@10.0.0.1:26379/kw/3', { sentinels: [{ host: '10.0.0.1', port: 26379 }], name: 'kw', db: 3, password: 'p@ss' }],
    ['redis+sentinel://app:secret@[::1]:26379/kw', { sentinels: [{ host: '::1', port: 26379 }], name: 'kw', db: 0, username: 'app', password: 'secret' }],
  ])("reads the Sentinels, master name, db and data nodes' credentials of %s", (url, expected) => {
    expect(parseRedisUrl(url)).toEqual({ kind: 'sentinel', ...expected });
  });

  it("connects to the primary the Sentinels name, with the Sentinels' own password apart and a failover detector", () => {
    const target = parseRedisUrl('redis+sentinel://:data@s1:26379,s2:26379/kw/1');
    if (target.kind !== 'sentinel') throw new Error('not a sentinel target');
    expect(sentinelOptions(target, 'sentinel-pw')).toMatchObject({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'kw',
      role: 'master',
      db: 1,
      password: 'data',
      sentinelPassword: 'sentinel-pw',
      failoverDetector: true,
    });
    expect(sentinelOptions(target, undefined)).not.toHaveProperty('sentinelPassword');
  });

  it.each([
    [
      'redis+cluster://n1:7000,n2:7001,n3',
      {
        nodes: [
          { host: 'n1', port: 7000 },
          { host: 'n2', port: 7001 },
          { host: 'n3', port: 6379 },
        ],
      },
    ],
    ['redis+cluster://:p%40ss@10.0.0.1:7000/', { nodes: [{ host: '10.0.0.1', port: 7000 }], password: 'p@ss' }],
    [
      'redis+cluster://app:secret@[::1]:7000,[::1]:7001',
      {
        nodes: [
          { host: '::1', port: 7000 },
          { host: '::1', port: 7001 },
        ],
        username: 'app',
        password: 'secret',
      },
    ],
  ])('reads the cluster nodes and credentials of %s', (url, expected) => {
    expect(parseRedisUrl(url)).toEqual({ kind: 'cluster', ...expected });
  });

  it('connects to a cluster with the credentials on every node, sharded subscribers, and reconnecting nodes', () => {
    const target = parseRedisUrl('redis+cluster://app:pw@n1:7000,n2:7000');
    if (target.kind !== 'cluster') throw new Error('not a cluster target');
    const options = clusterOptions(target, 'kube-worker-test', { maxRetriesPerRequest: null });
    expect(options).toMatchObject({
      shardedSubscribers: true,
      redisOptions: { username: 'app', password: 'pw', connectionName: 'kube-worker-test', maxRetriesPerRequest: null },
    });
    expect(options.clusterRetryStrategy?.(1, new Error('down'))).toBeGreaterThan(0);
  });

  it.each([
    ['redis+cluster://', /names no cluster node/],
    ['redis+cluster://n1:7000/0', /no database/],
    ['redis+cluster://:hunter22@n1:99999', /not a cluster node address/],
    ['redis+sentinel://s1:26379', /master name/],
    ['redis+sentinel://s1:26379/', /no master/],
    ['redis+sentinel:///kw', /names no Sentinel/],
    ['redis+sentinel://s1:99999/kw', /not a Sentinel address/],
    ['redis+sentinel://:hunter22@s1:26379/kw/notadb', /redis\+sentinel:\/\/\*\*\*@s1/],
    ['http://:hunter22@redis:6379', /must start with redis:\/\/, rediss:\/\/, redis\+sentinel:\/\/ or redis\+cluster:\/\//],
  ])('refuses %s, saying why and never quoting the password', (url, message) => {
    let error: Error | undefined;
    try {
      readConfig({ REDIS_URL: url });
    } catch (caught) {
      error = caught as ConfigError;
    }
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain('hunter22');
  });

  it("takes a Sentinel URL and the Sentinels' password as settings", () => {
    expect(readConfig({ REDIS_URL: 'redis+sentinel://s1:26379/kw', KUBE_WORKER_REDIS_SENTINEL_PASSWORD: 'pw' })).toMatchObject({
      redisUrl: 'redis+sentinel://s1:26379/kw',
      redisSentinelPassword: 'pw',
      redisWaitMs: 1000,
    });
    expect(readConfig({ KUBE_WORKER_REDIS_WAIT_MS: '0' }).redisWaitMs).toBe(0);
  });

  it('hides passwords when it names a URL', () => {
    expect(redactedRedisUrl('redis+sentinel://u:pw@s1:26379/kw')).toBe('redis+sentinel://***@s1:26379/kw');
    expect(redactedRedisUrl('/tmp/redis.sock?password=pw')).toBe('/tmp/redis.sock?password=***');
    expect(redactedRedisUrl('redis+cluster://:pw@n1:7000,n2:7000')).toBe('redis+cluster://***@n1:7000,n2:7000');
  });
});
