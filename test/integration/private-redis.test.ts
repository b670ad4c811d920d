/**
 * `kube-worker start`'s private Redis is the product's alone: a script (run as `nobody` under a
 * root executor) that tries every listening TCP port and every Unix socket it can find on the
 * machine, and the state folder, reaches no operation's data — not even the payload, with its
 * secrets, of an operation running beside it. Nor does it find the executor's settings in its own
 * environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { keys } from '../../core/keys.js';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { LogStream } from '../../core/contract/status.js';
import type { LogWriter } from '../../core/log-store.js';
import type { OperationRequest } from '../../core/contract/operation.js';
import { LocalRuntime } from '../../executor/local/local-runtime.js';
import { ScriptOutput } from '../../executor/output/script-output.js';
import { freePort } from '../support/free-port.js';
import { BASE_ENV } from './support/stack.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Run by the script: asks every endpoint whether the victim's payload key exists (`:1` — reached
 * the data, `:0` — another Redis, `-NOAUTH …` — locked), and reads the state folder.
 */
const PROBE = String.raw`
import fs from 'node:fs';
import net from 'node:net';
const [key, stateDir] = process.argv.slice(2);
const endpoints = [];
for (const [file, host] of [['/proc/net/tcp', '127.0.0.1'], ['/proc/net/tcp6', '::1']]) {
  let table = '';
  try { table = fs.readFileSync(file, 'utf8'); } catch { continue; }
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[3] !== '0A') continue; // LISTEN
    endpoints.push({ name: 'tcp ' + host + ':' + parseInt(f[1].split(':')[1], 16), options: { host, port: parseInt(f[1].split(':')[1], 16) } });
  }
}
for (const line of fs.readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
  const socket = line.trim().split(/\s+/)[7];
  if (socket && socket.startsWith('/')) endpoints.push({ name: 'unix ' + socket, options: { path: socket } });
}
const ask = ({ name, options }) => new Promise((done) => {
  const connection = net.connect(options);
  let reply = '';
  let ended = false;
  const end = (what) => { if (!ended) { ended = true; connection.destroy(); done(name + ' ' + what); } };
  connection.setTimeout(1500, () => end('timeout'));
  connection.on('error', (error) => end(error.code));
  connection.on('close', () => end('closed'));
  connection.on('connect', () => connection.write('*2\r\n$6\r\nEXISTS\r\n$' + Buffer.byteLength(key) + '\r\n' + key + '\r\n'));
  connection.on('data', (chunk) => {
    reply += chunk.toString('latin1');
    if (reply.includes('\r\n')) end('reply ' + reply.split('\r\n')[0]);
  });
});
for (const line of await Promise.all(endpoints.map(ask))) console.log(line);
for (const file of [stateDir, stateDir + '/redis', stateDir + '/redis/redis.conf', stateDir + '/redis/appendonlydir']) {
  try {
    const found = fs.statSync(file).isDirectory() ? fs.readdirSync(file).join(',') : fs.readFileSync(file, 'utf8').length + ' bytes';
    console.log('state ' + file + ' read ' + found);
  } catch (error) {
    console.log('state ' + file + ' ' + error.code);
  }
}
`;

