/** An executor of a stack in a process of its own, started through the CLI, so a test can kill it for real. */
import { spawnCli, waitUntilStarted, type CliChild } from '../../support/cli-process.js';
import type { Stack } from './stack.js';
import { TOKEN } from './stack.js';

export type ChildExecutor = CliChild;

/** `user`: the uid and gid it runs as, when not the test's own. */
export async function spawnExecutor(stack: Stack, env: Record<string, string> = {}, user?: { uid: number; gid: number }): Promise<ChildExecutor> {
  const child = spawnCli(
    'executor',
    {
      REDIS_URL: stack.redisUrl,
      KUBE_WORKER_PREFIX: stack.config.prefix,
      KUBE_WORKER_API_TOKEN: TOKEN,
      KUBE_WORKER_WORK_DIR: stack.config.workDir,
      KUBE_WORKER_LOG_LEVEL: 'info',
      // Several may run at once; a test that reads an executor's metrics gives it a port.
      KUBE_WORKER_METRICS_PORT: '0',
      ...env,
    },
    Infinity,
    user,
  );
  // Generous: on a loaded machine, compiling the CLI on the fly takes a while.
  await waitUntilStarted('executor', child, () => child.output().includes('executor started'), 90_000);
  return child;
}

/** The executors a test spawned, so that its afterEach kills whichever still run. */
export interface ChildExecutors {
  spawn(stack: Stack, env?: Record<string, string>): Promise<ChildExecutor>;
  killAll(): void;
}

export function childExecutors(): ChildExecutors {
  const children: ChildExecutor[] = [];
  return {
    async spawn(stack, env) {
      const child = await spawnExecutor(stack, env);
      children.push(child);
      return child;
    },
    killAll() {
      for (const child of children.splice(0)) if (child.process.exitCode === null) child.process.kill('SIGKILL');
    },
  };
}
