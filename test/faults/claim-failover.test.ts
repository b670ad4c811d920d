/**
 * The claim an executor makes before it runs a script is on a replica first. Reproduced on
 * purpose: operations are accepted (on every replica), then the replicas are frozen and their links
 * cut, an executor claims the operations on the primary alone, and the primary is SIGKILLed before
 * any replica has the claims. The new primary has them queued: without the claim kept, they are
 * delivered again as never claimed, and their scripts run twice (or the first run's result is
 * refused and the operation never ends).
 */
import { describe, expect, it, onTestFailed } from 'vitest';
import { keys } from '../../core/keys.js';
import { askRedis } from '../support/redis-server.js';
import { waitUntil } from '../support/wait-until.js';
import { call } from './support/client.js';
import { useDeployment } from './support/deployment.js';
import { countedOperation, markerFile, settle } from './support/ledger.js';

const OPERATIONS = 4;

describe('a primary SIGKILLed after an executor claimed operations that no replica has yet', () => {
  const start = useDeployment();

  it('runs each script once, and each operation ends with its own result', async () => {
    const group = await start.sentinelGroup();
    const marker = await markerFile();
    const processes = await start.processes(group.url, { dispatchers: 1, executors: 0 }, { KUBE_WORKER_CONCURRENCY: String(OPERATIONS) });
    const dispatcher = processes.dispatchers[0]!.url;
    const accepted = new Set<string>();
    for (let i = 0; i < OPERATIONS; i += 1) {
      const ticket = `claimed-${i}`;
      const answer = await call(dispatcher, 'POST', '/api/v1/operations', { ...countedOperation(marker, 1)(ticket), ticket }, 15_000);
      expect(answer).toMatchObject({ kind: 'answer', status: 202 });
      accepted.add(ticket);
    }

    const primary = await group.primary();
    const replicas = group.nodes.filter((n) => n !== primary && n.running);
    for (const replica of replicas) group.freeze(replica);
    await askRedis(primary.port, 'CLIENT', 'KILL', 'TYPE', 'replica');
    const executor = await processes.addExecutor();
    onTestFailed(() => console.info(`executor output:\n${executor.output()}`));
    const records = keys(processes.deployment.prefix).pool('default');
    await waitUntil(
      'the executor has claimed every operation on the primary',
      async () => {
        for (const ticket of accepted) if ((await askRedis<string>(primary.port, 'HGET', records.operation(ticket), 'state')) === 'queued') return false;
        return true;
      },
      60_000,
    );

    await group.kill(primary, 'SIGKILL');
    for (const replica of replicas) group.thaw(replica);
    await group.promotion(primary);
    const figures = await settle(dispatcher, accepted, marker, 90_000);
    console.info(`[faults] claim lost with the primary: ${JSON.stringify(figures)}`);
    expect(figures).toMatchObject({ submitted: OPERATIONS, ended: OPERATIONS, repeated: 0, lost: 0 });
    expect(figures.outcomes).toEqual({ succeeded: OPERATIONS });
  });
});
