/**
 * The private Redis `kube-worker start` runs when no REDIS_URL is given: a `redis-server` child
 * with AOF under the state folder, on a free loopback port, stopped with the process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';

export interface PrivateRedis {
  url: string;
  stop(): Promise<void>;
}

const HOW_TO_GET_ONE =
  'kube-worker needs Redis: set REDIS_URL=redis://host:6379 to use an existing one, or install redis-server (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) and kube-worker start runs a private one';

/** A loopback port nobody listens on right now (the tests start their servers on one too). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

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

/** `port`: a free one unless given (to start it again where its clients will reconnect). */
export async function startPrivateRedis(stateDir: string, port?: number): Promise<PrivateRedis> {
  const dir = path.join(stateDir, 'redis');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  port ??= await freePort();
  const child = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--save', '', '--maxmemory-policy', 'noeviction', '--protected-mode', 'yes'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('error', resolve);
    child.once('spawn', () => resolve(undefined));
  });
  if (spawned) throw new Error((spawned as NodeJS.ErrnoException).code === 'ENOENT' ? HOW_TO_GET_ONE : `could not start redis-server: ${spawned.message}`);
  const url = `redis://127.0.0.1:${port}`;
  await waitUntilAnswering(url, child);
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
