/**
 * Acknowledged means kept: a burst of submissions answered 202, then the primary SIGKILLed at once.
 * The burst is sent while the replicas lag: they are frozen (SIGSTOP) and their links to the primary
 * cut (CLIENT KILL TYPE replica), and they resume 3 s into the burst (longer than a burst takes to be answered without waiting) — the window in which
 * asynchronous replication loses what the primary acknowledged. Counted twice on one Sentinel
 * group: a deployment that answers without waiting for a replica (KUBE_WORKER_REDIS_WAIT_MS=0),
 * and one that waits.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { call } from './support/client.js';
import { useDeployment, type Processes } from './support/deployment.js';
import { countedOperation, markerFile, settle, type Figures } from './support/ledger.js';
import type { SentinelGroup } from './support/sentinel-group.js';

const BURST = 60;

describe('a primary SIGKILLed right after a burst of 202s', () => {
  const start = useDeployment();
  let group: SentinelGroup | undefined;

  /** Submits BURST operations at once through `processes`, SIGKILLs the primary after the last answer, and counts what became of the accepted ones. */
  async function burstThenKill(processes: Processes, name: string, marker: string): Promise<Figures & { refused: number; longestMs: number }> {
    const primary = await group!.primary();
    const replicas = group!.nodes.filter((n) => n !== primary && n.running);
    for (const replica of replicas) group!.freeze(replica);
    const admin = new Redis(primary.url);
    await admin.client('KILL', 'TYPE', 'replica');
    admin.disconnect();
    const thaw = setTimeout(() => replicas.forEach((r) => group!.thaw(r)), 3000);
    const accepted = new Set<string>();
    let refused = 0;
    let longestMs = 0;
    const dispatcher = processes.dispatchers[0]!.url;
    await Promise.all(
      Array.from({ length: BURST }, async (_, i) => {
        const ticket = `${name}-${i}`;
        const started = Date.now();
        const outcome = await call(dispatcher, 'POST', '/api/v1/operations', { ...countedOperation(marker, 0)(ticket), ticket }, 15_000);
        longestMs = Math.max(longestMs, Date.now() - started);
        if (outcome.kind === 'answer' && (outcome.status === 202 || outcome.status === 200)) accepted.add(ticket);
        else refused += 1;
      }),
    );
    await group!.kill(primary, 'SIGKILL');
    clearTimeout(thaw);
    for (const replica of replicas) group!.thaw(replica);
    await group!.promotion(primary);
    const figures = await settle(dispatcher, accepted, marker, 60_000);
    await group!.restartAsReplica(primary);
    await group!.replicasInSync(2);
    return { ...figures, refused, longestMs };
  }

  it('loses none of the operations it acknowledged when it waits for the replicas', async () => {
    group = await start.sentinelGroup();
    const marker = await markerFile();
    // The replicas resume 3 s into the burst and catch up: a wait long enough to see them back.
    const [without, waiting] = await Promise.all([
      start.processes(group.url, { dispatchers: 1, executors: 1 }, {}, { KUBE_WORKER_REDIS_WAIT_MS: '0' }),
      start.processes(group.url, { dispatchers: 1, executors: 1 }, {}, { KUBE_WORKER_REDIS_WAIT_MS: '8000' }),
    ]);

    const unsafe = await burstThenKill(without, 'no-wait', marker);
    const safe = await burstThenKill(waiting, 'wait', marker);
    for (const [label, figures] of [
      ['without WAIT', unsafe],
      ['with WAIT', safe],
    ] as const) {
      console.info(
        `[faults] acknowledged then SIGKILL, ${label}: sent ${BURST}, accepted ${figures.submitted}, refused ${figures.refused}, ended ${figures.ended}, lost ${figures.lost}, repeated ${figures.repeated}` +
          `, outcomes ${JSON.stringify(figures.outcomes)}` +
          `, longest client wait ${(figures.longestMs / 1000).toFixed(1)}s` +
          (figures.lostExamples.length ? `\n  lost e.g. ${figures.lostExamples.slice(0, 2).join('; ').slice(0, 400)}` : ''),
      );
    }
    expect(safe.submitted).toBeGreaterThan(0);
    expect(safe).toMatchObject({ lost: 0, repeated: 0, ended: safe.submitted });
    // Each with its script's own result: one the failover took from the primary was written again.
    expect(safe.outcomes).toEqual({ succeeded: safe.submitted });
  });
});
