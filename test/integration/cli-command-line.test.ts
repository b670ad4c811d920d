/**
 * The command line as a newcomer meets it: help and version exit 0, a wrong command or option exits
 * 2 with one line; client commands load none of the server stack; the server commands log readable
 * lines on a terminal and JSON into a pipe.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { VERSION } from '../../core/version.js';
import { deploymentKeys } from '../support/deployment-keys.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const RECORDER = path.join(ROOT, 'test/unit/support/record-modules.mjs');
const dir = mkdtempSync(path.join(os.tmpdir(), 'kw-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', ...(env.RECORD_MODULES_TO ? ['--import', RECORDER] : []), 'cli/main.ts', ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, KUBE_WORKER_URL: 'http://127.0.0.1:1', KUBE_WORKER_API_TOKEN: 'a-token-of-16-chars-or-more', ...env },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('kube-worker help, version and usage errors', () => {
  it.each([['--help'], ['-h'], ['help'], ['help', 'submit'], ['submit', '--help'], ['status', '-h']])('%s prints usage and exits 0', async (...args) => {
    const result = await cli(args);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^Usage: kube-worker /);
  });

  it('--version prints the version', async () => {
    expect(await cli(['--version'])).toEqual({ code: 0, stdout: `kube-worker ${VERSION}\n`, stderr: '' });
  });

  it.each([
    [['frobnicate'], /^kube-worker: unknown command "frobnicate"; the commands are .* \(kube-worker --help\)\n$/],
    [['submit', 'true', '--wiat'], /^kube-worker: unknown option --wiat for submit \(see kube-worker submit --help\)\n$/],
    [['status'], /^kube-worker: status needs <ticket>\.\.\. \(see kube-worker status --help\)\n$/],
    [['status', 't', '--output', 'yaml'], /^kube-worker: --output must be table or json, not "yaml" \(see kube-worker status --help\)\n$/],
    [['submit', 'true', '--timeout', 'soon'], /^kube-worker: --timeout takes whole seconds, not "soon" \(see kube-worker submit --help\)\n$/],
    [['submit', 'true', '--cancel-on-interrupt'], /^kube-worker: --cancel-on-interrupt goes with --wait/],
    [['--verbose'], /^kube-worker: unknown option --verbose \(see kube-worker --help\)\n$/],
  ])('%j exits 2 with one line saying what is wrong', async (args, message) => {
    const result = await cli(args);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(message);
  });
});

describe('what each command loads', () => {
  const SERVER_STACK = /\/node_modules\/(fastify|bullmq|ioredis|@kubernetes|@bull-board|pino|prom-client|@sinclair)\/|\/(dispatcher|executor)\//;

  it.each([
    ['--help'],
    ['--version'],
    ['submit', 'true', '--wait'],
    ['status', 't-1'],
    ['logs', 't-1', '--follow'],
    ['cancel', 't-1'],
    ['queues'],
    ['completion', 'bash'],
  ])('%s loads none of the server stack', async (...args) => {
    const file = path.join(dir, `${args.join('-')}.modules`);
    await cli(args, { RECORD_MODULES_TO: file });
    const loaded = readFileSync(file, 'utf8').split('\n');
    expect(loaded.some((url) => url.includes('/cli/main.ts'))).toBe(true);
    expect(loaded.filter((url) => SERVER_STACK.test(url))).toEqual([]);
  });

  it('a server command does load it (so the check above can see it)', async () => {
    const file = path.join(dir, 'start.modules');
    // An invalid setting stops `start` right after it has loaded its code, before it connects anywhere.
    const result = await cli(['start'], { RECORD_MODULES_TO: file, KUBE_WORKER_RUNTIME: 'nonsense' });
    expect(result.code).toBe(1);
    const loaded = readFileSync(file, 'utf8');
    expect(loaded).toMatch(/\/node_modules\/fastify\//);
    expect(loaded).toMatch(/\/node_modules\/bullmq\//);
  });
});

describe('server logs', () => {
  const redisUrl = inject('redisUrl');

  /** Starts `kube-worker executor`, on a pseudo-terminal or into a pipe, until it says it has started; returns what it printed. */
  async function executorOutput(onTerminal: boolean, env: Record<string, string> = {}): Promise<string> {
    const prefix = `t${Math.random().toString(16).slice(2, 10)}`;
    const command = [process.execPath, '--import', 'tsx', 'cli/main.ts', 'executor'];
    const child = spawn(onTerminal ? 'script' : command[0]!, onTerminal ? ['-qec', command.join(' '), '/dev/null'] : command.slice(1), {
      cwd: ROOT,
      detached: true,
      env: {
        PATH: process.env.PATH,
        TERM: 'xterm',
        REDIS_URL: redisUrl,
        KUBE_WORKER_PREFIX: prefix,
        KUBE_WORKER_API_TOKEN: 'a-token-of-16-chars-or-more',
        KUBE_WORKER_RUNTIME: 'local',
        KUBE_WORKER_METRICS_PORT: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(child, 'exit');
    try {
      await expect.poll(() => output, { timeout: 90_000, interval: 100 }).toContain('executor started');
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
      const redis = new Redis(redisUrl);
      const keys = await deploymentKeys(redis, prefix);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
    return output;
  }

  it('are readable, coloured lines on a terminal', async () => {
    const output = await executorOutput(true);
    // eslint-disable-next-line no-control-regex -- the colours are what is checked
    expect(output).toMatch(/^\x1b\[2m\d\d:\d\d:\d\d\.\d{3}\x1b\[0m \x1b\[32mINFO \x1b\[0m executor started .*\x1b\[2mpools=\x1b\[0m\["default"\]/m);
    expect(output).not.toContain('{"level"');
  }, 180_000);

  it('are JSON into a pipe', async () => {
    expectJsonLines(await executorOutput(false));
  }, 180_000);

  it('are JSON on a terminal too when KUBE_WORKER_LOG_FORMAT=json', async () => {
    expectJsonLines(await executorOutput(true, { KUBE_WORKER_LOG_FORMAT: 'json' }));
  }, 180_000);
});

describe('kube-worker start that cannot complete', () => {
  // As root, scripts run as another user, who cannot get through this test's 0700 temp dir.
  it.runIf(process.getuid?.() === 0)(
    'exits 1 saying why, and leaves no private Redis running',
    async () => {
      const state = path.join(dir, 'unreachable');
      const result = await cli(['start'], { PORT: '0', KUBE_WORKER_STATE_DIR: state, KUBE_WORKER_WORK_DIR: path.join(state, 'work') });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/cannot reach the work dir/);
      // redis-server renames its process, but works in its --dir: find it by that.
      const redisInState = readdirSync('/proc').filter((pid) => {
        try {
          return (
            /^\d+$/.test(pid) && readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('redis-server') && readlinkSync(`/proc/${pid}/cwd`).startsWith(state)
          );
        } catch {
          return false; // gone meanwhile
        }
      });
      expect(redisInState).toEqual([]);
    },
    120_000,
  );
});

function expectJsonLines(output: string): void {
  const lines = output.split(/\r?\n/).filter(Boolean);
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(JSON.parse(line)).toMatchObject({ level: expect.any(Number), msg: expect.any(String) });
}
