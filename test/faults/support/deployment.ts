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
  /** Kills what still runs and removes the work dir; says what each process printed last when asked. */
  close(): Promise<void>;
}

export async function startProcesses(redisUrl: string, counts: { dispatchers: number; executors: number }, executorEnv: Record<string, string> = {}): Promise<Processes> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'kw-faults-work-'));
  const deployment: Deployment = { redisUrl, prefix: `f${randomBytes(4).toString('hex')}`, workDir };
  const all: CliProcess[] = [];
  const started = <T extends CliProcess>(p: Promise<T>): Promise<T> => p.then((process) => (all.push(process), process));
  const [dispatchers, executors] = await Promise.all([
    Promise.all(Array.from({ length: counts.dispatchers }, () => started(startDispatcher(deployment)))),
    Promise.all(Array.from({ length: counts.executors }, () => started(startExecutor(deployment, executorEnv)))),
  ]);
  return {
    deployment,
    dispatchers,
    executors,
    addExecutor: (env = {}) => started(startExecutor(deployment, { ...executorEnv, ...env })),
    async close() {
      await Promise.all(all.map((p) => p.kill('SIGKILL')));
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
