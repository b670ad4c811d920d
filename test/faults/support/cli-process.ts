/**
 * Dispatchers and executors of one deployment in processes of their own, started with the product's
 * CLI as an operator starts them, so that a test can kill them for real.
 */
import { healthy, spawnCli, waitUntilStarted, type CliChild } from '../../support/cli-process.js';
import { freePort } from '../../support/free-port.js';

/** Enough of a process's output to say why it failed, without keeping a log flood in memory. */
const KEPT_OUTPUT = 256 * 1024;
/** Generous: on a busy machine a process compiles its TypeScript slowly. */
const STARTS_WITHIN = 300_000;

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

function startCli(command: 'dispatcher' | 'executor', deployment: Deployment, env: Record<string, string>): CliChild {
  return spawnCli(
    command,
    {
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
    KEPT_OUTPUT,
  );
}

function handle(cli: CliChild, url: string): CliProcess {
  const child = cli.process;
  return {
    pid: child.pid!,
    url,
    output: cli.output,
    async kill(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await cli.exited;
    },
  };
}

export async function startDispatcher(deployment: Deployment, env: Record<string, string> = {}): Promise<CliProcess> {
  const port = await freePort();
  const cli = startCli('dispatcher', deployment, { PORT: String(port), ...env });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilStarted('dispatcher', cli, () => healthy(url), STARTS_WITHIN);
  return handle(cli, url);
}

export async function startExecutor(deployment: Deployment, env: Record<string, string> = {}): Promise<CliProcess> {
  const cli = startCli('executor', deployment, env);
  await waitUntilStarted('executor', cli, () => cli.output().includes('executor started'), STARTS_WITHIN);
  return handle(cli, '');
}
