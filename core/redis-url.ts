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
 *
 * Pure: nothing here connects. Errors never quote a password.
 */
import type { RedisOptions } from 'ioredis';

/** Sentinel's default port, for a host given without one. */
const SENTINEL_PORT = 26379;

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

function sentinelAddress(text: string, url: string): { host: string; port: number } {
  // [v6]:port, host:port or host alone.
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(text);
  const port = match?.[3] === undefined ? SENTINEL_PORT : Number(match[3]);
  if (!match || port < 1 || port > 65535) throw new RedisUrlError(`REDIS_URL: "${text}" is not a Sentinel address (host:port) in ${redactedRedisUrl(url)}`);
  return { host: match[1] ?? match[2]!, port };
}

export function parseRedisUrl(url: string): RedisTarget {
  if (/^rediss?:\/\//.test(url) || url.startsWith('/')) return { kind: 'url', url };
  const sentinel = /^redis\+sentinel:\/\/(?:([^@/]*)@)?([^/]*)\/([^/?#]*)(?:\/(\d+))?\/?$/.exec(url);
  if (!url.startsWith('redis+sentinel://')) {
    throw new RedisUrlError(`REDIS_URL must start with redis://, rediss:// or redis+sentinel://, not "${redactedRedisUrl(url).split('@').pop()}"`);
  }
  if (!sentinel)
    throw new RedisUrlError(
      `REDIS_URL must read redis+sentinel://[user:password@]host1:port1,host2:port2,.../<master name>[/db], not "${redactedRedisUrl(url)}"`,
    );
  const [, credentials, hosts, name, db] = sentinel;
  const sentinels = hosts!
    .split(',')
    .filter(Boolean)
    .map((h) => sentinelAddress(h, url));
  if (sentinels.length === 0) throw new RedisUrlError(`REDIS_URL names no Sentinel: ${redactedRedisUrl(url)}`);
  const master = decodeURIComponent(name!);
  if (master === '') throw new RedisUrlError(`REDIS_URL names no master after the Sentinels (…/<master name>): ${redactedRedisUrl(url)}`);
  const target: RedisTarget = { kind: 'sentinel', sentinels, name: master, db: db === undefined ? 0 : Number(db) };
  if (credentials) {
    const colon = credentials.indexOf(':');
    const username = decodeURIComponent(colon < 0 ? credentials : credentials.slice(0, colon));
    const password = colon < 0 ? undefined : decodeURIComponent(credentials.slice(colon + 1));
    if (username) target.username = username;
    if (password) target.password = password;
  }
  return target;
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
