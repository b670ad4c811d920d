/**
 * docker-compose.yml brought up for real, as its header tells users, with the local images named
 * by KUBE_WORKER_IMAGE and REDIS_IMAGE: the dispatcher answers on 127.0.0.1:8080 and an operation
 * submitted with the CLI runs in the executor's container. Its static checks are in
 * test/chart/compose.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dockerBin } from './engine.js';
import { describeImages, image } from './support/docker.js';

const root = resolve(import.meta.dirname, '../..');
const project = `kw-compose-${randomBytes(4).toString('hex')}`;
const token = randomBytes(20).toString('hex');
const redisPassword = randomBytes(20).toString('hex');

/** Debian's docker-compose 1.29, else the compose plugin. */
const composeCommand = (): string[] =>
  spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0 ? ['docker-compose'] : [dockerBin, 'compose'];

function compose(...args: string[]): { status: number | null; output: string } {
  const [bin, ...pre] = composeCommand();
  const r = spawnSync(bin!, [...pre, '-p', project, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, KUBE_WORKER_API_TOKEN: token, REDIS_PASSWORD: redisPassword, KUBE_WORKER_IMAGE: image('kube-worker'), REDIS_IMAGE: image('redis') },
  });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

const listening = (port: number): Promise<boolean> =>
  new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => done(socket.destroy() === socket));
    socket.once('error', () => done(false));
  });

async function ready(url: string, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    // Docker's proxy accepts connections before the container listens: a request may never be answered.
    const status = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url} answered ${status} after ${withinMs} ms:\n${compose('logs', '--tail', '40').output}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describeImages('docker-compose.yml brought up', () => {
  beforeAll(async () => {
    for (const port of [8080, 9464]) {
      if (await listening(port)) throw new Error(`127.0.0.1:${port} is taken; docker-compose.yml publishes the dispatcher and executor there`);
    }
    const up = compose('up', '-d', '--no-build');
    if (up.status !== 0) throw new Error(`compose up failed:\n${up.output}`);
    await ready('http://127.0.0.1:8080/readyz', 90_000);
  }, 180_000);

  afterAll(() => {
    const down = compose('down', '--volumes', '--remove-orphans');
    if (down.status !== 0) process.stderr.write(`compose down failed:\n${down.output}\n`);
  }, 120_000);

  it('serves the API on 127.0.0.1:8080 and executor metrics on 127.0.0.1:9464, loopback only', async () => {
    expect(compose('port', 'dispatcher', '8080').output.trim()).toBe('127.0.0.1:8080');
    expect(compose('port', 'executor', '9464').output.trim()).toBe('127.0.0.1:9464');
    expect((await fetch('http://127.0.0.1:8080/healthz')).status).toBe(200);
    expect((await fetch('http://127.0.0.1:8080/api/v1/worker')).status).toBe(401);
    expect((await fetch('http://127.0.0.1:9464/metrics')).status).toBe(200);
  });

  it('runs an operation submitted with the CLI, which reads the same KUBE_WORKER_API_TOKEN', () => {
    // The CLI as `npx kube-worker` runs it, from its sources; the token in the environment comes first.
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'cli/main.ts', 'submit', 'echo "hello $WHO from $(id -u)"; exit 3', '--var', 'WHO=world', '--wait'],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, KUBE_WORKER_API_TOKEN: token },
      },
    );
    // The executor runs as root in its container, so the script runs as a user of its own from the
    // range (KUBE_WORKER_LOCAL_UIDS), never as root nor as the executor's image user.
    const uid = Number(/hello world from (\d+)/.exec(r.stdout)?.[1]);
    expect(uid).toBeGreaterThanOrEqual(2_000_000_000);
    expect(uid).toBeLessThanOrEqual(2_000_009_999);
    expect(r.status, r.stderr).toBe(3);
  });
});
