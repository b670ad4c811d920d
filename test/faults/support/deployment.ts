/** Several dispatchers and executors of one deployment, each a process of its own, on a Redis. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { startOwnRedis, type OwnRedis } from '../../support/redis-server.js';
import { startDispatcher, startExecutor, type CliProcess, type Deployment } from './cli-process.js';
import { startSentinelGroup, type SentinelGroup } from './sentinel-group.js';

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

/** What a fault test starts; useDeployment stops and removes all of it after each test. */
export interface DeploymentFixture {
  /** A Redis of the test's own, with AOF, so that a restart keeps what it acknowledged. */
  ownRedis(): Promise<OwnRedis>;
  /** A primary, its replicas and three Sentinels. */
  sentinelGroup(): Promise<SentinelGroup>;
  /** A deployment's processes on `redisUrl` (startProcesses). */
  processes(...args: Parameters<typeof startProcesses>): Promise<Processes>;
}

/**
 * Per test: the Redis and the deployments a test starts, closed after it whatever became of it —
 * the processes first, so that none is left retrying a Redis that is gone.
 */
export function useDeployment(): DeploymentFixture {
  const deployments: Processes[] = [];
  let redis: OwnRedis | undefined;
  let group: SentinelGroup | undefined;
  afterEach(async () => {
    for (const processes of deployments.splice(0)) await processes.close();
    await redis?.remove();
    await group?.remove();
    redis = undefined;
    group = undefined;
  });
  return {
    ownRedis: async () => (redis = await startOwnRedis({ aof: true })),
    sentinelGroup: async () => (group = await startSentinelGroup()),
    async processes(...args) {
      const processes = await startProcesses(...args);
      deployments.push(processes);
      return processes;
    },
  };
}
