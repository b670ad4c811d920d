/**
 * Redis behind Sentinel fails over under load: a primary, two replicas and three Sentinels; two
 * dispatchers and two executors (processes of their own, on the redis+sentinel:// URL); 500
 * submissions, the primary SIGKILLed a third of the way through. Then the killed node comes back
 * as a replica and a second failover moves the primary back to it (the other replica made unfit
 * for promotion, the new primary SIGKILLed), under load again.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { keys } from '../../core/keys.js';
import { useDeployment, type Processes } from './support/deployment.js';
import { countedOperation, firstStartAfter, markerFile, settle, type Figures } from './support/ledger.js';
import { Load } from './support/load.js';
import { report, stopwatch } from './support/report.js';
import type { RedisNode, SentinelGroup } from './support/sentinel-group.js';

/** What Redis holds of the deployment: records by state, the queue's lists, the mutexes; kept when the test fails. */
async function redisState(group: SentinelGroup, prefix: string): Promise<Record<string, unknown>> {
  const redis = new Redis((await group.primary()).url, { maxRetriesPerRequest: 1 });
  const pool = keys(prefix).pool('default');
  try {
    const states: Record<string, number> = {};
    const samples: Record<string, Record<string, string>> = {};
    for await (const batch of redis.scanStream({ match: pool.operation('*'), count: 1000 }) as AsyncIterable<string[]>) {
      for (const key of batch.filter((k) => !/:(payload|log)$/.test(k))) {
        const record = await redis.hgetall(key);
        states[record.state ?? '?'] = (states[record.state ?? '?'] ?? 0) + 1;
        if (record.state === 'pending' || record.state === 'running') samples[key] ??= record;
      }
    }
    const queue = `${pool.queuePrefix}:default`;
    const lists = Object.fromEntries(
      await Promise.all(
        ['wait', 'active', 'paused']
          .map(async (l) => [l, await redis.llen(`${queue}:${l}`)] as const)
          .concat(['delayed', 'prioritized', 'completed', 'failed'].map(async (z) => [z, await redis.zcard(`${queue}:${z}`)] as const)),
      ),
    );
    const mutex = await redis.zrange(keys(prefix).mutex('pool:default').readers, 0, -1, 'WITHSCORES');
    return {
      states,
      lists,
      executors: await redis.zrange(keys(prefix).executors, 0, -1, 'WITHSCORES'),
      readers: mutex.length / 2,
      samples: Object.entries(samples).slice(0, 10),
    };
  } finally {
    redis.disconnect();
  }
}

/** What a failed run leaves to read: each process's output and what Redis holds. */
async function keepEvidence(group: SentinelGroup, processes: Processes): Promise<void> {
  const kept = path.join(os.tmpdir(), `kw-sentinel-failover-${Date.now()}`);
  const all = [...processes.dispatchers.map((p, i) => [`dispatcher-${i}`, p] as const), ...processes.executors.map((p, i) => [`executor-${i}`, p] as const)];
  await Promise.all(all.map(([name, p]) => writeFile(`${kept}-${name}.log`, p.output())));
  const state = await redisState(group, processes.deployment.prefix).catch((error: Error) => ({ unreadable: error.message }));
  await writeFile(`${kept}-redis.json`, JSON.stringify(state, null, 1));
  console.error(`the processes' output and what Redis held are in ${kept}-*`);
}

interface Phase {
  figures: Figures;
  load: Load;
  /** From the fault to the Sentinels naming a new primary that answers as one, s. */
  failoverSeconds: number;
  /** From that promotion to the first operation an executor started, s. */
  newWorkSeconds: number | undefined;
}

describe('Redis behind Sentinel, failing over during 500 submissions', () => {
  const start = useDeployment();
  let group: SentinelGroup | undefined;
  let processes: Processes | undefined;
  // Registered after useDeployment's, so it runs first: the evidence is read before all is closed.
  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail' && group && processes) await keepEvidence(group, processes);
  });

  /** `count` submissions; a third of the way through, the primary `victim` names is SIGKILLed and a replica promoted. */
  async function underLoad(fault: string, count: number, victim: () => Promise<RedisNode>): Promise<Phase> {
    const dispatchers = processes!.dispatchers.map((d) => d.url);
    const marker = await markerFile();
    const load = new Load({ dispatchers, count, clients: 4, pauseMs: 40, operation: countedOperation(marker, 0.2), ticketPrefix: fault });
    await Promise.race([load.whenAccepted(Math.floor(count / 3)), load.done]);
    load.phase = 'failover';
    const primary = await victim();
    const at = Date.now();
    await group!.kill(primary, 'SIGKILL');
    const { at: promoted } = await group!.promotion(primary);
    load.phase = 'after';
    await load.done;
    const figures = await settle(dispatchers[0]!, load.accepted, marker, 90_000);
    const firstStart = await firstStartAfter(dispatchers[0]!, load.accepted, promoted);
    return { figures, load, failoverSeconds: (promoted - at) / 1000, newWorkSeconds: firstStart === undefined ? undefined : (firstStart - promoted) / 1000 };
  }

  function expectKept(phase: Phase): void {
    expect({ hangs: phase.load.hangs.length, unexpected: phase.load.unexpected.slice(0, 3) }).toEqual({ hangs: 0, unexpected: [] });
    expect(phase.load.longestWaitMs).toBeLessThanOrEqual(10_000);
    expect(phase.figures).toMatchObject({ submitted: phase.load.accepted.size, ended: phase.load.accepted.size, repeated: 0, lost: 0, ranUnaccepted: 0 });
    expect(phase.figures.outcomes).toEqual({ succeeded: phase.load.accepted.size });
    expect(phase.newWorkSeconds).toBeDefined();
    expect(phase.newWorkSeconds!).toBeLessThanOrEqual(30);
  }

  it(
    'every accepted operation ends once, clients get an answer within 10 s, and executors take new work within 30 s of each promotion',
    { timeout: 480_000 },
    async () => {
      const clock = stopwatch();
      group = await start.sentinelGroup();
      processes = await start.processes(group.url, { dispatchers: 2, executors: 2 }, { KUBE_WORKER_CONCURRENCY: '8', KUBE_WORKER_LOCK_DURATION_MS: '10000' });
      clock.lap('start');
      const first = group.nodes[0]!;
      expect((await group.primary()).port).toBe(first.port);

      const failOver = async (title: string, lap: string, ...load: Parameters<typeof underLoad>): Promise<Phase> => {
        const phase = await underLoad(...load);
        clock.lap(lap);
        report(title, phase.load, phase.figures, { ...clock.laps, failover: phase.failoverSeconds, newWork: phase.newWorkSeconds ?? -1 });
        return phase;
      };

      const killed = await failOver('Sentinel: primary SIGKILLed', 'first failover', 'sentinel-kill', 500, async () => first);
      await group.restartAsReplica(first);
      await group.replicasInSync(2);
      await group.preferReplica(first);
      const back = await failOver('Sentinel: failover back to the first node', 'second failover', 'sentinel-back', 200, () => group!.primary());
      expect((await group.primary()).port).toBe(first.port);

      expectKept(killed);
      expectKept(back);
    },
  );
});
