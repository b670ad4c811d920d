/**
 * A whole kube-worker in the test process: a dispatcher on a free loopback port and executors with
 * the local runtime, all under a Redis prefix of their own so tests never see each other's data.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { readConfig, type Config } from '../../../core/config.js';
import { createLogger } from '../../../core/logger.js';
import { createExecutorMetrics, createProcessMetrics, type ExecutorMetrics, type ProcessMetrics } from '../../../core/metrics.js';
import { buildDispatcher, type Dispatcher } from '../../../dispatcher/server.js';
import { startExecutor, type Executor, type RuntimeFactory } from '../../../executor/executor.js';
import { LocalRuntime } from '../../../executor/local/local-runtime.js';
import type { OperationStatus } from '../../../core/contract/status.js';
import type { Tracing } from '../../../core/tracing.js';
import { deploymentKeys } from '../../support/deployment-keys.js';

export const TOKEN = 'test-token-0123456789abcdef';

export interface Stack {
  url: string;
  /** The dispatcher's fastify instance, to look at what it serves. */
  app: FastifyInstance;
  config: Config;
  redisUrl: string;
  /** One registry for dispatcher and executors, as `kube-worker start` has it; served at /metrics. */
  metrics: ProcessMetrics;
  /** The executors' metrics in that registry, for a runtime an executor is given to feed its own. */
  executorMetrics: ExecutorMetrics;
  executors: Executor[];
  /** An executor in this process; the local runtime (as `overrides` configure it) unless another is given. */
  addExecutor(overrides?: Partial<Config>, runtime?: RuntimeFactory): Promise<Executor>;
  api(method: string, route: string, body?: unknown, token?: string | null): Promise<{ status: number; body: any; headers: Headers }>;
  submit(operation: Record<string, unknown>): Promise<string>;
  /** Polls the status until `done` holds; `what` names it in the timeout error. */
  waitFor(ticket: string, what: string, done: (status: OperationStatus) => boolean, timeoutMs?: number): Promise<OperationStatus>;
  waitForState(ticket: string, states: string[], timeoutMs?: number): Promise<OperationStatus>;
  waitUntilDone(ticket: string, timeoutMs?: number): Promise<OperationStatus>;
  close(): Promise<void>;
}

export const BASE_ENV: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), LANG: 'C.UTF-8' };

/** The local runtime, scripts starting from `baseEnv`, packages fetched and users chosen as `config` says. */
export const localRuntime =
  (workDir: string, baseEnv = BASE_ENV, config?: Pick<Config, 'packageSources' | 'packageMaxBytes' | 'localUser' | 'localUids'>): RuntimeFactory =>
  () =>
    LocalRuntime.start({
      workDir,
      baseEnv,
      ...(config
        ? {
            packages: { sources: config.packageSources, maxBytes: config.packageMaxBytes, progressIntervalMs: 1000 },
            uids: config.localUids,
            ...(config.localUser ? { user: config.localUser } : {}),
          }
        : {}),
    });

/**
 * `executorRedisUrl`: where executors reach that same Redis, when it is not `redisUrl` (through a
 * proxy); `tracing`: the spans of dispatcher and executors (none by default).
 */