describe.runIf(process.getuid?.() === 0)('the private Redis of kube-worker start', () => {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'kw-private-redis-'));
  // Its work dir is under it: the scripts' user must get through, as under $TMPDIR/kube-worker.
  chmodSync(stateDir, 0o711);
  let url: string;
  let token: string;
  let server: ChildProcess;
  let output = '';
  let victim: string | undefined;

  const api = async (method: string, route: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'start'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(port),
        KUBE_WORKER_STATE_DIR: stateDir,
        KUBE_WORKER_WORK_DIR: path.join(stateDir, 'work'),
        KUBE_WORKER_CONCURRENCY: '2',
        KUBE_WORKER_LOG_LEVEL: 'info',
        // What is tested is isolation, not how soon a slow Redis gets a 503: on a machine busy with
        // other suites an AOF fsync can hold the private Redis past the 1 s default again and again.
        KUBE_WORKER_REDIS_COMMAND_TIMEOUT_MS: '10000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 90_000;
    while (
      !(await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (server.exitCode !== null || Date.now() > deadline) throw new Error(`start did not become ready:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    token = readFileSync(path.join(stateDir, 'api-token'), 'utf8').trim();
  }, 120_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      // A graceful stop, which stops its Redis too; the victim, cancelled, does not hold it up.
      if (victim) await api('POST', `/api/v1/operations/${victim}/cancel`).catch(() => undefined);
      const exited = once(server, 'exit');
      server.kill('SIGTERM');
      const forced = setTimeout(() => server.kill('SIGKILL'), 45_000);
      await exited;
      clearTimeout(forced);
    }
    rmSync(stateDir, { recursive: true, force: true });
  }, 60_000);

  it('prints no password and no TCP address for it', () => {
    expect(output).toMatch(new RegExp(`private Redis started on the Unix socket ${stateDir}/redis/redis.sock`));
    expect(output).not.toMatch(/redis:\/\/|password=/);
  });

  it("a script that tries every port, every socket and the state folder reaches no operation's data", async () => {
    victim = `victim-${Date.now()}`;
    const secret = 'victim-secret-4471';
    const submit = (): ReturnType<typeof api> =>
      api('POST', '/api/v1/operations', {
        ticket: victim,
        pool: 'default',
        script: { syntax: 'bash', body: 'sleep 60' },
        variables: { DB_PASSWORD: { value: secret, sensitive: true } },
      });
    // A 503 says "retry shortly" (the server just started on a busy machine); a client does, with the same body.
    onTestFailed(() => console.info(`kube-worker start's output, last 4,000 characters:\n${output.slice(-4000)}`));
    await expect.poll(async () => (await submit()).status, { timeout: 60_000, interval: 500 }).toBeOneOf([200, 202]);
    await expect.poll(async () => (await api('GET', `/api/v1/operations/${victim}`)).body.state, { timeout: 30_000 }).toBe('running');

    const prober = `prober-${Date.now()}`;
    const body = `env | cut -d= -f1 | sed 's/^/env /'; "${process.execPath}" probe.mjs kw:op:${victim}:payload ${stateDir}`;
    const files = [{ name: 'probe.mjs', content: Buffer.from(PROBE).toString('base64') }];
    expect((await api('POST', '/api/v1/operations', { ticket: prober, pool: 'default', script: { syntax: 'bash', body }, files })).status).toBe(202);
    let status: Record<string, unknown> = {};
    await expect
      .poll(async () => (status = (await api('GET', `/api/v1/operations/${prober}?afterSequence=0&limit=10000`)).body).state, { timeout: 60_000 })
      .toMatch(/succeeded|failed/);
    const lines = (status.logs as { stream: string; text: string }[]).filter((l) => l.stream === 'stdout').map((l) => l.text);

    // The probe ran: it saw the private Redis's socket and could not connect to it.
    expect(lines).toContain(`unix ${stateDir}/redis/redis.sock EACCES`);
    expect(lines.filter((l) => l.startsWith('tcp ')).length).toBeGreaterThan(0);
    // No endpoint, TCP or Unix, held the victim's payload.
    expect(lines.filter((l) => l.endsWith(' reply :1'))).toEqual([]);
    // The state folder's Redis files are closed to it.
    expect(lines).toEqual(expect.arrayContaining([`state ${stateDir}/redis EACCES`, `state ${stateDir}/redis/redis.conf EACCES`]));
    expect(lines.join('\n')).not.toContain(secret);
    // The executor's settings are not in the script's environment.
    const names = lines.filter((l) => l.startsWith('env ')).map((l) => l.slice(4));
    expect(
      names.filter((n) => n === 'REDIS_URL' || n === 'PORT' || (n.startsWith('KUBE_WORKER_') && !['KUBE_WORKER_TICKET', 'KUBE_WORKER_WORKSPACE'].includes(n))),
    ).toEqual([]);

    // The payload was there all along, for the product's own clients (with the password).
    const password = /^requirepass (\S+)$/m.exec(readFileSync(path.join(stateDir, 'redis', 'redis.conf'), 'utf8'))![1]!;
    const redis = new Redis(`${stateDir}/redis/redis.sock?password=${password}`);
    try {
      expect(await redis.exists(keys('kw').pool('default').payload(victim))).toBe(1);
    } finally {
      redis.disconnect();
    }
    // Without it, the socket answers nothing but NOAUTH, even to root.
    const anonymous = new Redis({ path: `${stateDir}/redis/redis.sock`, maxRetriesPerRequest: 0, retryStrategy: () => null, enableReadyCheck: false });
    anonymous.on('error', () => undefined); // what the command answers is checked below
    try {
      await expect(anonymous.exists(`kw:op:${victim}:payload`)).rejects.toThrow(/NOAUTH/);
    } finally {
      anonymous.disconnect();
    }
  }, 120_000);
});

describe("the executor's Redis URL and settings", () => {
  it("never reach a script's environment, as compose's executor has them", async () => {
    const lines: string[] = [];
    const writer = {
      append: (_stream: LogStream, text: string) => void lines.push(text),
      note: () => undefined,
      lastSequence: 0,
      close: async () => undefined,
    } as unknown as LogWriter;
    const executorEnv = {
      ...BASE_ENV,
      REDIS_URL: 'redis://:compose-password-1@redis:6379',
      KUBE_WORKER_API_TOKEN: 'token-0123456789abcdef',
      KUBE_WORKER_RUNTIME: 'local',
      KUBE_WORKER_PREFIX: 'kw',
    };
    const runtime = await LocalRuntime.start({ workDir: await mkdtemp(path.join(os.tmpdir(), 'kw-env-')), baseEnv: executorEnv });
    const outcome = await runtime.run({
      ticket: 'env-test',
      request: { pool: 'default', script: { syntax: 'bash', body: 'env' } } as OperationRequest,
      timeoutSeconds: 30,
      output: new ScriptOutput(writer, []),
      started: async () => undefined,
      moment: () => undefined,
      signal: new AbortController().signal,
    });
    await runtime.close();
    expect(outcome.exitCode).toBe(0);
    const names = lines.map((line) => line.split('=')[0]!);
    expect(names).toContain('PATH');
    expect(names.filter((n) => n === 'REDIS_URL' || (n.startsWith('KUBE_WORKER_') && !['KUBE_WORKER_TICKET', 'KUBE_WORKER_WORKSPACE'].includes(n)))).toEqual(
      [],
    );
    expect(lines.join('\n')).not.toContain('compose-password-1');
  });
});
