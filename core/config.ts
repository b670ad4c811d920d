/**
 * Configuration: read from the environment once at start-up, validated, then passed down.
 * No other module reads `process.env`. Each setting has one entry in SETTINGS, which is also the
 * table the README documents.
 */
import os from 'node:os';
import path from 'node:path';
import { ConfigError, integer, list, oneOf } from './config-parsers.js';
import { instanceFromPrefix, KUBERNETES_SETTINGS, type KubernetesConfig } from './config-kubernetes.js';
import { PACKAGE_SETTINGS, type PackagesConfig } from './config-packages.js';
import { OBSERVABILITY_SETTINGS, observabilityProblems, type ObservabilityConfig } from './config-observability.js';
import { RESERVED_POOL_NAMES } from './keys.js';
import { parseRedisUrl, RedisUrlError } from './redis-url.js';

export { ConfigError };

export type RuntimeChoice = 'local' | 'kubernetes' | 'auto';

export interface Config extends KubernetesConfig, ObservabilityConfig, PackagesConfig {
  /** Redis to use (one endpoint, or Sentinels: core/redis-url.ts); undefined lets `kube-worker start` run a private one. */
  redisUrl: string | undefined;
  /** The Sentinels' own password, when a `redis+sentinel://` URL names Sentinels that want one. */
  redisSentinelPassword: string | undefined;
  /** How long a submission waits for a replica to confirm it (WAIT) when the primary has replicas; 0: never waits. */
  redisWaitMs: number;
  /** Prefix of every Redis key kube-worker writes, so that several deployments can share a Redis. */
  prefix: string;
  /** Accepted API bearer tokens; several allow rotation. */
  apiTokens: string[];
  /** Worker pools this deployment serves. */
  pools: string[];
  /** Operations one executor runs at once, per pool. */
  concurrency: number;
  host: string;
  port: number;
  logLevel: string;
  /** Log lines kept per operation; further lines are counted and reported as dropped. */
  logMaxLines: number;
  /** Bytes of log text kept per operation; further lines are counted and reported as dropped. */
  logMaxBytes: number;
  /** How long logs and results stay readable after an operation finishes. */
  retentionSeconds: number;
  /** Timeout of an operation that gives none. */
  defaultTimeoutSeconds: number;
  /** How long an executor may go silent before its operations count as lost. */
  lockDurationMs: number;
  /** How long shutdown waits for running operations before stopping them. */
  shutdownGraceSeconds: number;
  /** How long the dispatcher waits for one Redis command before it answers 503. */
  redisCommandTimeoutMs: number;
  /** Log streams (SSE follows) one dispatcher serves at once; more are refused with 503. */
  maxFollows: number;
  /** A follow that has streamed no new line for this long ends; the client resumes with Last-Event-ID. */
  followIdleSeconds: number;
  /** How long a client may take to send a whole request, headers and body; past it the connection is closed. */
  requestTimeoutSeconds: number;
  runtime: RuntimeChoice;
  /** Where the local runtime makes each operation's private workspace. */
  workDir: string;
  /** Who local scripts run as; undefined: nobody for a root executor, else the executor's user. */
  localUser: { uid: number; gid: number } | undefined;
  /** Where `kube-worker start` keeps its private Redis and the generated token. */
  stateDir: string;
  /** The API the CLI's client commands talk to. */
  serverUrl: string;
}

export interface Setting<K extends keyof Config> {
  env: string;
  key: K;
  description: string;
  /** The default as text, for the README; undefined when there is none. */
  defaultText?: string;
  parse: (raw: string | undefined) => Config[K];
}