export async function startStack(
  options: { executors?: number; env?: Record<string, string>; redisUrl?: string; executorRedisUrl?: string; tracing?: Tracing } = {},
): Promise<Stack> {
  const redisUrl = options.redisUrl ?? inject('redisUrl');
  const prefix = `t${randomBytes(5).toString('hex')}`;
  // Scripts of a root executor run as other users, who must be let through to the work dirs below.
  const scratch = path.join(os.tmpdir(), 'kube-worker-tests');
  await mkdir(scratch, { recursive: true });
  await chmod(scratch, 0o711);
  const config = readConfig({
    KUBE_WORKER_PREFIX: prefix,
    KUBE_WORKER_API_TOKEN: TOKEN,
    KUBE_WORKER_LOG_LEVEL: 'silent',
    KUBE_WORKER_WORK_DIR: path.join(scratch, prefix),
    KUBE_WORKER_SHUTDOWN_GRACE_SECONDS: '5',
    // The dispatcher shares this process's event loop with executors, scripts' pipes and the test
    // itself, on a loaded machine: a reply that waits behind them must not count as Redis away.
    // The tests of that limit set their own.
    KUBE_WORKER_REDIS_COMMAND_TIMEOUT_MS: '5000',
    ...options.env,
  });
  const logger = createLogger(config.logLevel, 'test');
  const metrics = createProcessMetrics();
  const executorMetrics = createExecutorMetrics(metrics);
  const dispatcher: Dispatcher = await buildDispatcher({ ...config, redisUrl }, logger, metrics, options.tracing);
  const url = await dispatcher.app.listen({ host: '127.0.0.1', port: 0 });
  const executors: Executor[] = [];

  const stack: Stack = {
    url,
    app: dispatcher.app,
    config,
    redisUrl,
    metrics,
    executorMetrics,
    executors,
    async addExecutor(overrides = {}, runtime) {
      const settings = { ...config, ...overrides, redisUrl: options.executorRedisUrl ?? redisUrl };
      runtime ??= localRuntime(settings.workDir, BASE_ENV, settings);
      const executor = await startExecutor(settings, runtime, logger, executorMetrics, { tracing: options.tracing });
      executors.push(executor);
      return executor;
    },
    async api(method, route, body, token = TOKEN) {
      const response = await fetch(`${url}${route}`, {
        method,
        headers: {
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // Not JSON (e.g. an event stream); the text is the body.
      }
      return { status: response.status, body: parsed, headers: response.headers };
    },
    async submit(operation) {
      // A 503 says "retry shortly" (Redis did not answer in time, as on a machine loaded by other
      // tests); a client does, with the same body, which submit takes as the same operation.
      const body = { pool: 'default', ticket: `t-${randomBytes(6).toString('hex')}`, ...operation };
      for (let attempt = 0; ; attempt += 1) {
        const response = await stack.api('POST', '/api/v1/operations', body);
        if (response.status === 202 || (attempt > 0 && response.status === 200)) return response.body.ticket as string;
        // For about 30 s: on a machine busy with the fault suites, Redis can miss the 1 s limit for a while.
        if (response.status !== 503 || attempt >= 9) throw new Error(`submit answered ${response.status}: ${JSON.stringify(response.body)}`);
        await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** attempt, 4000)));
      }
    },
    async waitFor(ticket, what, done, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (let delay = 25; ; delay = Math.min(delay * 2, 250)) {
        const { body } = await stack.api('GET', `/api/v1/operations/${ticket}?limit=10000`);
        if (body?.state && done(body as OperationStatus)) return body as OperationStatus;
        if (Date.now() > deadline) throw new Error(`operation ${ticket} is ${body?.state}, still not ${what} after ${timeoutMs}ms`);
        await new Promise((r) => setTimeout(r, delay));
      }
    },
    waitForState: (ticket, states, timeoutMs) => stack.waitFor(ticket, states.join('|'), (status) => states.includes(status.state), timeoutMs),
    waitUntilDone: (ticket, timeoutMs) => stack.waitForState(ticket, ['succeeded', 'failed', 'cancelled'], timeoutMs),
    async close() {
      for (const executor of executors) await executor.close();
      await dispatcher.close();
      const redis = new Redis(redisUrl);
      const keys = await deploymentKeys(redis, prefix);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    },
  };
  for (let i = 0; i < (options.executors ?? 1); i += 1) await stack.addExecutor();
  return stack;
}

export const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** A line that sets an output variable through a service message. */
export const setVariable = (name: string, value: string, sensitive = false): string =>
  `echo "##octopus[setVariable name='${b64(name)}' value='${b64(value)}' sensitive='${b64(sensitive ? 'True' : 'False')}']"`;

/** A bash operation body. */
export const bash = (body: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ script: { syntax: 'bash', body }, ...extra });

/**
 * The stack of a describe block: started before its first test, closed after its last. Its members
 * are the started stack's (reading one before then is an error), so a test reads it as a Stack.
 */
export function useStack(options: Parameters<typeof startStack>[0] = {}): Stack {
  let started: Stack | undefined;
  beforeAll(async () => {
    started = await startStack(options);
  });
  afterAll(() => started?.close());
  return new Proxy({} as Stack, {
    get(_target, key) {
      if (!started) throw new Error('the stack starts before the first test of its describe block');
      return Reflect.get(started, key);
    },
  });
}
