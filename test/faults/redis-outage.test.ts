import { describe, expect, it } from 'vitest';
import { useDeployment } from './support/deployment.js';
import { countedOperation, markerFile, settle } from './support/ledger.js';
import { Load } from './support/load.js';
import { report, stopwatch } from './support/report.js';

/** Longer than a client's timeout, so that a request waiting for Redis shows as a hang. */
const OUTAGE_MS = 8_000;

describe.each(['SIGTERM', 'SIGKILL'] as const)('Redis stopped with %s during 500 submissions', (signal) => {
  const start = useDeployment();

  it('every accepted operation ends in a final state, none runs twice, and clients see 503 or success, never a hang', async () => {
    const clock = stopwatch();
    const redis = await start.ownRedis();
    const processes = await start.processes(
      redis.url,
      { dispatchers: 2, executors: 2 },
      { KUBE_WORKER_CONCURRENCY: '8', KUBE_WORKER_LOCK_DURATION_MS: '10000' },
    );
    clock.lap('start');
    const marker = await markerFile();
    const load = new Load({
      dispatchers: processes.dispatchers.map((d) => d.url),
      count: 500,
      clients: 4,
      pauseMs: 40,
      operation: countedOperation(marker, 0.2),
      ticketPrefix: `redis-${signal.toLowerCase()}`,
    });
    await Promise.race([load.whenAccepted(150), load.done]);
    clock.lap('before');
    load.phase = 'outage';
    await redis.stop(signal);
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await redis.start();
    load.phase = 'after';
    clock.lap('outage');
    await load.done;
    clock.lap('after');
    const figures = await settle(processes.dispatchers[0]!.url, load.accepted, marker, 90_000);
    clock.lap('settle');
    report(`Redis ${signal}`, load, figures, clock.laps);

    expect({ hangs: load.hangs.length, unexpected: load.unexpected.slice(0, 3) }).toEqual({ hangs: 0, unexpected: [] });
    expect(figures).toMatchObject({ submitted: 500, ended: 500, repeated: 0, lost: 0 });
    // Both executors live through the outage: every script's own result, none taken as lost.
    expect(figures.outcomes).toEqual({ succeeded: 500 });
  });
});
