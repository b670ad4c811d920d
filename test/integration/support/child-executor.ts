/** An executor in a process of its own, started through the CLI, so a test can kill it for real. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import type { Stack } from './stack.js';
import { TOKEN } from './stack.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

export interface ChildExecutor {
  process: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

export async function spawnExecutor(stack: Stack, env: Record<string, string> = {}): Promise<ChildExecutor> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli/main.ts'), 'executor'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      REDIS_URL: stack.redisUrl,
      KUBE_WORKER_PREFIX: stack.config.prefix,
      KUBE_WORKER_API_TOKEN: TOKEN,
      KUBE_WORKER_WORK_DIR: stack.config.workDir,
      KUBE_WORKER_LOG_LEVEL: 'info',
      // Several may run at once; a test that reads an executor's metrics gives it a port.
      KUBE_WORKER_METRICS_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  // Generous: compiling the CLI on a loaded machine takes a while.
  const deadline = Date.now() + 90_000;
  while (!output.includes('executor started')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      // Never left behind to take operations of a later test.
      child.kill('SIGKILL');
      throw new Error(`executor did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { process: child, output: () => output, exited };
}
