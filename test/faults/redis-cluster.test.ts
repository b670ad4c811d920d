/**
 * A Redis Cluster fails over under load: 3 primaries and 3 replicas (test/faults/support/redis-cluster.ts);
 * 2 dispatchers and 2 executors (processes of their own, on the redis+cluster:// URL); 3 pools whose
 * keys live on 3 different primaries, 100 submissions each; the primary of one pool's shard
 * SIGKILLed halfway through, so that its replica takes over.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { keys } from '../../core/keys.js';
import { call } from './support/client.js';
import { startProcesses, type Processes } from './support/deployment.js';
import { countedOperation, firstStartAfter, markerFile, settle } from './support/ledger.js';
import { Load } from './support/load.js';
import { askRedis } from '../support/redis-server.js';
import { startRedisCluster, type ClusterNode, type RedisCluster } from './support/redis-cluster.js';
import { report, stopwatch } from './support/report.js';

const PER_POOL = 100;

/** Per pool, the seconds from `from` (ms) to the last end of its operations, read back from their timings. */
async function lastEndByPool(dispatcherUrl: string, tickets: string[], poolOf: (ticket: string) => string, from: number): Promise<Record<string, number>> {
  const last: Record<string, number> = {};
  for (let i = 0; i < tickets.length; i += 16) {
    await Promise.all(
      tickets.slice(i, i + 16).map(async (ticket) => {
        const outcome = await call(dispatcherUrl, 'GET', `/api/v1/operations/${ticket}?limit=1`);
        const finishedAt = outcome.kind === 'answer' ? Date.parse((outcome.body as { timings?: { finishedAt?: string } }).timings?.finishedAt ?? '') : NaN;
        const pool = poolOf(ticket);
        if (Number.isFinite(finishedAt)) last[pool] = Math.max(last[pool] ?? -Infinity, Math.round((finishedAt - from) / 100) / 10);
      }),
    );
  }
  return last;
}

/** Three pool names whose slots are served by three different primaries, with each one's primary. */
async function poolsOnEveryPrimary(cluster: RedisCluster, prefix: string): Promise<Array<{ pool: string; primary: ClusterNode }>> {
  const chosen: Array<{ pool: string; primary: ClusterNode }> = [];
  for (let i = 0; chosen.length < 3; i += 1) {
    const pool = `pool-${i}`;
    const primary = await cluster.primaryOf(await cluster.slotOf(keys(prefix).pool(pool).queuePrefix));
    if (!chosen.some((c) => c.primary === primary)) chosen.push({ pool, primary });
  }
  return chosen;
}

describe('a Redis Cluster failing over during 300 submissions to 3 pools', () => {
  let cluster: RedisCluster | undefined;
  let processes: Processes | undefined;
  afterEach(async () => {
    await processes?.close();
    await cluster?.remove();
  });

  // Minutes: six Redis nodes and four processes start on a machine busy with other tests.
  it('keeps each pool on its own primary; every accepted operation ends once, and clients get an answer within 10 s', { timeout: 480_000 }, async () => {
    const clock = stopwatch();
    cluster = await startRedisCluster();
    const prefix = `c${randomBytes(4).toString('hex')}`;
    const pools = await poolsOnEveryPrimary(cluster, prefix);
    const env = { KUBE_WORKER_POOLS: pools.map((p) => p.pool).join(',') };
    processes = await startProcesses(
      cluster.url,
      { dispatchers: 2, executors: 2, prefix },
      { ...env, KUBE_WORKER_CONCURRENCY: '8', KUBE_WORKER_LOCK_DURATION_MS: '10000' },
      env,
    );
    onTestFailed(async () => {
      const kept = path.join(os.tmpdir(), `kw-redis-cluster-${Date.now()}`);
      const all = [
        ...processes!.dispatchers.map((p, i) => [`dispatcher-${i}`, p] as const),
        ...processes!.executors.map((p, i) => [`executor-${i}`, p] as const),
      ];
      await Promise.all(all.map(([name, p]) => writeFile(`${kept}-${name}.log`, p.output())));
      console.error(`the processes' output is in ${kept}-*.log`);
    });
    clock.lap('start');

    const dispatchers = processes.dispatchers.map((d) => d.url);
    const marker = await markerFile();
    const counted = countedOperation(marker, 0.2);
    const poolOf = (ticket: string): string => pools[Number(ticket.slice(ticket.lastIndexOf('-') + 1)) % pools.length]!.pool;
    const count = PER_POOL * pools.length;
    const load = new Load({
      dispatchers,
      count,
      clients: 6,
      pauseMs: 40,
      operation: (ticket) => ({ ...counted(ticket), pool: poolOf(ticket) }),
      ticketPrefix: 'cluster',
    });
    await Promise.race([load.whenAccepted(Math.floor(count / 2)), load.done]);

    // Each pool's records and queue are on its own primary: the slot of its hash tag holds its keys.
    const placed = await Promise.all(
      pools.map(async ({ pool, primary }) => {
        const k = keys(prefix).pool(pool);
        const slot = await cluster!.slotOf(k.operation('any'));
        return {
          pool,
          primary: primary.port,
          sameSlot: (await cluster!.slotOf(`${k.queuePrefix}:${pool}:wait`)) === slot && (await cluster!.slotOf(k.finishedChannel)) === slot,
          keysThere: (await askRedis<number>(primary.port, 'CLUSTER', 'COUNTKEYSINSLOT', slot)) ?? 0,
        };
      }),
    );

    load.phase = 'failover';
    const victim = pools[0]!;
    const slot = await cluster.slotOf(keys(prefix).pool(victim.pool).queuePrefix);
    const at = Date.now();
    await cluster.kill(victim.primary, 'SIGKILL');
    const { at: promoted, primary: replacement } = await cluster.promotion(victim.primary, slot);
    load.phase = 'after';
    await load.done;
    clock.lap('load');
    const figures = await settle(dispatchers[0]!, load.accepted, marker, 90_000);
    // New work of the pool whose shard failed over: taken from its new primary.
    const firstStart = await firstStartAfter(
      dispatchers[0]!,
      [...load.accepted].filter((ticket) => poolOf(ticket) === victim.pool),
      promoted,
    );
    clock.lap('settle');
    const newWorkSeconds = firstStart === undefined ? undefined : (firstStart - promoted) / 1000;
    console.info(`[faults] last end after the promotion, s: ${JSON.stringify(await lastEndByPool(dispatchers[0]!, [...load.accepted], poolOf, promoted))}`);
    console.info(`[faults] pools on primaries: ${JSON.stringify(placed)}`);
    report('Cluster: a primary SIGKILLed', load, figures, { ...clock.laps, failover: (promoted - at) / 1000, newWork: newWorkSeconds ?? -1 });

    expect(new Set(placed.map((p) => p.primary)).size).toBe(3);
    expect(placed.filter((p) => !p.sameSlot || p.keysThere === 0)).toEqual([]);
    expect(replacement.port).not.toBe(victim.primary.port);
    expect({ hangs: load.hangs.length, unexpected: load.unexpected.slice(0, 3) }).toEqual({ hangs: 0, unexpected: [] });
    expect(load.longestWaitMs).toBeLessThanOrEqual(10_000);
    expect(figures).toMatchObject({ submitted: count, ended: count, repeated: 0, lost: 0, ranUnaccepted: 0 });
    expect(figures.outcomes).toEqual({ succeeded: count });
    expect(newWorkSeconds).toBeDefined();
    expect(newWorkSeconds!).toBeLessThanOrEqual(30);
  });
});
