/** Several dispatchers and executors of one deployment, each a process of its own, on a Redis. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startDispatcher, startExecutor, type CliProcess, type Deployment } from './cli-process.js';

export interface Processes {
  deployment: Deployment;
  dispatchers: CliProcess[];
  executors: CliProcess[];
  /** Another executor of the same deployment. */
  addExecutor(env?: Record<string, string>): Promise<CliProcess>;
  /** Kills what still runs and removes the work dir. */
  close(): Promise<void>;
}

export async function startProcesses(
  redisUrl: string,
  /** `prefix`: the deployment's key prefix; a new one unless given. */
  counts: { dispatchers: number; executors: number; prefix?: string },
  executorEnv: Record<string, string> = {},
  dispatcherEnv: Record<string, string> = {},
): Promise<Processes> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'kw-faults-work-'));
  const deployment: Deployment = { redisUrl, prefix: counts.prefix ?? `f${randomBytes(4).toString('hex')}`, workDir };
  const all: CliProcess[] = [];
  const started = async (starting: Promise<CliProcess>): Promise<CliProcess> => {
    const process = await starting;
    all.push(process);
    return process;
  };
  const close = async (): Promise<void> => {
    await Promise.all(all.map((p) => p.kill('SIGKILL')));
    await rm(workDir, { recursive: true, force: true });
  };
  const dispatchers = Array.from({ length: counts.dispatchers }, () => started(startDispatcher(deployment, dispatcherEnv)));
  const executors = Array.from({ length: counts.executors }, () => started(startExecutor(deployment, executorEnv)));
  // Every start settles before a failure is reported, so that none is left running behind it.
  const failed = (await Promise.allSettled([...dispatchers, ...executors])).find((s) => s.status === 'rejected');
  if (failed) {
    await close();
    throw failed.reason;
  }
  return {
    deployment,
    dispatchers: await Promise.all(dispatchers),
    executors: await Promise.all(executors),
    addExecutor: (env = {}) => started(startExecutor(deployment, { ...executorEnv, ...env })),
    close,
  };
}
