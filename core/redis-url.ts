/**
 * The one reading of REDIS_URL. Three forms:
 *
 * - `redis://[user:password@]host:port[/db]` and `rediss://…` (TLS): one endpoint, read by ioredis
 *   itself;
 * - a Unix socket path (`/path/redis.sock?password=…`): what `kube-worker start` gives its private
 *   Redis;
 * - `redis+sentinel://[user:password@]host1:port1,host2:port2,…/<master name>[/db]`: the
 *   Sentinels of a primary and its replicas. The user and password are the data nodes'; the
 *   Sentinels' own password, when they have one, is KUBE_WORKER_REDIS_SENTINEL_PASSWORD.
 * - `redis+cluster://[user:password@]host1:port1,host2:port2,…`: some nodes of a Redis Cluster
 *   (any of them; the client learns the others from them). A cluster has no databases.
 *
 * Pure: nothing here connects. Errors never quote a password.
 */
import type { ClusterOptions, RedisOptions } from 'ioredis';

/** Sentinel's default port, for a host given without one. */
const SENTINEL_PORT = 26379;
/** Redis's default port, for a cluster node given without one. */
const REDIS_PORT = 6379;

type Address = { host: string; port: number };

export type RedisTarget =
  | { kind: 'url'; url: string }
  | {
      kind: 'sentinel';
      sentinels: Array<{ host: string; port: number }>;
      /** The master group name the Sentinels monitor. */
      name: string;
      username?: string;
      password?: string;
      db: number;
    }
  | {
      kind: 'cluster';
      nodes: Address[];
      username?: string;
      password?: string;
    };

export class RedisUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUrlError';
  }
}

/** What the URL names, with any password cut out: for messages. */
export function redactedRedisUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/)[^@/]*@/i, '$1***@').replace(/([?&]password=)[^&]*/i, '$1***');
}

function address(text: string, url: string, what: string, defaultPort: number): Address {
  // [v6]:port, host:port or host alone.
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(text);
  const port = match?.[3] === undefined ? defaultPort : Number(match[3]);
  if (!match || port < 1 || port > 65535) throw new RedisUrlError(`REDIS_URL: "${text}" is not ${what} (host:port) in ${redactedRedisUrl(url)}`);
  return { host: match[1] ?? match[2]!, port };
}

/** The user and password of `user:password`, decoded; absent when empty. */
function credentialsOf(credentials: string | undefined): { username?: string; password?: string } {
  if (!credentials) return {};
  const colon = credentials.indexOf(':');
  const username = decodeURIComponent(colon < 0 ? credentials : credentials.slice(0, colon));
  const password = colon < 0 ? undefined : decodeURIComponent(credentials.slice(colon + 1));
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

function parseClusterUrl(url: string): RedisTarget {
  const cluster = /^redis\+cluster:\/\/(?:([^@/]*)@)?([^/?#]*)\/?$/.exec(url);
  if (!cluster)
    throw new RedisUrlError(`REDIS_URL must read redis+cluster://[user:password@]host1:port1,host2:port2,... (no database), not "${redactedRedisUrl(url)}"`);
  const [, credentials, hosts] = cluster;
  const nodes = hosts!
    .split(',')
    .filter(Boolean)
    .map((h) => address(h, url, 'a cluster node address', REDIS_PORT));
  if (nodes.length === 0) throw new RedisUrlError(`REDIS_URL names no cluster node: ${redactedRedisUrl(url)}`);
  return { kind: 'cluster', nodes, ...credentialsOf(credentials) };
}

export function parseRedisUrl(url: string): RedisTarget {
  if (/^rediss?:\/\//.test(url) || url.startsWith('/')) return { kind: 'url', url };
  if (url.startsWith('redis+cluster://')) return parseClusterUrl(url);
  const sentinel = /^redis\+sentinel:\/\/(?:([^@/]*)@)?([^/]*)\/([^/?#]*)(?:\/(\d+))?\/?$/.exec(url);
  if (!url.startsWith('redis+sentinel://')) {
    throw new RedisUrlError(
      `REDIS_URL must start with redis://, rediss://, redis+sentinel:// or redis+cluster://, not "${redactedRedisUrl(url).split('@').pop()}"`,
    );
  }
  if (!sentinel)
    throw new RedisUrlError(
      `REDIS_URL must read redis+sentinel://[user:password@]host1:port1,host2:port2,.../<master name>[/db], not "${redactedRedisUrl(url)}"`,
    );
  const [, credentials, hosts, name, db] = sentinel;
  const sentinels = hosts!
    .split(',')
    .filter(Boolean)
    .map((h) => address(h, url, 'a Sentinel address', SENTINEL_PORT));
  if (sentinels.length === 0) throw new RedisUrlError(`REDIS_URL names no Sentinel: ${redactedRedisUrl(url)}`);
  const master = decodeURIComponent(name!);
  if (master === '') throw new RedisUrlError(`REDIS_URL names no master after the Sentinels (…/<master name>): ${redactedRedisUrl(url)}`);
  return { kind: 'sentinel', sentinels, name: master, db: db === undefined ? 0 : Number(db), ...credentialsOf(credentials) };
}

/**
 * The ioredis options of a Sentinel target: connect to the primary the Sentinels name, follow it
 * through failovers (the failover detector hears +switch-master and moves at once, even when the
 * old primary is only cut off), and never settle on a replica.
 */
export function sentinelOptions(target: Extract<RedisTarget, { kind: 'sentinel' }>, sentinelPassword: string | undefined): RedisOptions {
  return {
    sentinels: target.sentinels,
    name: target.name,
    role: 'master',
    db: target.db,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(sentinelPassword ? { sentinelPassword } : {}),
    failoverDetector: true,
    // Ask the Sentinels again soon: a failover takes seconds, and each try is cheap.
    sentinelRetryStrategy: (attempts: number) => Math.min(attempts * 100, 1000),
  };
}

/**
 * The ioredis options of a cluster target: the credentials and `settings` on every node's
 * connection; a subscriber per shard for sharded pub/sub (SSUBSCRIBE goes to the node that serves
 * the channel's slot); the slot map read again soon after a node fails, so that commands move to
 * the replica promoted in its place within a second or two.
 */
export function clusterOptions(target: Extract<RedisTarget, { kind: 'cluster' }>, name: string, settings: RedisOptions): ClusterOptions {
  return {
    redisOptions: {
      ...settings,
      connectionName: name,
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
    },
    shardedSubscribers: true,
    // Commands wait (maxRetriesPerRequest: null) through a failover instead of failing.
    maxRedirections: 64,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
    slotsRefreshTimeout: 2000,
    // Also now and then: a connection that only subscribes or waits hears of no failover otherwise.
    slotsRefreshInterval: 5000,
    clusterRetryStrategy: (attempts: number) => Math.min(attempts * 100, 1000),
  };
}
