/**
 * Dispatchers and executors in processes of their own, started with the product's CLI as an
 * operator starts them, so that a test can kill them for real.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { freePort } from './redis-server.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
/** Enough of a process's output to say why it failed, without keeping a log flood in memory. */
const KEPT_OUTPUT = 256 * 1024;

export const TOKEN = 'faults-token-0123456789abcdef';

export interface Deployment {
  redisUrl: string;
  prefix: string;
  workDir: string;
}

export interface CliProcess {
  readonly pid: number;
  /** The API's URL, for a dispatcher. */
  readonly url: string;
  /** The end of what it printed. */
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

function startCli(command: 'dispatcher' | 'executor', deployment: Deployment, env: Record<string, string>): { child: ChildProcess; output(): string } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli/main.ts'), command], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HOST: '127.0.0.1',
      REDIS_URL: deployment.redisUrl,
      KUBE_WORKER_PREFIX: deployment.prefix,
      KUBE_WORKER_API_TOKEN: TOKEN,
      KUBE_WORKER_WORK_DIR: deployment.workDir,
      KUBE_WORKER_RUNTIME: 'local',
      KUBE_WORKER_LOG_LEVEL: 'info',
      KUBE_WORKER_METRICS_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output += chunk.toString();
    if (output.length > 2 * KEPT_OUTPUT) output = output.slice(-KEPT_OUTPUT);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, output: () => output };
}

function handle(child: ChildProcess, url: string, output: () => string): CliProcess {
  return {
    pid: child.pid!,
    url,
    output,
    async kill(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
  };
}

async function waitUntil(what: string, child: ChildProcess, output: () => string, ready: () => Promise<boolean>): Promise<void> {
  // Generous: on a busy machine a process compiles its TypeScript slowly.
  const deadline = Date.now() + 300_000;
  while (!(await ready())) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${what} did not start:\n${output().slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startDispatcher(deployment: Deployment, env: Record<string, string> = {}): Promise<CliProcess> {
  const port = await freePort();
  const { child, output } = startCli('dispatcher', deployment, { PORT: String(port), ...env });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil('dispatcher', child, output, async () => {
    try {
      return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })).ok;
    } catch {
      return false;
    }
  });
  return handle(child, url, output);
}

export async function startExecutor(deployment: Deployment, env: Record<string, string> = {}): Promise<CliProcess> {
  const { child, output } = startCli('executor', deployment, env);
  await waitUntil('executor', child, output, async () => output().includes('executor started'));
  return handle(child, '', output);
}