const POOL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const SETTINGS = [
  {
    env: 'REDIS_URL', key: 'redisUrl', defaultText: 'private redis-server for `start`, else redis://127.0.0.1:6379',
    description: 'Redis connection URL: redis://[user:password@]host:port[/db], rediss:// for TLS, or redis+sentinel://[user:password@]host1:port1,host2:port2,.../<master name>[/db] for the Sentinels of a primary and its replicas (the password is the data nodes\'; see Redis deployments).',
    parse: (raw) => {
      if (raw === undefined || raw === '') return undefined;
      try {
        if (raw.startsWith('/')) throw new RedisUrlError('REDIS_URL must start with redis://, rediss:// or redis+sentinel://, not a path');
        parseRedisUrl(raw);
      } catch (error) {
        if (error instanceof RedisUrlError) throw new ConfigError(error.message);
        throw error;
      }
      return raw;
    },
  } satisfies Setting<'redisUrl'>,
  {
    env: 'KUBE_WORKER_REDIS_SENTINEL_PASSWORD', key: 'redisSentinelPassword', defaultText: 'none',
    description: 'The Sentinels\' own password, when a redis+sentinel:// REDIS_URL names Sentinels that want one (requirepass in their configuration). Never logged.',
    parse: (raw) => (raw === undefined || raw === '' ? undefined : raw),
  } satisfies Setting<'redisSentinelPassword'>,
  {
    env: 'KUBE_WORKER_REDIS_WAIT_MS', key: 'redisWaitMs', defaultText: '1000',
    description: 'When the primary Redis has replicas (always behind Sentinel), a submission is answered only once they have its record and job (WAIT); past this long one is enough, and none is a 503 KW_ERR_NOT_REPLICATED (retry with the same ticket and body). 0: answer without waiting.',
    parse: (raw) => integer('KUBE_WORKER_REDIS_WAIT_MS', raw, 1000, 0, 60_000),
  } satisfies Setting<'redisWaitMs'>,
  {
    env: 'KUBE_WORKER_PREFIX', key: 'prefix', defaultText: 'kw',
    description: 'Prefix of every Redis key, so several deployments can share one Redis.',
    parse: (raw) => {
      const value = raw || 'kw';
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(value)) throw new ConfigError(`KUBE_WORKER_PREFIX must be 1-32 letters, digits, _ or -, not "${value}"`);
      return value;
    },
  } satisfies Setting<'prefix'>,
  {
    env: 'KUBE_WORKER_API_TOKEN', key: 'apiTokens', defaultText: 'generated by `start`; required otherwise',
    description: 'API bearer tokens, comma-separated (two during a rotation). Each at least 16 characters.',
    parse: (raw) => {
      const tokens = list(raw);
      const short = tokens.findIndex((t) => t.length < 16);
      if (short >= 0) throw new ConfigError(`KUBE_WORKER_API_TOKEN: token ${short + 1} is shorter than 16 characters`);
      return tokens;
    },
  } satisfies Setting<'apiTokens'>,
  {
    env: 'KUBE_WORKER_POOLS', key: 'pools', defaultText: 'default',
    description: 'Worker pools served, comma-separated (lowercase letters, digits, -).',
    parse: (raw) => {
      const pools = list(raw);
      if (pools.length === 0) return ['default'];
      const bad = pools.find((p) => !POOL.test(p));
      if (bad) throw new ConfigError(`KUBE_WORKER_POOLS: "${bad}" is not a valid pool name (lowercase letters, digits and -, at most 63)`);
      const reserved = pools.find((p) => RESERVED_POOL_NAMES.has(p));
      if (reserved) throw new ConfigError(`KUBE_WORKER_POOLS: "${reserved}" is reserved; choose another pool name`);
      return [...new Set(pools)];
    },
  } satisfies Setting<'pools'>,
  {
    env: 'KUBE_WORKER_CONCURRENCY', key: 'concurrency', defaultText: '4',
    description: 'Operations one executor runs at once, per pool.',
    parse: (raw) => integer('KUBE_WORKER_CONCURRENCY', raw, 4, 1, 1000),
  } satisfies Setting<'concurrency'>,
  {
    env: 'HOST', key: 'host', defaultText: '127.0.0.1; the container image (so docker-compose.yml too) and the chart set 0.0.0.0',
    description: 'Address the HTTP servers listen on (the API, and an executor\'s metrics); 0.0.0.0 for every interface, as a container needs.',
    parse: (raw) => raw || '127.0.0.1',
  } satisfies Setting<'host'>,
  {
    env: 'PORT', key: 'port', defaultText: '8080',
    description: 'Port of the HTTP API (the CLI also uses it to find a local server).',
    parse: (raw) => integer('PORT', raw, 8080, 0, 65535),
  } satisfies Setting<'port'>,
  {
    env: 'KUBE_WORKER_LOG_LEVEL', key: 'logLevel', defaultText: 'info',
    description: 'trace, debug, info, warn, error or fatal.',
    parse: (raw) => oneOf('KUBE_WORKER_LOG_LEVEL', raw, ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], 'info'),
  } satisfies Setting<'logLevel'>,
  {
    env: 'KUBE_WORKER_LOG_MAX_LINES', key: 'logMaxLines', defaultText: '100000',
    description: 'Log lines kept per operation; the rest are counted in one "N lines dropped" line.',
    parse: (raw) => integer('KUBE_WORKER_LOG_MAX_LINES', raw, 100_000, 10, 10_000_000),
  } satisfies Setting<'logMaxLines'>,
  {
    env: 'KUBE_WORKER_LOG_MAX_BYTES', key: 'logMaxBytes', defaultText: '10485760 (10 MiB)',
    description: 'Bytes of log text kept per operation (a line is cut at 64 KiB); the rest are counted in one "N lines dropped" line.',
    parse: (raw) => integer('KUBE_WORKER_LOG_MAX_BYTES', raw, 10 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
  } satisfies Setting<'logMaxBytes'>,
  {
    env: 'KUBE_WORKER_RETENTION_SECONDS', key: 'retentionSeconds', defaultText: '86400',
    description: 'How long logs and results stay readable after an operation finishes, unless released sooner with DELETE.',
    parse: (raw) => integer('KUBE_WORKER_RETENTION_SECONDS', raw, 86_400, 10, 90 * 86_400),
  } satisfies Setting<'retentionSeconds'>,
  {
    env: 'KUBE_WORKER_DEFAULT_TIMEOUT_SECONDS', key: 'defaultTimeoutSeconds', defaultText: '3600',
    description: 'Timeout of an operation that sets no timeoutSeconds.',
    parse: (raw) => integer('KUBE_WORKER_DEFAULT_TIMEOUT_SECONDS', raw, 3600, 1, 7 * 86_400),
  } satisfies Setting<'defaultTimeoutSeconds'>,
  {
    env: 'KUBE_WORKER_LOCK_DURATION_MS', key: 'lockDurationMs', defaultText: '30000',
    description: 'How long an executor may go silent before its operations are redelivered as lost.',
    parse: (raw) => integer('KUBE_WORKER_LOCK_DURATION_MS', raw, 30_000, 1000, 600_000),
  } satisfies Setting<'lockDurationMs'>,
  {
    env: 'KUBE_WORKER_SHUTDOWN_GRACE_SECONDS', key: 'shutdownGraceSeconds', defaultText: '30',
    description: 'On SIGTERM, how long running operations may finish before they are stopped.',
    parse: (raw) => integer('KUBE_WORKER_SHUTDOWN_GRACE_SECONDS', raw, 30, 0, 3600),
  } satisfies Setting<'shutdownGraceSeconds'>,
  {
    env: 'KUBE_WORKER_REDIS_COMMAND_TIMEOUT_MS', key: 'redisCommandTimeoutMs', defaultText: '1000',
    description: 'How long the dispatcher waits for one Redis command; past it (Redis stopped, frozen or overloaded) the API answers 503 and /readyz says not ready.',
    parse: (raw) => integer('KUBE_WORKER_REDIS_COMMAND_TIMEOUT_MS', raw, 1000, 50, 60_000),
  } satisfies Setting<'redisCommandTimeoutMs'>,
  {
    env: 'KUBE_WORKER_MAX_FOLLOWS', key: 'maxFollows', defaultText: '256',
    description: 'Log streams (`logs?follow=true`) one dispatcher serves at once, each on a Redis connection of its own; more are refused with 503 and Retry-After.',
    parse: (raw) => integer('KUBE_WORKER_MAX_FOLLOWS', raw, 256, 1, 100_000),
  } satisfies Setting<'maxFollows'>,
  {
    env: 'KUBE_WORKER_FOLLOW_IDLE_SECONDS', key: 'followIdleSeconds', defaultText: '900',
    description: 'A log stream that has had no new line for this long ends (keep-alive comments are sent every 15 s meanwhile); clients resume with Last-Event-ID.',
    parse: (raw) => integer('KUBE_WORKER_FOLLOW_IDLE_SECONDS', raw, 900, 1, 86_400),
  } satisfies Setting<'followIdleSeconds'>,
  {
    env: 'KUBE_WORKER_REQUEST_TIMEOUT_SECONDS', key: 'requestTimeoutSeconds', defaultText: '30',
    description: 'How long a client may take to send a whole request, headers and body (a submission is at most about 1.6 MiB); past it the dispatcher answers 408 and closes the connection, so a client that stalls holds nothing.',
    parse: (raw) => integer('KUBE_WORKER_REQUEST_TIMEOUT_SECONDS', raw, 30, 1, 3600),
  } satisfies Setting<'requestTimeoutSeconds'>,
  {
    env: 'KUBE_WORKER_RUNTIME', key: 'runtime', defaultText: 'auto',
    description: 'Where scripts run: kubernetes (a Job per operation), local (a child process of the executor), or auto (kubernetes when in a cluster or KUBECONFIG is set, else local).',
    parse: (raw) => oneOf<RuntimeChoice>('KUBE_WORKER_RUNTIME', raw, ['kubernetes', 'local', 'auto'], 'auto'),
  } satisfies Setting<'runtime'>,
  {
    env: 'KUBE_WORKER_WORK_DIR', key: 'workDir', defaultText: '$TMPDIR/kube-worker',
    description: 'Where the local runtime makes each operation\'s private workspace.',
    parse: (raw) => path.resolve(raw || path.join(os.tmpdir(), 'kube-worker')),
  } satisfies Setting<'workDir'>,
  {
    env: 'KUBE_WORKER_LOCAL_USER', key: 'localUser', defaultText: '65534:65534 (nobody) for an executor running as root, else the executor\'s own user',
    description: 'uid:gid that local scripts run as; another user than the executor\'s needs an executor running as root.',
    parse: (raw) => {
      if (raw === undefined || raw.trim() === '') return undefined;
      const match = /^(\d{1,10}):(\d{1,10})$/.exec(raw.trim());
      if (!match) throw new ConfigError(`KUBE_WORKER_LOCAL_USER must be uid:gid in numbers (e.g. 65534:65534), not "${raw}"`);
      return { uid: Number(match[1]), gid: Number(match[2]) };
    },
  } satisfies Setting<'localUser'>,
  {
    env: 'KUBE_WORKER_STATE_DIR', key: 'stateDir', defaultText: './.kube-worker',
    description: 'Where `start` keeps its private Redis (AOF) and the generated API token.',
    parse: (raw) => path.resolve(raw || '.kube-worker'),
  } satisfies Setting<'stateDir'>,
  {
    env: 'KUBE_WORKER_URL', key: 'serverUrl', defaultText: 'http://127.0.0.1:$PORT',
    description: 'API the CLI commands (submit, status, cancel, queues) talk to.',
    parse: (raw) => {
      if (raw === undefined || raw === '') return '';
      try {
        const url = new URL(raw);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
        return url.toString().replace(/\/$/, '');
      } catch {
        throw new ConfigError(`KUBE_WORKER_URL must be an http(s) URL, not "${raw}"`);
      }
    },
  } satisfies Setting<'serverUrl'>,
  ...KUBERNETES_SETTINGS,
  ...PACKAGE_SETTINGS,
  ...OBSERVABILITY_SETTINGS,
] as const;

/** Reads and validates every setting; throws one ConfigError naming every bad variable. */
export function readConfig(env: NodeJS.ProcessEnv, defaults: Partial<Record<string, string>> = {}): Config {
  const problems: string[] = [];
  const config: Partial<Record<keyof Config, unknown>> = {};
  for (const setting of SETTINGS) {
    try {
      config[setting.key] = setting.parse(env[setting.env] || defaults[setting.env]);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  problems.push(...observabilityProblems(config as Partial<Config>));
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  const result = config as Config;
  result.serverUrl ||= `http://127.0.0.1:${result.port}`;
  result.instance ||= instanceFromPrefix(result.prefix);
  return result;
}
