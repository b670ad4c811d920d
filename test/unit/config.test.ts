import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig, type Config } from '../../core/config.js';
import { COMMANDS } from '../../cli/command-table.js';

const TOKEN = 'a-token-of-20-chars!';
const OTHER_TOKEN = 'another-token-0123456';

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    readConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('the configuration was accepted');
}

describe('readConfig', () => {
  it('gives every default for an empty environment', () => {
    expect(readConfig({})).toMatchObject<Partial<Config>>({
      redisUrl: undefined,
      prefix: 'kw',
      apiTokens: [],
      pools: ['default'],
      concurrency: 4,
      host: '127.0.0.1',
      port: 8080,
      logLevel: 'info',
      logMaxLines: 100_000,
      logMaxBytes: 10 * 1024 * 1024,
      retentionSeconds: 86_400,
      defaultTimeoutSeconds: 3600,
      lockDurationMs: 30_000,
      shutdownGraceSeconds: 30,
      runtime: 'auto',
      workDir: path.resolve(os.tmpdir(), 'kube-worker'),
      localUser: undefined,
      localUids: { first: 2_000_000_000, last: 2_000_009_999 },
      stateDir: path.resolve('.kube-worker'),
      serverUrl: 'http://127.0.0.1:8080',
      requestTimeoutSeconds: 30,
    });
  });

  it.each<[string, NodeJS.ProcessEnv, Partial<Config>]>([
    ['a Redis URL', { REDIS_URL: 'redis://127.0.0.1:6380/2' }, { redisUrl: 'redis://127.0.0.1:6380/2' }],
    ['a TLS Redis URL', { REDIS_URL: 'rediss://user:pw@redis.example:6380' }, { redisUrl: 'rediss://user:pw@redis.example:6380' }],
    ['an empty Redis URL as none', { REDIS_URL: '' }, { redisUrl: undefined }],
    ['a key prefix', { KUBE_WORKER_PREFIX: 'team_a-1' }, { prefix: 'team_a-1' }],
    ['one token', { KUBE_WORKER_API_TOKEN: TOKEN }, { apiTokens: [TOKEN] }],
    ['two tokens with spaces and an empty entry', { KUBE_WORKER_API_TOKEN: ` ${TOKEN} ,, ${OTHER_TOKEN}` }, { apiTokens: [TOKEN, OTHER_TOKEN] }],
    ['a token of exactly 16 characters', { KUBE_WORKER_API_TOKEN: 'x'.repeat(16) }, { apiTokens: ['x'.repeat(16)] }],
    ['several pools', { KUBE_WORKER_POOLS: 'default, gpu ,linux-arm64' }, { pools: ['default', 'gpu', 'linux-arm64'] }],
    ['repeated pools once', { KUBE_WORKER_POOLS: 'a,b,a' }, { pools: ['a', 'b'] }],
    ['a pool name of 63 characters', { KUBE_WORKER_POOLS: 'p'.repeat(63) }, { pools: ['p'.repeat(63)] }],
    ['a concurrency', { KUBE_WORKER_CONCURRENCY: '16' }, { concurrency: 16 }],
    ['a number with surrounding spaces', { KUBE_WORKER_CONCURRENCY: ' 8 ' }, { concurrency: 8 }],
    ['a host', { HOST: '0.0.0.0' }, { host: '0.0.0.0' }],
    ['a log level', { KUBE_WORKER_LOG_LEVEL: 'silent' }, { logLevel: 'silent' }],
    ['a request timeout', { KUBE_WORKER_REQUEST_TIMEOUT_SECONDS: '5' }, { requestTimeoutSeconds: 5 }],
    ['the local runtime', { KUBE_WORKER_RUNTIME: 'local' }, { runtime: 'local' }],
    ['a work directory as an absolute path', { KUBE_WORKER_WORK_DIR: 'work' }, { workDir: path.resolve('work') }],
    ['a state directory as an absolute path', { KUBE_WORKER_STATE_DIR: '/var/lib/kw' }, { stateDir: path.resolve('/var/lib/kw') }],
    ['the server URL from PORT', { PORT: '9000' }, { port: 9000, serverUrl: 'http://127.0.0.1:9000' }],
    ['a server URL without its trailing slash', { KUBE_WORKER_URL: 'https://kw.example.com/' }, { serverUrl: 'https://kw.example.com' }],
    ['a server URL over PORT', { PORT: '9000', KUBE_WORKER_URL: 'http://kw:8081/api/' }, { port: 9000, serverUrl: 'http://kw:8081/api' }],
    [
      'bounds inclusively',
      { PORT: '65535', KUBE_WORKER_SHUTDOWN_GRACE_SECONDS: '0', KUBE_WORKER_LOG_MAX_LINES: '10' },
      { port: 65535, shutdownGraceSeconds: 0, logMaxLines: 10 },
    ],
  ])('reads %s', (_case, env, expected) => {
    expect(readConfig(env)).toMatchObject(expected);
  });

  it.each(['start', 'dispatcher', 'executor'])('has `kube-worker %s` listen on 127.0.0.1 unless HOST says otherwise', (name) => {
    const command = COMMANDS.find((c) => c.name === name)!;
    expect(readConfig({}, command.configDefaults).host).toBe('127.0.0.1');
    expect(readConfig({ HOST: '0.0.0.0' }, command.configDefaults).host).toBe('0.0.0.0');
  });

  it('uses the caller defaults when a variable is unset, and the environment over them', () => {
    expect(readConfig({}, { HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(readConfig({ HOST: '10.0.0.1' }, { HOST: '0.0.0.0' }).host).toBe('10.0.0.1');
  });

  it.each<[NodeJS.ProcessEnv, string, string]>([
    [{ REDIS_URL: 'http://redis:6379' }, 'REDIS_URL', 'redis://, rediss://, redis+sentinel:// or redis+cluster://'],
    [{ KUBE_WORKER_PREFIX: 'has space' }, 'KUBE_WORKER_PREFIX', '"has space"'],
    [{ KUBE_WORKER_PREFIX: 'p'.repeat(33) }, 'KUBE_WORKER_PREFIX', '1-32'],
    [{ KUBE_WORKER_API_TOKEN: 'short' }, 'KUBE_WORKER_API_TOKEN', 'token 1 is shorter than 16'],
    [{ KUBE_WORKER_API_TOKEN: `${TOKEN},${'x'.repeat(15)}` }, 'KUBE_WORKER_API_TOKEN', 'token 2 is shorter than 16'],
    [{ KUBE_WORKER_POOLS: 'Default' }, 'KUBE_WORKER_POOLS', '"Default" is not a valid pool name'],
    [{ KUBE_WORKER_POOLS: 'gpu,-edge' }, 'KUBE_WORKER_POOLS', '"-edge"'],
    [{ KUBE_WORKER_POOLS: 'p'.repeat(64) }, 'KUBE_WORKER_POOLS', 'not a valid pool name'],
    [{ KUBE_WORKER_POOLS: 'default,op' }, 'KUBE_WORKER_POOLS', '"op" is reserved'],
    [{ KUBE_WORKER_POOLS: 'mutex' }, 'KUBE_WORKER_POOLS', '"mutex" is reserved'],
    [{ KUBE_WORKER_POOLS: ' , ' }, 'KUBE_WORKER_POOLS', 'at least one pool'],
    [{ KUBE_WORKER_CONCURRENCY: 'four' }, 'KUBE_WORKER_CONCURRENCY', 'whole number'],
    [{ KUBE_WORKER_CONCURRENCY: '1.5' }, 'KUBE_WORKER_CONCURRENCY', 'whole number'],
    [{ KUBE_WORKER_CONCURRENCY: '0' }, 'KUBE_WORKER_CONCURRENCY', 'between 1 and 1000'],
    [{ PORT: '65536' }, 'PORT', 'between 0 and 65535'],
    [{ PORT: '-1' }, 'PORT', 'between 0 and 65535'],
    [{ KUBE_WORKER_LOG_LEVEL: 'verbose' }, 'KUBE_WORKER_LOG_LEVEL', '"verbose"'],
    [{ KUBE_WORKER_LOG_MAX_LINES: '9' }, 'KUBE_WORKER_LOG_MAX_LINES', 'between 10'],
    [{ KUBE_WORKER_RETENTION_SECONDS: '5' }, 'KUBE_WORKER_RETENTION_SECONDS', 'between 10'],
    [{ KUBE_WORKER_DEFAULT_TIMEOUT_SECONDS: '0' }, 'KUBE_WORKER_DEFAULT_TIMEOUT_SECONDS', 'between 1'],
    [{ KUBE_WORKER_LOCK_DURATION_MS: '999' }, 'KUBE_WORKER_LOCK_DURATION_MS', 'between 1000'],
    [{ KUBE_WORKER_SHUTDOWN_GRACE_SECONDS: '3601' }, 'KUBE_WORKER_SHUTDOWN_GRACE_SECONDS', 'between 0 and 3600'],
    [{ KUBE_WORKER_RUNTIME: 'cluster' }, 'KUBE_WORKER_RUNTIME', 'local or auto'],
    [{ KUBE_WORKER_URL: 'ftp://kw.example.com' }, 'KUBE_WORKER_URL', 'http(s) URL'],
    [{ KUBE_WORKER_URL: 'not a url' }, 'KUBE_WORKER_URL', 'http(s) URL'],
    [{ KUBE_WORKER_LOCAL_UIDS: '3000' }, 'KUBE_WORKER_LOCAL_UIDS', 'first-last'],
    [{ KUBE_WORKER_LOCAL_UIDS: '0-999' }, 'KUBE_WORKER_LOCAL_UIDS', 'from 1'],
    [{ KUBE_WORKER_LOCAL_UIDS: '5000-4000' }, 'KUBE_WORKER_LOCAL_UIDS', 'first not above last'],
    [{ KUBE_WORKER_LOCAL_UIDS: '1-2147483648' }, 'KUBE_WORKER_LOCAL_UIDS', '2147483647'],
  ])('refuses %j naming %s', (env, variable, detail) => {
    const error = configError(env);
    expect(error.message).toContain(variable);
    expect(error.message).toContain(detail);
  });

  it('reads a range of local uids', () => {
    expect(readConfig({ KUBE_WORKER_LOCAL_UIDS: ' 70000-70999 ' }).localUids).toEqual({ first: 70_000, last: 70_999 });
  });

  it('reports every bad variable in one error', () => {
    const error = configError({ PORT: 'x', KUBE_WORKER_RUNTIME: 'docker', KUBE_WORKER_POOLS: 'op', KUBE_WORKER_API_TOKEN: 'short' });
    for (const variable of ['PORT', 'KUBE_WORKER_RUNTIME', 'KUBE_WORKER_POOLS', 'KUBE_WORKER_API_TOKEN']) {
      expect(error.message).toContain(variable);
    }
    expect(error.message.split('\n  - ')).toHaveLength(5);
  });

  it('keeps credentials of a bad Redis URL out of the error', () => {
    const error = configError({ REDIS_URL: 'http://user:hunter2-password@redis:6379' });
    expect(error.message).not.toContain('hunter2');
  });
});
