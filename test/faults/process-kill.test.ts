import { describe, expect, it } from 'vitest';
import { call } from './support/client.js';
import { useDeployment, type Processes } from './support/deployment.js';
import { countedOperation, markerFile, settle } from './support/ledger.js';
import { Load } from './support/load.js';
import { report, stopwatch } from './support/report.js';

/** Short, so that the operations of a killed executor are redelivered within the test. */
const LOCK = { KUBE_WORKER_LOCK_DURATION_MS: '2000' };

describe('a process of the deployment SIGKILLed under load', () => {
  const start = useDeployment();

  it('a dispatcher killed during 500 submissions: every accepted operation ends, none runs twice, none is lost', async () => {
    const clock = stopwatch();
    const redis = await start.ownRedis();
    const processes = await start.processes(redis.url, { dispatchers: 2, executors: 2 }, { ...LOCK, KUBE_WORKER_CONCURRENCY: '8' });
    clock.lap('start');
    const marker = await markerFile();
    const [doomed, survivor] = processes.dispatchers as [Processes['dispatchers'][0], Processes['dispatchers'][0]];
    const load = new Load({
      dispatchers: [doomed.url, survivor.url],
      count: 500,
      clients: 6,
      pauseMs: 20,
      operation: countedOperation(marker, 0.1),
      ticketPrefix: 'dispatcher-kill',
    });
    await Promise.race([load.whenAccepted(200), load.done]);
    clock.lap('before');
    load.phase = 'killed';
    await doomed.kill('SIGKILL');
    await load.done;
    clock.lap('after');
    const figures = await settle(survivor.url, load.accepted, marker, 90_000);
    clock.lap('settle');
    report('dispatcher SIGKILL', load, figures, clock.laps);

    expect({ hangs: load.hangs.length, unexpected: load.unexpected.slice(0, 3) }).toEqual({ hangs: 0, unexpected: [] });
    expect(figures).toMatchObject({ submitted: 500, ended: 500, repeated: 0, lost: 0 });
  });

  it('an executor killed with 20 operations running: every accepted operation ends, none runs twice, none is lost', async () => {
    const clock = stopwatch();
    const redis = await start.ownRedis();
    const processes = await start.processes(redis.url, { dispatchers: 1, executors: 0 }, LOCK);
    // Alone at first, so that it has 20 running at once; the executor that takes over starts after the kill.
    const doomed = await processes.addExecutor({ KUBE_WORKER_CONCURRENCY: '20' });
    clock.lap('start');
    const url = processes.dispatchers[0]!.url;
    const marker = await markerFile();
    const load = new Load({ dispatchers: [url], count: 60, clients: 8, pauseMs: 0, operation: countedOperation(marker, 5), ticketPrefix: 'executor-kill' });

    // The executor id names the process (host-pid-…), and each run's first line names its executor.
    const runningOnDoomed = async (): Promise<number> => {
      const states = await Promise.all(
        [...load.accepted].map(async (ticket) => {
          const outcome = await call(url, 'GET', `/api/v1/operations/${ticket}?limit=1`);
          const body = outcome.kind === 'answer' ? (outcome.body as { state?: string; logs?: Array<{ text: string }> }) : {};
          return body.state === 'running' && body.logs?.[0]?.text.includes(`-${doomed.pid}-`);
        }),
      );
      return states.filter(Boolean).length;
    };
    // Killed in any case, so that the figures say what happened even when 20 were never reached.
    let mostRunning = 0;
    for (const deadline = Date.now() + 120_000; mostRunning < 20 && Date.now() < deadline;) {
      mostRunning = Math.max(mostRunning, await runningOnDoomed());
      await new Promise((r) => setTimeout(r, 500));
    }
    clock.lap('before');
    load.phase = 'killed';
    await doomed.kill('SIGKILL');
    await Promise.all([load.done, processes.addExecutor({ KUBE_WORKER_CONCURRENCY: '8' })]);
    clock.lap('after');
    const figures = await settle(url, load.accepted, marker, 90_000);
    clock.lap('settle');
    report(`executor SIGKILL with ${mostRunning} running`, load, figures, clock.laps);

    expect(mostRunning).toBeGreaterThanOrEqual(20);
    expect({ hangs: load.hangs.length, unexpected: load.unexpected.slice(0, 3) }).toEqual({ hangs: 0, unexpected: [] });
    expect(figures).toMatchObject({ submitted: 60, ended: 60, repeated: 0, lost: 0 });
  });
});
