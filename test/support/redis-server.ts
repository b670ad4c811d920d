/**
 * A redis-server of a test's own, in a temp dir on a free loopback port, that the test may stop with
 * any signal, start again on the same port and data, or freeze (SIGSTOP). Never the shared Redis:
 * stopping that would break every other test running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { waitUntil } from './wait-until.js';

export interface OwnRedis {
  url: string;
  /** Stops it with `signal` (SIGTERM unless given), frozen or not, and waits until it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and folder (from its AOF, if it keeps one) and waits until it answers; nothing when it runs. */
  start(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing answers. */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  /** Stops it for good and removes its folder. */
  remove(): Promise<void>;
}

export interface OwnRedisOptions {
  /** Keep data as production runs it (AOF, `appendfsync everysec`, noeviction); else nothing survives a stop. */
  aof?: boolean;
}

/** Whether a Redis answers PING at `url` now. */
export async function redisAnswers(url: string, connectTimeout = 1000): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout });
  probe.on('error', () => undefined); // refused while it starts; connect() reports it
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** Data kept as production keeps it: AOF, `appendfsync everysec`, and writes refused rather than keys evicted. */
export const PERSISTENT = ['--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction'];

/** A redis-server (or Sentinel) process of a test's, with what it last printed: why it exited, when it did. */
export interface RedisProcess {
  child: ChildProcess;
  output(): string;
}

/** Starts `redis-server` with `args`, keeping the tail of its log (it logs to stdout). */
export function spawnRedisServer(args: string[]): RedisProcess {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (chunk: Buffer): void => void (tail = (tail + chunk.toString()).slice(-2000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('error', (error) => keep(Buffer.from(`redis-server could not start (is it installed?): ${error.message}\n`)));
  return { child, output: () => tail };
}

/** Whether the redis-server answers at `url`; fails at once, with what it printed, once it has exited (a port taken, say). */
export async function answersWhileRunning(server: RedisProcess, url: string): Promise<boolean> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null)
    throw new Error(`redis-server for ${url} exited (${child.exitCode ?? child.signalCode}):\n${server.output()}`);
  return redisAnswers(url);
}

export async function startOwnRedis(options: OwnRedisOptions = {}): Promise<OwnRedis> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kw-own-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const persistence = options.aof ? PERSISTENT : ['--appendonly', 'no'];
  let child: ChildProcess | undefined;
  const own: OwnRedis = {
    url,
    async start() {
      // A second process on the same port would fail to bind while this one answered for it, and
      // the first would be left running once the second took its place here.
      if (child && child.exitCode === null && child.signalCode === null) return;
      const started = spawnRedisServer(['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', ...persistence]);
      child = started.child;
      await waitUntil(`redis-server on port ${port}`, () => answersWhileRunning(started, url), 15_000);
    },
    async stop(signal = 'SIGTERM') {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = once(running, 'exit');
      running.kill('SIGCONT'); // a frozen one would not act on the signal
      running.kill(signal);
      await exited;
    },
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    async remove() {
      await own.stop('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await own.start();
  } catch (error) {
    await own.remove();
    throw error;
  }
  return own;
}

/** Runs one command on a short-lived connection to the Redis on `port`; undefined when it does not answer. */
export async function askRedis<T>(port: number, command: string, ...args: Array<string | number>): Promise<T | undefined> {
  const redis = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
    commandTimeout: 2000,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.call(command, ...args)) as T;
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}
