/**
 * The private Redis `kube-worker start` runs when no REDIS_URL is given: a `redis-server` child
 * with AOF under the state folder, stopped with the process.
 *
 * It is the product's alone: it listens on no TCP port, only on a Unix socket in the state folder's
 * 0700 `redis/` folder, and it wants a password generated at each start. The password is in the
 * 0600 configuration file the server reads (never on a command line, which any user can read in
 * /proc) and in this process's memory; clients get it in the URL `start` passes them, not through
 * the environment. So a script running as another user (the local runtime under root) can neither
 * connect nor learn the password.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';

export interface PrivateRedis {
  /** For ioredis: the socket's path with the password as a query parameter. Never log it. */
  url: string;
  /** Where it listens, for people: the socket's path. */
  socket: string;
  stop(): Promise<void>;
}

const HOW_TO_GET_ONE =
  'kube-worker needs Redis: set REDIS_URL=redis://host:6379 to use an existing one, or install redis-server (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) and kube-worker start runs a private one';

/** Below both Linux's (107) and macOS's (103) limit on a socket's path. */
const MAX_SOCKET_PATH_BYTES = 100;

async function waitUntilAnswering(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined); // refused while it starts; connect() reports it
    try {
      await probe.connect();
      await probe.ping();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      probe.disconnect();
    }
  }
  throw new Error('redis-server did not answer within 10s');
}

/** A value of redis.conf, quoted as its parser reads it (a path may hold spaces). */
const quoted = (value: string): string => `"${value.replace(/[\\"]/g, '\\$&')}"`;

/** What the server is told; the password makes this the secret the file's mode protects. */
function configuration(dir: string, socket: string, password: string): string {
  return [
    'port 0',
    `unixsocket ${quoted(socket)}`,
    'unixsocketperm 700',
    `requirepass ${password}`,
    `dir ${quoted(dir)}`,
    'appendonly yes',
    'save ""',
    'maxmemory-policy noeviction',
    '',
  ].join('\n');
}

/**
 * The socket goes beside the data, unless the state folder's path is too long for a socket: then
 * in a folder of its own under the temp dir, which mkdtemp makes 0700 too (removed at stop).
 */
async function socketPlace(dir: string): Promise<{ socket: string; remove: () => Promise<void> }> {
  const beside = path.join(dir, 'redis.sock');
  if (Buffer.byteLength(beside) <= MAX_SOCKET_PATH_BYTES) return { socket: beside, remove: async () => undefined };
  const own = await mkdtemp(path.join(os.tmpdir(), 'kw-redis-'));
  return { socket: path.join(own, 'redis.sock'), remove: () => rm(own, { recursive: true, force: true }) };
}

export async function startPrivateRedis(stateDir: string): Promise<PrivateRedis> {
  const dir = path.resolve(stateDir, 'redis');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700); // made by an earlier version, or by hand
  const { socket, remove } = await socketPlace(dir);
  const password = randomBytes(24).toString('hex');
  const configFile = path.join(dir, 'redis.conf');
  await writeFile(configFile, configuration(dir, socket, password), { mode: 0o600 });
  await chmod(configFile, 0o600);
  const child = spawn('redis-server', [configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('error', resolve);
    child.once('spawn', () => resolve(undefined));
  });
  if (spawned) {
    await remove();
    throw new Error((spawned as NodeJS.ErrnoException).code === 'ENOENT' ? HOW_TO_GET_ONE : `could not start redis-server: ${spawned.message}`);
  }
  const url = `${socket}?password=${password}`;
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }).then(remove);
  try {
    await waitUntilAnswering(url, child);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, socket, stop };
}
